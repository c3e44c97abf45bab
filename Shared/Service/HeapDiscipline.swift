import CMalloc
import Foundation
import Logging
import Metrics
import MusterMessaging
import ServiceLifecycle

/// Keeps a long-running service's heap close to what it uses (glibc's
/// allocator, docs/launcher.md "Memory").
///
/// Measured on the launcher after a 1,000-execution storm: glibc held
/// 36.5 MB of heap in 16 arenas (one per thread that ever contended) while
/// 10.6 MB were in use; the rest stayed resident because glibc returns freed
/// memory to the kernel only from the top of each arena. Two settings close
/// that gap:
/// - **fewer arenas** (`mallopt(M_ARENA_MAX)`): each arena keeps its own free
///   lists and peak, so 16 arenas keep 16 peaks. Set before the service
///   starts its own threads (librdkafka, libcurl, libpq, NIO).
/// - **a periodic trim** (`malloc_trim(0)`): hands every free page of every
///   arena back to the kernel (`MADV_DONTNEED`), not just the arena tops. It
///   walks the free lists, which costs well under a millisecond on a heap
///   this size; it runs on a timer only, never on a request path.
///
/// Other C libraries (musl, macOS) have no such knobs; there both are no-ops.
public enum HeapDiscipline {
    /// Applies `MUSTER_MALLOC_THREAD_CACHE` (default per service), `MUSTER_MALLOC_ARENAS` (default 1)
    /// and `MUSTER_MALLOC_MMAP_THRESHOLD` (default 131072) straight from the process environment,
    /// before any thread allocates: call it first thing on the main thread. A value that does not
    /// parse is left to the configuration reader, which refuses it with the documented error a
    /// moment later.
    ///
    /// `threadCacheDefault` is the service's `MUSTER_MALLOC_THREAD_CACHE` default
    /// (`ServiceDescriptor.mallocThreadCache`). A thread-cache size other than glibc's own can only
    /// be set before the process starts (a glibc tunable); when one is asked for and not yet in
    /// effect, the process executes itself again with it (``limitThreadCaches(_:environment:)``).
    public static func configureFromEnvironment(
        _ settings: EnvironmentSettings = EnvironmentSettings(),
        threadCacheDefault: Int = ServiceConfiguration.glibcThreadCache
    ) {
        if let chunks = try? ServiceConfiguration.mallocThreadCache(settings, default: threadCacheDefault) {
            limitThreadCaches(chunks, environment: settings.environment)
        }
        if let arenas = try? ServiceConfiguration.mallocArenas(settings) { limitArenas(arenas) }
        if let bytes = try? ServiceConfiguration.mallocMmapThreshold(settings) { fixMmapThreshold(bytes) }
    }

    /// The environment variable that marks a process as already executed again by
    /// ``limitThreadCaches(_:environment:)`` (so it never does it twice).
    public static let reexecutedMarker = "MUSTER_MALLOC_REEXECUTED"

    /// The `GLIBC_TUNABLES` value that gives each thread's malloc cache `chunks` chunks per size
    /// class, or nil when nothing is to change: glibc's default asked for, the variable already
    /// naming a `glibc.malloc.tcache_count` (the operator's wins), or the process already executed
    /// again once. Pure.
    ///
    /// Why it matters (docs/launcher.md "Memory"): each thread keeps up to 7 freed chunks of every
    /// size up to 1 KiB for itself (glibc's tcache). Those chunks count as in use, no trim returns
    /// them, and they pin the heap pages they sit on; over the launcher's 30 long-lived threads
    /// (librdkafka's, libcurl's, NIO's, the PostgreSQL queues') that was about half of the gap
    /// between what the heap held resident after the storm (17 MB) and what was live (5.5 MB).
    public static func threadCacheTunables(chunks: Int, environment: [String: String]) -> String? {
        guard chunks != ServiceConfiguration.glibcThreadCache, environment[reexecutedMarker] == nil else { return nil }
        let current = environment["GLIBC_TUNABLES"] ?? ""
        let entries = current.split(separator: ":").filter { !$0.isEmpty }
        guard !entries.contains(where: { $0.hasPrefix("glibc.malloc.tcache_count=") }) else { return nil }
        return (entries.map(String.init) + ["glibc.malloc.tcache_count=\(chunks)"]).joined(separator: ":")
    }

