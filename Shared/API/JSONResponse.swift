import Foundation
import Hummingbird
import MusterEvents

/// JSON responses with the event conventions (sorted keys, millisecond
/// RFC 3339 dates), so API bodies and event payloads read the same.
public enum JSONResponse {
    /// `body` as `application/json; charset=utf-8` with `status`.
    public static func make<T: Encodable>(_ status: HTTPResponse.Status, _ body: T) throws -> Response {
        let data = try EventCoding.encoder.encode(body)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 204 with no body.
    public static func noContent() -> Response { Response(status: .noContent) }
}
