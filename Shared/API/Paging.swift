import Foundation
import Hummingbird

/// A list response with an opaque cursor for the next page.
public struct Page<Item: Encodable>: Encodable {
    /// The items of this page.
    public var items: [Item]
    /// The `cursor` of the next page; nil on the last page.
    public var nextCursor: String?

    /// A page of `items`, followed by the page at `nextCursor` if any.
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// `limit` (1…100, default 20) and `cursor` of a list request. A cursor is
/// opaque to clients: base64 of `s:<seq>`, the `seq` column of the last item
/// on the previous page.
public struct PageRequest: Sendable, Equatable {
    /// Items per page.
    public var limit: Int
    /// The `seq` the page continues from; nil for the first page.
    public var afterSeq: Int64?

    /// The paging query parameters of `request`; a 400 naming the field when one is malformed.
    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        limit = try query["limit"].map { raw in
            guard let value = Int(String(raw)), (1...100).contains(value) else {
                throw APIError.badRequest(field: "limit", rule: "range", "limit must be an integer from 1 to 100")
            }
            return value
        } ?? 20
        afterSeq = try query["cursor"].map { raw in
            guard let data = Data(base64Encoded: String(raw)), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("s:"), let seq = Int64(text.dropFirst(2)) else {
                throw APIError.badRequest(field: "cursor", rule: "format", "cursor must be a nextCursor value from an earlier page")
            }
            return seq
        }
    }

    /// The opaque cursor of the page after the item with `seq`.
    public static func cursor(after seq: Int64) -> String { Data("s:\(seq)".utf8).base64EncodedString() }
}
