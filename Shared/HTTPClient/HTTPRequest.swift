/// An HTTP request for ``HTTPClient``. A plain value: build it, sign it,
/// hand it to ``HTTPClient/execute(_:)``.
public struct HTTPRequest: Sendable {
    /// The method token, e.g. `GET`, `POST`, `DELETE`.
    public var method: String
    /// The absolute `http://` or `https://` URL, query already percent-encoded.
    public var url: String
    /// Header fields sent as given (duplicates allowed, order kept).
    public var headers: [HTTPHeader]
    /// The request body; empty means none (a `POST` then sends `Content-Length: 0`).
    public var body: [UInt8]
    /// How long to wait for the TCP (and TLS) connection to be established.
    public var connectTimeout: Duration
    /// The limit for the whole transfer, connecting and queueing included.
    public var timeout: Duration
    /// Whether the server's TLS certificate and host name are verified. Only
    /// tests against self-signed endpoints should turn this off.
    public var verifyTLS: Bool
    /// Whether the call is a span of the current trace and carries its
    /// `traceparent`/`tracestate` headers (when a tracer is installed). Only
    /// the trace exporter's own requests turn this off.
    public var traced = true

    /// Creates a request; the defaults suit a JSON API call.
    public init(
        method: String = "GET",
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8] = [],
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(30),
        verifyTLS: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.verifyTLS = verifyTLS
    }

    /// The first value of the header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }

    /// Checks what libcurl would otherwise reject obscurely or, worse, send
    /// verbatim: header injection through CR/LF, a non-HTTP scheme, a bad method.
    func validate() throws(HTTPClientError) {
        let lowerURL = url.lowercased()
        guard lowerURL.hasPrefix("http://") || lowerURL.hasPrefix("https://") else {
            throw .invalidRequest("URL \(HTTPClientError.redact(url)) must start with http:// or https://")
        }
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalidRequest("URL \(HTTPClientError.redact(url)) contains spaces or control characters; percent-encode them")
        }
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            throw .invalidRequest("method '\(method)' is not a valid HTTP token")
        }
        for header in headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenByte) else {
                throw .invalidRequest("header name '\(header.name)' is not a valid HTTP token")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidRequest("header '\(header.name)' has CR, LF or NUL in its value")
            }
        }
        guard connectTimeout > .zero, timeout > .zero else {
            throw .invalidRequest("timeouts must be positive")
        }
    }
}

/// RFC 9110 `tchar`.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}
