import Foundation
import MusterDomain
import MusterEvents
import TestSupport
import Testing

/// Typed identifiers travel as the plain strings they replaced: the same bytes
/// in JSON (through Muster's event coding and a plain `JSONEncoder`), and a
/// malformed id is a clear error, never a crash.
@Suite("Domain identifiers")
struct DomainIdentifierTests {
    static let text = "0b7c4f3e-5d2a-4c1b-9e8f-7a6b5c4d3e2f"

    @Test func uuidIdsRoundTripAsTheirLowercaseString() throws {
        let execution = try ExecutionID(parsing: Self.text.uppercased())
        #expect(execution.rawValue == Self.text, "read in either case, written lowercase as the planner always did")
        #expect(execution.description == Self.text)
        for encoder in [EventCoding.encoder, JSONEncoder()] {
            let encoded = try encoder.encode(["executionID": execution])
            #expect(String(decoding: encoded, as: UTF8.self).contains("\"\(Self.text)\""))
        }
        struct Body: Codable, Equatable { var executionID: ExecutionID; var planID: PlanID; var teamID: TeamID }
        let body = Body(executionID: execution, planID: .random(), teamID: .random())
        let data = try EventCoding.encoder.encode(body)
        #expect(try EventCoding.decoder.decode(Body.self, from: data) == body)
        let plain = #"{"executionId":"\#(Self.text)","planId":"\#(body.planID)","teamId":"\#(body.teamID)"}"#
        #expect(try EventCoding.decoder.decode(Body.self, from: Data(plain.utf8)) == body,
                "a body written with plain strings decodes into typed ids")
    }

    @Test func theSameUUIDIsEqualWhateverItsCaseButKindsStayApart() throws {
        #expect(try ExecutionID(parsing: Self.text) == ExecutionID(parsing: Self.text.uppercased()))
        #expect(Set([try PlanID(parsing: Self.text), try PlanID(parsing: Self.text.uppercased())]).count == 1)
        #expect(try TeamID(parsing: Self.text).uuid == UUID(uuidString: Self.text))
    }

    @Test(arguments: ["", "e-1", "0b7c4f3e-5d2a-4c1b-9e8f", "0b7c4f3e5d2a4c1b9e8f7a6b5c4d3e2f", "\(text)x", " \(text)"])
    func aMalformedUUIDIsRefusedWithAnErrorNamingTheId(_ text: String) throws {
        #expect(ExecutionID(rawValue: text) == nil)
        let error = try #require(throws: MalformedIdentifier.self) { try PlanID(parsing: text) }
        #expect(error.description.hasPrefix("plan id must be a UUID"))
        let json = Data(#"{"teamId":"\#(text)"}"#.utf8)
        struct Body: Codable { var teamID: TeamID }
        let decoding = try #require(throws: DecodingError.self) { try EventCoding.decoder.decode(Body.self, from: json) }
        guard case .dataCorrupted(let context) = decoding else {
            Issue.record("expected dataCorrupted, got \(decoding)")
            return
        }
        #expect(context.debugDescription.hasPrefix("team id must be a UUID"))
        #expect(context.codingPath.map(\.stringValue) == ["teamID"], "the member it was decoding")
    }

    @Test func aHostileIdIsCutInTheError() {
        let error = MalformedIdentifier(kind: "execution id", text: String(repeating: "x", count: 10_000))
        #expect(error.text.count == 64)
    }

    @Test func drsIdsAreOpaqueStringsKeptExactly() throws {
        let server: SourceServerID = "s-1234567890abcdef0"
        let job = JobID(rawValue: "drsjob-ABC")
        struct Body: Codable, Equatable { var sourceServerIDs: [SourceServerID]; var jobID: JobID }
        let body = Body(sourceServerIDs: [server, "s-2"], jobID: job)
        let data = try EventCoding.encoder.encode(body)
        #expect(String(decoding: data, as: UTF8.self) == #"{"jobId":"drsjob-ABC","sourceServerIds":["s-1234567890abcdef0","s-2"]}"#)
        #expect(try EventCoding.decoder.decode(Body.self, from: data) == body)
        #expect(job.description == "drsjob-ABC")
        #expect([SourceServerID(rawValue: "s-b"), "s-a"].sorted() == ["s-a", "s-b"])
    }

    @Test func aLaunchGroupCarriesATypedExecutionAndRefusesAnyOther() throws {
        let execution = ExecutionID.fixture(7)
        let group = LaunchGroupID(executionID: execution, waveNumber: 2,
                                  endpoint: Endpoint(accountID: "111122223333", region: "us-east-1"))
        #expect(group.description == "00000000-0000-4000-8000-000000000007:w2:111122223333:us-east-1")
        #expect(LaunchGroupID(group.description) == group)
        #expect(LaunchGroupID(group.description.uppercased().replacingOccurrences(of: ":W2:", with: ":w2:"))?.executionID
                == execution, "the execution part reads in either case")
        #expect(LaunchGroupID("ex-1:w2:111122223333:us-east-1") == nil, "an execution part that is no UUID")
        let notUUID = try #require(throws: DecodingError.self) {
            try EventCoding.decoder.decode(LaunchGroupID.self, from: Data(#""ex-1:w2:1:r""#.utf8))
        }
        #expect("\(notUUID)".contains(#"launch group: execution id must be a UUID (8-4-4-4-12 hexadecimal digits), not "ex-1""#))
        let malformed = try #require(throws: DecodingError.self) {
            try EventCoding.decoder.decode(LaunchGroupID.self, from: Data(#""\#(execution):2:1:r""#.utf8))
        }
        #expect("\(malformed)".contains("launch group must be <executionId UUID>:w<wave>:<accountId>:<region>"))
    }

    @Test func fixturesAreNumberedAndNamedIdsAreStable() {
        #expect(ExecutionID.fixture(0x1234).rawValue == "00000000-0000-4000-8000-000000001234")
        #expect(PlanID.fixture(0xDEAD_BEEF).fixtureNumber == 0xDEAD_BEEF)
        #expect(TeamID(UUID()).fixtureNumber == nil)
        #expect(ExecutionID.named("ex-crash") == ExecutionID.named("ex-crash"))
        #expect(ExecutionID.named("ex-crash") != ExecutionID.named("ex-crasH"))
        #expect(ExecutionID.named("ex-crash").uuid.uuidString.dropFirst(14).first == "4", "a version-4 shape")
    }
}
