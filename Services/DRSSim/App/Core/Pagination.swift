import Foundation

/// Offset-based pagination with opaque tokens, as DRS's `maxResults`/`nextToken` work.
///
/// A token is bound to the operation that issued it, so a token passed to another operation
/// is a `ValidationException` rather than a silently wrong page.
enum Pagination {
    /// Items per page when the caller gives no `maxResults`.
    static let defaultPageSize = 1000

    /// One page of `items` and the token for the next (nil on the last page).
    static func page<T>(
        _ items: [T], maxResults: Int?, nextToken: String?, scope: String
    ) throws(DRSSimError) -> (items: [T], nextToken: String?) {
        try Validation.maxResults(maxResults)
        let offset = try nextToken.map { token throws(DRSSimError) in try decode(token, scope: scope) } ?? 0
        let size = maxResults ?? defaultPageSize
        let start = min(offset, items.count)
        let end = min(start + size, items.count)
        let next = end < items.count ? encode(offset: end, scope: scope) : nil
        return (Array(items[start..<end]), next)
    }

    static func encode(offset: Int, scope: String) -> String {
        Data("drs-sim:\(scope):\(offset)".utf8).base64EncodedString()
    }

    static func decode(_ token: String, scope: String) throws(DRSSimError) -> Int {
        guard let data = Data(base64Encoded: token),
              let text = String(data: data, encoding: .utf8),
              text.hasPrefix("drs-sim:\(scope):"),
              let offset = Int(text.dropFirst("drs-sim:\(scope):".count)), offset >= 0
        else {
            throw .invalidField("nextToken", "is not a token this operation issued; pass the nextToken of the previous \(scope) answer")
        }
        return offset
    }
}
