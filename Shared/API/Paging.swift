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
/// opaque to clients: `s<seq>`, the `seq` column of the last item on the
/// previous page. Its syntax is exactly the OpenAPI documents' pattern
/// `^s[0-9]{1,18}$`, so every cursor the document allows is read (a cursor
/// past the end is an empty page) and every other one is a 400.
public struct PageRequest: Sendable, Equatable {
    /// Items per page.
    public var limit: Int
    /// The `seq` the page continues from; nil for the first page.
    public var afterSeq: Int64?

    /// The paging query parameters of `request`; a 400 naming the field when one is malformed.
    public init(_ request: Request) throws {
        let query = request.uri.queryParameters
        limit = try query["limit"].map { raw in
            // Plain decimal digits only (Int("+5") would take a sign the document does not allow).
            guard raw.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(String(raw)),
                  (1...100).contains(value) else {
                throw APIError.badRequest(field: "limit", rule: "range", "limit must be an integer from 1 to 100")
            }
            return value
        } ?? 20
        afterSeq = try query["cursor"].map { raw in
            guard let seq = Self.seq(ofCursor: Substring(raw)) else {
                throw APIError.badRequest(field: "cursor", rule: "format", "cursor must be a nextCursor value from an earlier page")
            }
            return seq
        }
    }

    /// The opaque cursor of the page after the item with `seq`.
    public static func cursor(after seq: Int64) -> String { "s\(seq)" }

    /// The `seq` of a cursor matching `^s[0-9]{1,18}$`, or nil.
    static func seq(ofCursor cursor: Substring) -> Int64? {
        let digits = cursor.dropFirst()
        guard cursor.first == "s", (1...18).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        return Int64(digits)
    }
}
