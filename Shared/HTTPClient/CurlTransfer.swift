import CCurl

/// One request's libcurl easy handle and the response arriving on it.
/// Created, driven and destroyed on the loop thread only; callers never see it.
final class CurlTransfer {
    let id: UInt64
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    /// The request URL, kept to build (redacted) error messages.
    let url: String
    /// The `CURL *`; `curl_easy_cleanup` runs in `deinit`.
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    fileprivate var body: [UInt8] = []
    fileprivate var headers = ResponseHeaderAccumulator()

    /// Creates and configures the easy handle for `submission.request`.
    init(_ submission: Submission) throws(HTTPClientError) {
        guard let easy = curl_easy_init() else {
            throw .transport(url: HTTPClientError.redact(submission.request.url), code: -1,
                             reason: "libcurl could not allocate a transfer (out of memory?)")
        }
        self.id = submission.id
        self.continuation = submission.continuation
        self.url = submission.request.url
        self.easy = easy
        self.errorBuffer = .allocate(capacity: CCurl_error_size)
        errorBuffer.initialize(repeating: 0, count: CCurl_error_size)
        let code = configure(submission.request)
        guard code == CURLE_OK else {
            throw CurlResultMapping.error(code: Int(code.rawValue), detail: errorDetail, url: url)
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// The outcome once libcurl reports the transfer done with `code`.
    func result(code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard code == CURLE_OK else {
            return .failure(CurlResultMapping.error(code: Int(code.rawValue), detail: errorDetail, url: url))
        }
        var status = 0
        _ = CCurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: headers.headers, body: body))
    }

    private var errorDetail: String { String(cString: errorBuffer) }

    /// Applies every option; returns the first failure (options fail only on
    /// out-of-memory or when libcurl lacks a feature, e.g. TLS).
    private func configure(_ request: HTTPRequest) -> CURLcode {
        var status = CURLE_OK
        func apply(_ option: @autoclosure () -> CURLcode) {
            if status == CURLE_OK { status = option() }
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        apply(CCurl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        apply(CCurl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        apply(CCurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))  // threads and signals don't mix
        apply(CCurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        apply(CCurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds))
        apply(CCurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds))
        apply(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, request.verifyTLS ? 1 : 0))
        apply(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0))
        apply(CCurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        apply(CCurl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        apply(CCurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
        apply(CCurl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        apply(CCurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
        apply(setMethodAndBody(request))
        apply(installHeaders(request))
        return status
    }

    /// GET and HEAD have dedicated options; every other method, and any
    /// request with a body, sends its body (possibly empty, so that PUT/POST
    /// carry `Content-Length: 0`) and names the method explicitly.
    private func setMethodAndBody(_ request: HTTPRequest) -> CURLcode {
        let method = request.method.uppercased()
        if request.body.isEmpty && method == "GET" {
            return CCurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        }
        if request.body.isEmpty && method == "HEAD" {
            return CCurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        }
        let sendsBody = !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(method)
        if sendsBody {
            let code = CCurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            guard code == CURLE_OK else { return code }
            // COPYPOSTFIELDS: libcurl keeps its own copy, so the array's lifetime doesn't matter.
            let copied = request.body.isEmpty
                ? CCurl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
                : request.body.withUnsafeBytes { bytes in
                    CCurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
            guard copied == CURLE_OK else { return copied }
            if method == "POST" { return CURLE_OK }
        }
        return CCurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
    }

    /// Sends the caller's headers verbatim, and switches off the ones libcurl
    /// would add on its own (`Expect: 100-continue`, a form Content-Type).
    private func installHeaders(_ request: HTTPRequest) -> CURLcode {
        var lines = request.headers.map { header in
            // "Name;" is libcurl's spelling for a header with an empty value.
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        if request.header("Expect") == nil { lines.append("Expect:") }
        if request.header("Content-Type") == nil { lines.append("Content-Type:") }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else { return CURLE_OUT_OF_MEMORY }
            headerList = appended
        }
        return CCurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
    }

    fileprivate func appendBody(_ bytes: UnsafeRawBufferPointer) { body.append(contentsOf: bytes) }
    fileprivate func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) { headers.consume(bytes) }
}

/// CURLOPT_WRITEFUNCTION: called on the loop thread with body bytes.
private func curlWriteBody(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let buffer, let userdata else { return length }
    Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
        .appendBody(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

/// CURLOPT_HEADERFUNCTION: called on the loop thread once per header line.
private func curlWriteHeader(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let buffer, let userdata else { return length }
    Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
        .appendHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}
