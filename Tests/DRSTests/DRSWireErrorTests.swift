import Foundation
@testable import MusterDRS
import MusterHTTP
import Testing

@Suite("DRS error mapping")
struct DRSWireErrorTests {
    func map(_ status: Int, _ headers: [HTTPHeader] = [], _ body: String) -> DRSError {
        DRSWireError.error(status: status, headers: headers, body: Array(body.utf8))
    }

    @Test("The error type comes from x-amzn-ErrorType (suffix stripped) or __type (namespace stripped)")
    func errorTypeSources() {
        #expect(DRSWireError.errorType(header: "ConflictException:http://internal.amazon.com/coral/com.amazonaws.drs/", bodyType: nil) == "ConflictException")
        #expect(DRSWireError.errorType(header: nil, bodyType: "com.amazonaws.drs#ThrottlingException") == "ThrottlingException")
        #expect(DRSWireError.errorType(header: nil, bodyType: "ValidationException") == "ValidationException")
        #expect(DRSWireError.errorType(header: "AccessDeniedException", bodyType: "com.amazonaws.drs#Other") == "AccessDeniedException")
        #expect(DRSWireError.errorType(header: nil, bodyType: nil) == nil)
    }

    @Test("Every modelled error maps to its case with the right retryability")
    func modelledErrors() {
        let cases: [(DRSError, String, Bool)] = [
            (map(409, [HTTPHeader("x-amzn-ErrorType", "ConflictException:http://x/")], #"{"message":"busy","resourceId":"s-1","resourceType":"SOURCE_SERVER"}"#), "ConflictException", false),
            (map(429, [HTTPHeader("x-amzn-ErrorType", "ThrottlingException"), HTTPHeader("Retry-After", "7")], #"{"message":"Rate exceeded"}"#), "ThrottlingException", true),
            (map(402, [], #"{"__type":"com.amazonaws.drs#ServiceQuotaExceededException","message":"too many jobs","quotaCode":"L-1234"}"#), "ServiceQuotaExceededException", false),
            (map(400, [], #"{"__type":"ValidationException","message":"bad","reason":"fieldValidationFailed","fieldList":[{"name":"sourceServers","message":"too many"}]}"#), "ValidationException", false),
            (map(400, [HTTPHeader("X-Amzn-Errortype", "UninitializedAccountException")], #"{"message":"init first"}"#), "UninitializedAccountException", false),
            (map(403, [HTTPHeader("x-amzn-ErrorType", "AccessDeniedException")], #"{"Message":"no drs:StartRecovery"}"#), "AccessDeniedException", false),
            (map(404, [HTTPHeader("x-amzn-ErrorType", "ResourceNotFoundException")], #"{"message":"no such server"}"#), "ResourceNotFoundException", false),
            (map(500, [HTTPHeader("x-amzn-ErrorType", "InternalServerException"), HTTPHeader("Retry-After", "3")], #"{"message":"oops"}"#), "InternalServerException", true),
        ]
        for (error, type, retryable) in cases {
            #expect(error.errorType == type)
            #expect(error.isRetryable == retryable, "\(type)")
        }
        #expect(cases[1].0.retryAfterSeconds == 7)
        #expect(cases[7].0.retryAfterSeconds == 3)
        #expect(cases[0].0.retryAfterSeconds == nil)
        guard case .conflict(let conflict) = cases[0].0, case .validation(let validation) = cases[3].0,
            case .accessDenied(let denied) = cases[5].0, case .serviceQuotaExceeded(let quota) = cases[2].0
        else {
            Issue.record("cases mapped to the wrong enum cases")
            return
        }
        #expect(conflict.resourceId == "s-1")
        #expect(validation.reason == .fieldValidationFailed)
        #expect(validation.fieldList?.first?.name == "sourceServers")
        #expect(denied.message == "no drs:StartRecovery", "Message with a capital M is read too")
        #expect(quota.quotaCode == "L-1234")
        #expect(cases[3].0.description.contains("sourceServers: too many"))
    }

    @Test("A body that does not fit the shape still yields the typed error and message")
    func looseBodies() {
        let throttled = map(429, [HTTPHeader("x-amzn-ErrorType", "ThrottlingException")], #"{"Message":"slow down","quotaCode":5}"#)
        guard case .throttling(let shape) = throttled else {
            Issue.record("expected throttling, got \(throttled)")
            return
        }
        #expect(shape.message == "slow down")
        let empty = map(500, [HTTPHeader("x-amzn-ErrorType", "InternalServerException")], "")
        #expect(empty.errorType == "InternalServerException")
    }

    @Test("Unmodelled and untyped errors are unknown; gateway auth errors are flagged")
    func unknownErrors() {
        let signature = map(403, [HTTPHeader("x-amzn-ErrorType", "InvalidSignatureException:http://x/")], #"{"message":"Signature expired"}"#)
        guard case .unknown("InvalidSignatureException", 403, "Signature expired") = signature else {
            Issue.record("expected unknown, got \(signature)")
            return
        }
        #expect(signature.isAuthenticationFailure)
        #expect(!signature.isRetryable)
        #expect(signature.description.contains("check the access key"))
        let gateway = map(502, [], "<html>Bad Gateway</html>")
        guard case .unknown("HTTP502", 502, nil) = gateway else {
            Issue.record("expected unknown HTTP502, got \(gateway)")
            return
        }
        #expect(gateway.isRetryable)
    }

    @Test("Decoding failures name the path, never the values")
    func decodingSummary() {
        struct Shape: Decodable { var items: [Item] }
        struct Item: Decodable { var tags: [String: Int] }
        let body = Data(#"{"items":[{"tags":{"owner":"secret-value"}}]}"#.utf8)
        do {
            _ = try JSONDecoder().decode(Shape.self, from: body)
            Issue.record("expected a decoding error")
        } catch {
            let summary = DecodingSummary.describe(error)
            #expect(summary.contains("items[0].tags"))
            #expect(!summary.contains("secret-value"))
        }
    }
}
