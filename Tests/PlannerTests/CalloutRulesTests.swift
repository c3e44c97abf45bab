import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
@testable import PlannerApp
import TestSupport
import Testing

/// The pure rules of HTTP callout steps: the one-time token, the callback
/// body, a receiver's final answer, and what the notifier's report does to the step.
@Suite("Callout rules")
struct CalloutRulesTests {
    @Test func tokensAreLongRandomURLSafeAndStoredAsDigests() {
        let tokens = (0..<200).map { _ in CalloutToken.generate().value }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.wholeMatch(of: CalloutToken.pattern) != nil, "\(token)")
        }
        // 43 base64url characters carry 256 bits (the brief asks ≥ 128).
        #expect(tokens[0].count == 43)
        #expect(CalloutToken.digest(tokens[0]) == BearerToken.digestHex(tokens[0]))
        #expect(CalloutToken.digest(tokens[0]) != tokens[0])
        #expect(CalloutToken(value: "abc").callbackURL(base: "https://m.example") == "https://m.example/v1/callbacks/abc")
    }

    func failure(_ json: String) -> APIError? {
        do {
            _ = try CalloutReply.parse(Array(json.utf8))
            return nil
        } catch {
            return error as? APIError
        }
    }

    @Test func aCallbackBodyIsReadOrRefusedNamingTheField() throws {
        #expect(try CalloutReply.parse(Array(#"{"status":"SUCCEEDED"}"#.utf8)) == .init(succeeded: true, output: nil))
        #expect(try CalloutReply.parse(Array(#"{"status":"FAILED","output":{"b":[1,2],"a":"x/y"}}"#.utf8))
                == .init(succeeded: false, output: #"{"a":"x/y","b":[1,2]}"#))
        #expect(try CalloutReply.parse(Array(#"{"status":"FAILED","output":null}"#.utf8)).output == nil)
        let cases: [(String, String, String)] = [
            ("not json", "", "type"),
            ("[1]", "", "type"),
            (#"{"output":{}}"#, "status", "required"),
            (#"{"status":"succeeded"}"#, "status", "enum"),
            (#"{"status":true}"#, "status", "enum"),
            (#"{"status":"SUCCEEDED\u0007"}"#, "status", "controlCharacters"),
            (#"{"status":"SUCCEEDED","output":[1]}"#, "output", "type"),
            (#"{"status":"SUCCEEDED","extra":1}"#, "extra", "additionalProperties"),
            (#"{"status":"SUCCEEDED","output":{"x":"\#(String(repeating: "y", count: CalloutReply.maxOutputBytes))"}}"#,
             "output", "maxLength"),
        ]
        for (body, field, rule) in cases {
            let error = failure(body)
            #expect(error?.status == .unprocessableContent, "\(body.prefix(40))")
            #expect(error?.field == field && error?.rule == rule, "\(body.prefix(40)): \(String(describing: error))")
        }
    }

    @Test func onlyAnAnswerWithAValidStatusIsFinal() {
        #expect(CalloutReply.final(inAnswer: nil) == nil)
        #expect(CalloutReply.final(inAnswer: "") == nil)
        #expect(CalloutReply.final(inAnswer: "OK") == nil)
        #expect(CalloutReply.final(inAnswer: #"{"received":true}"#) == nil)
        #expect(CalloutReply.final(inAnswer: #"{"status":"FAILED"}"#) == .init(succeeded: false, output: nil))
    }

    @Test func theNotifiersReportMapsToTheStepsResult() {
        let dead = CalloutCompleted(executionID: .fixture(1), stepName: "tell", delivered: false, statusCode: 500,
                                    error: "HTTP 500: boom", attempts: 4)
        let failed = CalloutResultHandler.result(of: dead)
        #expect(failed?.succeeded == false && failed?.stepName == "tell")
        #expect(failed?.output == "callout POST failed after 4 attempt(s) (last answer HTTP 500): HTTP 500: boom")
        let unsigned = CalloutCompleted(executionID: .fixture(1), stepName: "tell", delivered: false,
                                        error: "subscription x does not exist", attempts: 0)
        #expect(CalloutResultHandler.result(of: unsigned)?.output?.hasSuffix("subscription x does not exist") == true)
        let final = CalloutCompleted(executionID: .fixture(1), stepName: "tell", delivered: true, statusCode: 200,
                                     answer: #"{"status":"SUCCEEDED","output":{"id":7}}"#, attempts: 1)
        #expect(CalloutResultHandler.result(of: final) == StepResult(stepName: "tell", succeeded: true, output: #"{"id":7}"#))
        let accepted = CalloutCompleted(executionID: .fixture(1), stepName: "tell", delivered: true, statusCode: 202,
                                        answer: "queued", attempts: 1)
        #expect(CalloutResultHandler.result(of: accepted) == nil, "the step waits for its callback")
    }
}
