import Foundation
import MusterDomain
import MusterEvents
import TestSupport
import Testing

/// Event bodies spell identifiers `…Id` (as the REST API does) while the
/// Swift members keep `…ID`; bodies written before the rule still decode.
@Suite("Event JSON key spelling")
struct EventCodingTests {
    static let execution = ExecutionID.fixture(1)
    private func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private var request: LaunchGroupRequested {
        LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: Self.execution, waveNumber: 2,
                                       endpoint: Endpoint(accountID: "111122223333", region: "us-east-1")),
            executionType: .drill, planID: .named("plan-1"), planName: "Payroll", waveName: "db", team: .named("team-1"),
            initiatedBy: "alice", sourceServerIDs: ["s-1"], waveStartedAt: Date(timeIntervalSince1970: 1_790_000_000),
            launchSettings: ["s-1": ServerLaunchSettings(
                profile: "web", settings: LaunchProfile(subnetId: "subnet-1", securityGroupIds: ["sg-1"],
                                                        tags: ["OwnerID": "ops"]))])
    }

    @Test func onlyATrailingIDOrIDsIsRespelled() {
        #expect(EventCoding.jsonKey("executionID") == "executionId")
        #expect(EventCoding.jsonKey("sourceServerIDs") == "sourceServerIds")
        #expect(EventCoding.jsonKey("requestIDHeader") == "requestIDHeader")
        #expect(EventCoding.jsonKey("ID") == "ID")
        #expect(EventCoding.jsonKey("valid") == "valid")
        #expect(EventCoding.swiftKey("executionId") == "executionID")
        #expect(EventCoding.swiftKey("sourceServerIds") == "sourceServerIDs")
        #expect(EventCoding.swiftKey("executionID") == "executionID")
        #expect(EventCoding.swiftKey("Id") == "Id")
        #expect(EventCoding.swiftKey("valid") == "valid")
    }

    @Test func aBodyIsWrittenWithIdKeysAndDictionaryKeysUntouched() throws {
        let data = try EventCoding.encoder.encode(request)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\"OwnerID\"", with: "").contains("ID\""),
                "no member key ends in ID (the tag key OwnerID is data): \(text)")
        let body = try object(data)
        #expect(body["planId"] as? String == PlanID.named("plan-1").rawValue)
        #expect(body["sourceServerIds"] as? [String] == ["s-1"])
        let group = try #require(body["launchGroup"] as? String)
        #expect(group == "\(Self.execution):w2:111122223333:us-east-1")
        let settings = try #require((body["launchSettings"] as? [String: Any])?["s-1"] as? [String: Any])
        let profile = try #require(settings["settings"] as? [String: Any])
        #expect(profile["subnetId"] as? String == "subnet-1" && profile["securityGroupIds"] as? [String] == ["sg-1"])
        #expect((profile["tags"] as? [String: String]) == ["OwnerID": "ops"], "tag keys are data, not member names")
        #expect(try EventCoding.decoder.decode(LaunchGroupRequested.self, from: data) == request)
    }

    @Test func aBodyWrittenBeforeTheRuleStillDecodes() throws {
        let old = #"""
        {"endpoint":{"accountID":"111122223333","region":"us-east-1"},"sourceServerID":"s-1","hostname":"web-1","tags":{},
         "observedAt":"2026-01-01T00:00:00.000Z","recoveryInstanceID":"i-1"}
        """#
        let new = #"""
        {"endpoint":{"accountId":"111122223333","region":"us-east-1"},"sourceServerId":"s-1","hostname":"web-1","tags":{},
         "observedAt":"2026-01-01T00:00:00.000Z","recoveryInstanceId":"i-1"}
        """#
        let before = try EventCoding.decoder.decode(SourceServerObserved.self, from: Data(old.utf8))
        let after = try EventCoding.decoder.decode(SourceServerObserved.self, from: Data(new.utf8))
        #expect(before.sourceServerID == "s-1" && before.recoveryInstanceID == "i-1")
        #expect(before.endpoint.accountID == "111122223333")
        #expect(after.sourceServerID == before.sourceServerID && after.recoveryInstanceID == before.recoveryInstanceID)
        #expect(after.endpoint == before.endpoint)
    }

    @Test func aLaunchProfileReadsTheRESTSpellingAndTheEventSpelling() throws {
        let rest = #"{"subnetId":"subnet-1","securityGroupIds":["sg-1"],"instanceType":"t3.small"}"#
        let plain = try JSONDecoder().decode(LaunchProfile.self, from: Data(rest.utf8))
        let event = try EventCoding.decoder.decode(LaunchProfile.self, from: Data(rest.utf8))
        #expect(plain == LaunchProfile(subnetId: "subnet-1", securityGroupIds: ["sg-1"], instanceType: "t3.small"))
        #expect(event == plain)
        let written = try object(try JSONEncoder().encode(plain))
        #expect(written["subnetId"] as? String == "subnet-1", "the REST spelling is written as is")
    }
}
