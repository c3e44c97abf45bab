import Foundation
import MusterDRS
import Testing

@Suite("DRS model types")
struct DRSModelTests {
    @Test("decodes a DescribeJobs answer as DRS sends it, ignoring unknown fields")
    func decodesJob() throws {
        let json = #"""
        {"items":[{"jobID":"drsjob-0123456789abcdef0","arn":"arn:aws:drs:us-east-1:111122223333:job/drsjob-0123456789abcdef0",
          "type":"LAUNCH","initiatedBy":"START_DRILL","creationDateTime":"2024-05-01T12:00:00.123Z","status":"STARTED",
          "participatingServers":[{"sourceServerID":"s-0123456789abcdef0","recoveryInstanceID":"i-0123456789abcdef0",
             "launchStatus":"IN_PROGRESS","launchActionsStatus":{"runs":[]},"futureField":42}],
          "tags":{"muster:launchGroup":"web"},"someNewField":{"x":1}}],"nextToken":"abc"}
        """#
        let response = try JSONDecoder().decode(DescribeJobsResponse.self, from: Data(json.utf8))
        let job = try #require(response.items?.first)
        #expect(job.jobID == "drsjob-0123456789abcdef0")
        #expect(job.type == .launch)
        #expect(job.initiatedBy == .startDrill)
        #expect(job.status == .started)
        #expect(job.participatingServers?.first?.launchStatus == .inProgress)
        #expect(job.tags?["muster:launchGroup"] == "web")
        #expect(response.nextToken == "abc")
    }

    @Test("enum values AWS adds later decode and round-trip instead of failing")
    func unknownEnumValues() throws {
        let json = #"{"jobID":"drsjob-0123456789abcdef0","status":"PAUSED_BY_AWS","type":"SOMETHING_NEW"}"#
        let job = try JSONDecoder().decode(Job.self, from: Data(json.utf8))
        #expect(job.status?.rawValue == "PAUSED_BY_AWS")
        #expect(job.status?.isKnown == false)
        #expect(JobStatus.completed.isKnown)
        let again = try JSONDecoder().decode(Job.self, from: JSONEncoder().encode(job))
        #expect(again == job)
    }

    @Test("enum raw values are exactly the model's")
    func rawValues() {
        #expect(JobStatus.allKnown.map(\.rawValue) == ["PENDING", "STARTED", "COMPLETED"])
        #expect(LaunchStatus.allKnown.map(\.rawValue) == ["PENDING", "IN_PROGRESS", "LAUNCHED", "FAILED", "TERMINATED"])
        #expect(EC2InstanceState.shuttingDown.rawValue == "SHUTTING-DOWN")
        #expect(ValidationExceptionReason.unknownOperation.rawValue == "unknownOperation")
        #expect(JobLogEvent.launchFailed.rawValue == "LAUNCH_FAILED")
    }

    @Test("required members are required; optional ones may be absent")
    func requiredMembers() throws {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(StartRecoveryRequest.self, from: Data("{}".utf8))
        }
        let empty = try JSONDecoder().decode(DescribeJobsRequest.self, from: Data("{}".utf8))
        #expect(empty == DescribeJobsRequest())
    }

    @Test("error shapes carry their wire type and status; header members stay out of the body")
    func errorShapes() throws {
        #expect(ConflictException.errorType == "ConflictException")
        #expect(ConflictException.httpStatusCode == 409)
        #expect(ThrottlingException.httpStatusCode == 429)
        #expect(ServiceQuotaExceededException.httpStatusCode == 402)
        #expect(InternalServerException.isServerFault)
        #expect(!ValidationException.isServerFault)
        let throttle = ThrottlingException(message: "slow down", quotaCode: "q", retryAfterSeconds: "3")
        let body = try #require(String(data: JSONEncoder().encode(throttle), encoding: .utf8))
        #expect(!body.contains("retryAfterSeconds"))
        #expect(body.contains("slow down"))
    }

    @Test("operations are POST /{Name} with the model's success status")
    func operations() {
        #expect(DRSOperation.all.count == 9)
        #expect(DRSOperation.describeRecoverySnapshots.requestURI == "/DescribeRecoverySnapshots")
        #expect(DRSOperation.startRecovery.requestURI == "/StartRecovery")
        #expect(DRSOperation.startRecovery.successStatus == 202)
        #expect(DRSOperation.describeJobs.successStatus == 200)
        #expect(DRSErrorCatalog.httpStatus["ConflictException"] == 409)
    }

    @Test("DRSDateTime writes the model's pattern and reads it back")
    func dateTime() throws {
        let date = Date(timeIntervalSince1970: 1_714_564_800.25)
        let text = DRSDateTime.string(from: date)
        #expect(text == "2024-05-01T12:00:00.250Z")
        let parsed = try #require(DRSDateTime.date(from: text))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
        #expect(DRSDateTime.date(from: "2024-05-01T12:00:00Z") == Date(timeIntervalSince1970: 1_714_564_800))
        #expect(DRSDateTime.date(from: "yesterday") == nil)
    }
}
