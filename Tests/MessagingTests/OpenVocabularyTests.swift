import Foundation
import MusterDomain
import MusterEvents
import Testing

/// DRS's launch-setting words travel as enums with the spelling they had as
/// strings; a word AWS adds later is carried and written back unchanged.
@Suite("DRS vocabulary enums")
struct OpenVocabularyTests {
    @Test func knownWordsRoundTripWithTheirDRSSpelling() throws {
        #expect(DRSLaunchDisposition.known.map(\.rawValue) == ["STOPPED", "STARTED"])
        #expect(DRSRightSizingMethod.known.map(\.rawValue) == ["NONE", "BASIC", "IN_AWS"])
        for word in DRSLaunchDisposition.known { #expect(DRSLaunchDisposition(rawValue: word.rawValue) == word && word.isKnown) }
        for word in DRSRightSizingMethod.known { #expect(DRSRightSizingMethod(rawValue: word.rawValue) == word && word.isKnown) }
        let profile = LaunchProfile(launchDisposition: .stopped, targetInstanceTypeRightSizingMethod: .inAWS)
        for encoder in [EventCoding.encoder, JSONEncoder()] {
            let text = String(decoding: try encoder.encode(profile), as: UTF8.self)
            #expect(text.contains(#""launchDisposition":"STOPPED""#), "\(text)")
            #expect(text.contains(#""targetInstanceTypeRightSizingMethod":"IN_AWS""#), "\(text)")
        }
        #expect(try EventCoding.decoder.decode(LaunchProfile.self, from: EventCoding.encoder.encode(profile)) == profile)
    }

    @Test func anUnknownWordIsCarriedAndReEncodedUnchanged() throws {
        let body = #"{"copyTags":true,"launchDisposition":"HIBERNATED","targetInstanceTypeRightSizingMethod":"basic"}"#
        let overrides = try EventCoding.decoder.decode(LaunchOverrides.self, from: Data(body.utf8))
        #expect(overrides.launchDisposition == .unknown("HIBERNATED"))
        #expect(overrides.launchDisposition?.isKnown == false)
        // The spelling is DRS's exactly: a lower-case word is not BASIC.
        #expect(overrides.targetInstanceTypeRightSizingMethod == .unknown("basic"))
        #expect(String(decoding: try EventCoding.encoder.encode(overrides), as: UTF8.self) == body,
                "written back byte for byte")
        let profile = try JSONDecoder().decode(LaunchProfile.self, from: Data(#"{"launchDisposition":"PAUSED"}"#.utf8))
        #expect(profile.launchDisposition?.rawValue == "PAUSED")
        #expect(profile.launchDisposition?.description == "PAUSED")
    }

    @Test func aLaunchCommandWithAnUnknownWordStillDecodes() throws {
        let request = LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: .fixture(1), waveNumber: 1,
                                       endpoint: Endpoint(accountID: "111122223333", region: "us-east-1")),
            executionType: .drill, planID: .fixture(1), planName: "p", waveName: "w", team: .fixture(1), initiatedBy: "u",
            sourceServerIDs: ["s-1"], waveStartedAt: Date(timeIntervalSince1970: 0),
            launchOverrides: LaunchOverrides(launchDisposition: .unknown("HIBERNATED")),
            launchSettings: ["s-1": ServerLaunchSettings(
                profile: "drill", settings: LaunchProfile(targetInstanceTypeRightSizingMethod: .unknown("SMART")))])
        let data = try EventCoding.encoder.encode(request)
        let decoded = try EventCoding.decoder.decode(LaunchGroupRequested.self, from: data)
        #expect(decoded == request)
        #expect(try EventCoding.encoder.encode(decoded) == data)
    }

    @Test func postLaunchStatusesAreTheSameKindOfVocabulary() {
        #expect(PostLaunchActionStatus.known == [.inProgress, .succeeded, .failed])
        #expect(!PostLaunchActionStatus.unknown("SKIPPED").isKnown)
    }
}

/// Server and job ids in event bodies: typed in Swift, the same strings and
/// keys on the wire.
@Suite("DRS ids in event payloads")
struct DRSIdPayloadTests {
    @Test func jobCreatedWritesItsIdsAsPlainStrings() throws {
        let created = JobCreated(
            launchGroup: LaunchGroupID(executionID: .fixture(2), waveNumber: 1,
                                       endpoint: Endpoint(accountID: "111122223333", region: "us-east-1")),
            chunk: 0, chunkCount: 1, jobID: "drsjob-0123456789abcdef0", isDrill: true,
            sourceServerIDs: ["s-0123456789abcdef0", "s-\(1)"], createdAt: Date(timeIntervalSince1970: 0),
            waveStartedAt: Date(timeIntervalSince1970: 0), timeoutSeconds: 60,
            recoverySnapshots: [RecoverySnapshotUsed(sourceServerID: "s-1", snapshotID: nil, snapshotTime: nil)])
        let object = try #require(JSONSerialization.jsonObject(with: EventCoding.encoder.encode(created)) as? [String: Any])
        #expect(object["jobId"] as? String == "drsjob-0123456789abcdef0")
        #expect(object["sourceServerIds"] as? [String] == ["s-0123456789abcdef0", "s-1"])
        let used = try #require(object["recoverySnapshots"] as? [[String: Any]])
        #expect(used.first?["sourceServerId"] as? String == "s-1")
        // Ids of any shape are carried (DRS's own are s-/drsjob- + 17 hex, fixtures and simulators differ).
        let odd = #"{"endpoint":{"accountId":"1","region":"r"},"jobIds":["job-x","drsjob-1"],"isFinal":false,"requestedAt":"2026-01-01T00:00:00.000Z"}"#
        let poll = try EventCoding.decoder.decode(JobPoll.self, from: Data(odd.utf8))
        #expect(poll.jobIDs == ["job-x", "drsjob-1"])
    }
}
