import MusterService
import Testing

/// glibc's heap controls (HeapDiscipline): the figures move with what is
/// allocated, and a trim hands freed pages back.
@Suite struct HeapDisciplineTests {
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