    /// Gives every thread's malloc cache `chunks` chunks per size class (glibc's default: 7). glibc
    /// reads that setting only when a program starts, so this sets `GLIBC_TUNABLES` and executes
    /// the same program again with the same arguments (same process id, file descriptors and
    /// environment otherwise): call it first thing on the main thread, before any other thread or
    /// work exists. If the new image cannot be started (no `/proc`), the process goes on with
    /// glibc's default cache. Does nothing where glibc is not the C library.
    public static func limitThreadCaches(_ chunks: Int, environment: [String: String]) {
        #if os(Linux) && canImport(Glibc)
        guard let tunables = threadCacheTunables(chunks: chunks, environment: environment) else { return }
        setenv("GLIBC_TUNABLES", tunables, 1)
        setenv(reexecutedMarker, "1", 1)
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Still here: the exec failed; carry on with the default cache, never try again.
        #endif
    }

    /// Limits the number of malloc arenas (0 leaves glibc's default of 8 per core).
    public static func limitArenas(_ count: Int) {
        #if os(Linux) && canImport(Glibc)
        if count > 0 { _ = mallopt(M_ARENA_MAX, Int32(clamping: count)) }
        #endif
    }

    /// Fixes the size from which an allocation gets its own mapping (0 leaves glibc's dynamic
    /// threshold). glibc starts at 128 KiB but raises the threshold to the size of every mapped
    /// block freed (up to 32 MiB), after which big buffers — fetch responses, JSON bodies — come
    /// from the arenas and leave holes there; a fixed threshold returns them to the kernel on free.
    public static func fixMmapThreshold(_ bytes: Int) {
        #if os(Linux) && canImport(Glibc)
        if bytes > 0 { _ = mallopt(M_MMAP_THRESHOLD, Int32(clamping: bytes)) }
        #endif
    }

    /// Returns free heap pages to the kernel; true when some were released.
    @discardableResult
    public static func trim() -> Bool {
        #if os(Linux) && canImport(Glibc)
        return malloc_trim(0) == 1
        #else
        return false
        #endif
    }

    /// Makes GMT the process's default time zone.
    ///
    /// Foundation resolves the default zone the first time a date is formatted or
    /// parsed through a calendar without an explicit zone (ISO-8601 format styles,
    /// `JSONEncoder`'s `.iso8601`, a log line's timestamp): on Linux it
    /// canonicalises the system zone's name with ICU, which maps ICU's zone, key-type
    /// and supplemental data (≈ 1.8 MB resident, measured, docs/launcher.md
    /// "Memory"). GMT is Foundation's own fixed zone and needs none of it. Every
    /// time Muster writes or reads is UTC, with an explicit offset.
    public static func useGMTAsDefaultTimeZone() {
        NSTimeZone.default = .gmt
    }

    /// Heap bytes in use and held free by the allocator (nil where unknown).
    public static func usage() -> (inUse: Int, free: Int)? {
        #if os(Linux) && canImport(Glibc)
        let info = mallinfo2()
        return (Int(info.uordblks + info.hblkhd), Int(info.fordblks))
        #else
        return nil
        #endif
    }
}

/// Trims the heap every `interval` (HeapDiscipline) and exports the heap's
/// use as `muster_process_heap_bytes{state="in_use"|"free"}`. Stops at
/// graceful shutdown.
public struct HeapTrimmer: Service {
    private let interval: Duration
    private let logger: Logger

    /// A trimmer waking every `interval` (a zero interval only waits for shutdown).
    public init(interval: Duration, logger: Logger) {
        self.interval = interval
        self.logger = logger
    }

    /// Trims until graceful shutdown (a `WorkLoop` that sleeps `interval` between passes).
    public func run() async throws {
        guard interval > .zero else { return try await gracefulShutdown() }
        let inUse = Gauge(label: "muster_process_heap_bytes", dimensions: [("state", "in_use")])
        let free = Gauge(label: "muster_process_heap_bytes", dimensions: [("state", "free")])
        let loop = WorkLoop(name: "heap-trimmer", timing: LoopTiming(idle: interval), logger: logger)
        try await loop.run {
            if let before = HeapDiscipline.usage() { inUse.record(before.inUse) }
            HeapDiscipline.trim()
            if let after = HeapDiscipline.usage() { free.record(after.free) }
            return .idle
        }
        logger.debug("heap trimmer stopped")
    }
}
