@testable import MusterHTTP
import Testing

@Suite("HTTP client pure logic")
struct HTTPPureLogicTests {
    @Test("Only the last header block is kept, names and values trimmed")
    func headerBlocks() {
        var accumulator = ResponseHeaderAccumulator()
        for line in ["HTTP/1.1 100 Continue\r\n", "X-Early: 1\r\n", "\r\n",
                     "HTTP/1.1 200 OK\r\n", "Content-Type:  application/json \r\n", "x-amzn-ErrorType: Thing:http\r\n",
                     "Set-Cookie: a=1\r\n", "Set-Cookie: b=2\r\n", "\r\n"] {
            accumulator.consume(Array(line.utf8))
        }
        #expect(accumulator.headers == [
            HTTPHeader("Content-Type", "application/json"), HTTPHeader("x-amzn-ErrorType", "Thing:http"),
            HTTPHeader("Set-Cookie", "a=1"), HTTPHeader("Set-Cookie", "b=2"),
        ])
        #expect(accumulator.headers.values(named: "set-cookie") == ["a=1", "b=2"])
    }

    @Test("redact drops query, fragment and user info", arguments: [
        ("https://sts.amazonaws.com/?Action=AssumeRole&X-Amz-Signature=abc", "https://sts.amazonaws.com/"),
        ("http://user:pw@host:8080/path?q=1#frag", "http://host:8080/path"),
        ("http://host/path#frag", "http://host/path"),
        ("http://host", "http://host"),
    ])
    func redact(input: String, expected: String) {
        #expect(HTTPClientError.redact(input) == expected)
    }

    @Test("Error descriptions say what to check and hide the query")
    func errorDescriptions() {
        let error = CurlResultMapping.error(code: 28, detail: "Operation timed out after 300 milliseconds", url: "http://h/p?token=s3cret")
        #expect(error == .timedOut(url: "http://h/p"))
        #expect(!error.description.contains("s3cret"))
        let connect = CurlResultMapping.error(code: 7, detail: "Failed to connect to h port 1 via ?token=s3cret", url: "http://h:1/?token=s3cret")
        #expect(!connect.description.contains("s3cret"))
        guard case .connectFailed = connect else {
            Issue.record("code 7 should map to connectFailed")
            return
        }
        let other = CurlResultMapping.error(code: 35, detail: "", url: "https://h/")
        guard case .transport(_, 35, let reason) = other else {
            Issue.record("code 35 should map to transport")
            return
        }
        #expect(!reason.isEmpty, "falls back to curl_easy_strerror")
    }

    @Test("Durations become libcurl milliseconds, never 0")
    func milliseconds() {
        #expect(Duration.seconds(5).curlMilliseconds == 5000)
        #expect(Duration.milliseconds(300).curlMilliseconds == 300)
        #expect(Duration.microseconds(1).curlMilliseconds == 1)
        #expect(Duration.nanoseconds(1_500_000).curlMilliseconds == 2)
    }

    @Test("Sensitive headers are redacted in descriptions")
    func headerDescription() {
        #expect(HTTPHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AKID").description == "Authorization: <redacted>")
        #expect(HTTPHeader("X-Amz-Security-Token", "tok").description == "X-Amz-Security-Token: <redacted>")
        #expect(HTTPHeader("Accept", "*/*").description == "Accept: */*")
    }
}
