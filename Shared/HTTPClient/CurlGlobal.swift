import CCurl
import MusterDomain

/// libcurl's process-wide initialisation. It must run once, before any other
/// libcurl call and not concurrently with one; a lazily initialised global
/// gives exactly that (Swift runs global initialisers once, thread-safely).
enum CurlGlobal {
    private static let initResult: Int = Int(curl_global_init(CCurl_global_all).rawValue)

    /// Initialises libcurl if nobody has yet; returns libcurl's result code.
    static func ensureInitialized() -> Int { initResult }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a tiny positive timeout does not
    /// become libcurl's 0 ("no timeout").
    var curlMilliseconds: Int {
        Int(max(1, millisecondsRoundedUp))
    }
}
