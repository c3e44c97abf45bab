import Foundation
import MusterService
import Testing

/// glibc's heap controls (HeapDiscipline): the figures move with what is
/// allocated, a trim hands freed pages back, and the fixed mmap threshold holds.
/// Serialized: the 40 MB the trim test frees is a free chunk big enough to serve
/// the threshold test's block from an arena if the two ran side by side.
@Suite(.serialized) struct HeapDisciplineTests {
    /// Whether glibc served `pointer` from its own mapping: the IS_MMAPPED bit (0x2) of the
    /// chunk's size word, just before the pointer (glibc's chunk layout).
    func isMapped(_ pointer: UnsafeMutableRawPointer) -> Bool {
        (pointer - MemoryLayout<Int>.size).load(as: Int.self) & 0x2 != 0
    }

    /// The sizes are large on purpose: the threshold only decides for a request that no free
    /// chunk of the arena can serve, and no other test of the process frees 20 MiB at once.
    @Test func aFixedThresholdKeepsMappingBigBlocksAfterABiggerOneWasFreed() {
        HeapDiscipline.fixMmapThreshold(131_072)
        // With glibc's dynamic threshold, freeing a mapped 24 MiB block raises the threshold to
        // 24 MiB (it follows freed mapped blocks up to 32 MiB), and the next 20 MiB block would
        // come from an arena.
        let big = UnsafeMutableRawPointer.allocate(byteCount: 24 << 20, alignment: 16)
        #expect(isMapped(big))
        big.deallocate()
        let next = UnsafeMutableRawPointer.allocate(byteCount: 20 << 20, alignment: 16)
        #expect(isMapped(next), "20 MiB ≥ the fixed 128 KiB threshold: its own mapping, returned on free")
        next.deallocate()
        let small = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
        #expect(!isMapped(small), "below the threshold: from an arena")
        small.deallocate()
    }

    /// Resident anonymous memory of this process, from /proc (Linux), in bytes.
    func residentAnonymous() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    @Test func usageFollowsAllocationsAndATrimReturnsFreedPages() throws {
        let before = try #require(HeapDiscipline.usage())
        // 40 MB in 4 KB blocks: below the mmap threshold, so they live in the heap.
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<10_000 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 4096)
            blocks.append(block)
        }
        let held = try #require(HeapDiscipline.usage())
        #expect(held.inUse >= before.inUse + 35_000_000, "in use grew by the 40 MB held")
        // Keep the last block so the freed ones sit below the top of the heap, where glibc
        // does not give memory back by itself.
        for block in blocks.dropLast() { block.deallocate() }
        let freedNotTrimmed = try residentAnonymous()
        HeapDiscipline.trim()
        let trimmed = try residentAnonymous()
        #expect(trimmed <= freedNotTrimmed - 20_000_000, "the trim returned most of the freed 40 MB")
        blocks.last?.deallocate()
    }
}

/// The default time zone (HeapDiscipline).
@Suite struct HeapDisciplineSettingsTests {
    @Test func theDefaultTimeZoneIsGMTAndDatesStillFormatInUTC() {
        HeapDiscipline.useGMTAsDefaultTimeZone()
        #expect(NSTimeZone.default == TimeZone.gmt)
        #expect(NSTimeZone.default.secondsFromGMT() == 0)
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        #expect(date.formatted(.iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
            == "2023-11-14T22:13:20.250Z")
    }
}

/// The thread-cache size, a glibc tunable set by starting the program again (HeapDiscipline).
@Suite struct ThreadCacheTunablesTests {
    @Test func aSizeOtherThanGlibcsIsAddedToTheTunablesKeepingTheOperatorsOthers() {
        #expect(HeapDiscipline.threadCacheTunables(chunks: 0, environment: [:]) == "glibc.malloc.tcache_count=0")
        #expect(HeapDiscipline.threadCacheTunables(chunks: 2, environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=2"])
            == "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=2")
        #expect(HeapDiscipline.threadCacheTunables(chunks: 0, environment: ["GLIBC_TUNABLES": ""])
            == "glibc.malloc.tcache_count=0")
    }

    @Test func nothingChangesForGlibcsOwnSizeAnOperatorsChoiceOrASecondStart() {
        #expect(HeapDiscipline.threadCacheTunables(chunks: ServiceConfiguration.glibcThreadCache, environment: [:]) == nil)
        #expect(HeapDiscipline.threadCacheTunables(
            chunks: 0, environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.tcache_count=3"]) == nil)
        // Already started again once (e.g. a secure-mode start dropped GLIBC_TUNABLES): never loop.
        #expect(HeapDiscipline.threadCacheTunables(chunks: 0, environment: [HeapDiscipline.reexecutedMarker: "1"]) == nil)
    }
}
