import Foundation
import CCurl

/// Turns a failed libcurl result into the client's error vocabulary.
enum CurlResultMapping {
    /// Maps `code` (never `CURLE_OK`) for a transfer to `url`. `detail` is the
    /// CURLOPT_ERRORBUFFER text, which is more specific than curl_easy_strerror.
    static func error(code: Int, detail: String, url: String) -> HTTPClientError {
        let redacted = HTTPClientError.redact(url)
        let reason = scrub(detail.isEmpty ? strerror(code) : detail, url: url)
        switch code {
        case Int(CURLE_OPERATION_TIMEDOUT.rawValue):
            return .timedOut(url: redacted)
        case Int(CURLE_COULDNT_CONNECT.rawValue), Int(CURLE_COULDNT_RESOLVE_HOST.rawValue),
            Int(CURLE_COULDNT_RESOLVE_PROXY.rawValue):
            return .connectFailed(url: redacted, reason: reason)
        default:
            return .transport(url: redacted, code: code, reason: reason)
        }
    }

    /// libcurl's generic message for `code`.
    static func strerror(_ code: Int) -> String {
        String(cString: curl_easy_strerror(CURLcode(UInt32(truncatingIfNeeded: code))))
    }

    /// Removes the URL's query from a libcurl message, should libcurl ever quote it.
    static func scrub(_ message: String, url: String) -> String {
        guard let mark = url.firstIndex(of: "?") else { return message }
        let query = String(url[mark...])
        guard query.count > 1 else { return message }
        return message.replacingOccurrences(of: query, with: "?<redacted>")
    }
}
