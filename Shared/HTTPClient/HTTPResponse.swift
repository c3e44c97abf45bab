/// What the server answered. Every status — 404 and 500 included — arrives
/// here; only transport failures throw.
public struct HTTPResponse: Sendable {
    /// The status code of the final response (after any `100 Continue`).
    public var status: Int
    /// The header fields of the final response, in arrival order.
    public var headers: [HTTPHeader]
    /// The response body, decoded from any transfer encoding.
    public var body: [UInt8]

    /// Creates a response (tests and stubs build these by hand).
    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
