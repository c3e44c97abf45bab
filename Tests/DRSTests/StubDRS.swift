import Foundation
import MusterAWS
import MusterHTTP
import TestSupport

/// A stand-in DRS endpoint over real HTTP that answers with hand-written
/// JSON in the shapes AWS sends (not produced by the model's encoders), and
/// rejects requests not SigV4-signed for `drs` in us-east-1.
enum StubDRS {
    static let credentials = AWSCredentials(accessKeyID: "AKIDSTUB", secretAccessKey: "stub-secret-never-shown", sessionToken: "stub-token")
    static let sourceServerIDs = (0..<7).map { String(format: "s-%017d", $0) }

    static func start() throws -> TestHTTPServer {
        let verifier = SigV4Verifier { $0 == credentials.accessKeyID ? credentials.secretAccessKey : nil }
        return try TestHTTPServer { request in
            let verification = verifier.verify(
                method: request.method, path: request.path, query: request.query,
                headers: request.headers.map { HTTPHeader($0.name, $0.value) }, body: request.body, now: Date())
            guard case .valid(_, "us-east-1", "drs") = verification else {
                return error(403, "InvalidSignatureException", #"{"message":"The request signature we calculated does not match the signature you provided."}"#)
            }
            guard request.method == "POST", request.header("Content-Type") == "application/json",
                let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
            else {
                return error(400, "ValidationException", #"{"message":"cannot parse","reason":"cannotParse"}"#)
            }
            return route(request.path, json)
        }
    }

    static func route(_ path: String, _ json: [String: Any]) -> TestHTTPServer.Response {
        switch path {
        case "/StartRecovery":
            let servers = (json["sourceServers"] as? [[String: Any]] ?? []).compactMap { $0["sourceServerID"] as? String }
            switch servers.first ?? "" {
            case "s-conflict00000000":
                return error(409, "ConflictException", #"{"message":"Source server s-conflict00000000 is already in a job","code":"CONFLICT","resourceId":"s-conflict00000000","resourceType":"SOURCE_SERVER"}"#)
            case "s-throttle00000000":
                return .init(status: 429, headers: [.init("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.drs/"), .init("Retry-After", "12"), .init("x-amzn-RequestId", "req-1")],
                             text: #"{"message":"Rate exceeded","quotaCode":"L-DRS-TPS"}"#)
            case "s-quota00000000000":
                return .init(status: 402, text: #"{"__type":"com.amazonaws.drs#ServiceQuotaExceededException","message":"Maximum 20 concurrent jobs","quotaCode":"L-CONCURRENT-JOBS","serviceCode":"drs"}"#)
            case "s-slow000000000000":
                return .init(status: 202, text: "{}", delay: .seconds(10))
            case "s-garbage000000000":
                return .init(status: 202, text: #"{"job":{"jobID":42}}"#)
            default:
                let participating = servers.map { #"{"launchStatus":"PENDING","sourceServerID":"\#($0)"}"# }.joined(separator: ",")
                let drill = (json["isDrill"] as? Bool) == true
                return .init(status: 202, headers: [.init("Content-Type", "application/json")], text: """
                    {"job":{"arn":"arn:aws:drs:us-east-1:123456789012:job/drsjob-1234567890abcdef0",
                    "creationDateTime":"2024-01-15T10:30:00.123456+00:00","initiatedBy":"\(drill ? "START_DRILL" : "START_RECOVERY")",
                    "jobID":"drsjob-1234567890abcdef0","participatingServers":[\(participating)],
                    "status":"PENDING","tags":{"muster:execution":"ex-1"},"type":"LAUNCH"}}
                    """)
            }
        case "/DescribeSourceServers":
            return page(of: sourceServerIDs, json) { id in
                #"{"arn":"arn:aws:drs:us-east-1:123456789012:source-server/\#(id)","sourceServerID":"\#(id)","lastLaunchResult":"NOT_STARTED","lifeCycle":{"addedToServiceDateTime":"2024-01-01T00:00:00+00:00"},"dataReplicationInfo":{"dataReplicationState":"CONTINUOUS","lagDuration":"PT0S"},"replicationDirection":"FAILOVER","tags":{}}"#
            }
        case "/DescribeJobs":
            let ids = ((json["filters"] as? [String: Any])?["jobIDs"] as? [String]) ?? ["drsjob-1", "drsjob-2", "drsjob-3"]
            return page(of: ids, json) { id in
                #"{"jobID":"\#(id)","status":"COMPLETED","type":"LAUNCH","initiatedBy":"START_DRILL","participatingServers":[{"sourceServerID":"s-00000000000000000","recoveryInstanceID":"i-0123456789abcdef0","launchStatus":"LAUNCHED"}]}"#
            }
        case "/DescribeJobLogItems":
            guard json["jobID"] as? String == "drsjob-1" else {
                return error(400, "ValidationException", #"{"message":"jobID is required","reason":"fieldValidationFailed","fieldList":[{"name":"jobID","message":"required"}]}"#)
            }
            return page(of: ["JOB_START", "SERVER_SKIPPED", "CLEANUP_START", "CLEANUP_END", "JOB_END"], json) { event in
                #"{"event":"\#(event)","logDateTime":"2024-01-15T10:30:01+00:00","eventData":{"sourceServerID":"s-00000000000000000"}}"#
            }
        case "/GetLaunchConfiguration":
            let id = json["sourceServerID"] as? String ?? ""
            guard sourceServerIDs.contains(id) else {
                return error(404, "ResourceNotFoundException", #"{"message":"Source server not found","resourceId":"\#(id)","resourceType":"SOURCE_SERVER"}"#)
            }
            return .init(text: #"{"sourceServerID":"\#(id)","name":"web-1","ec2LaunchTemplateID":"lt-0123456789abcdef0","launchDisposition":"STARTED","targetInstanceTypeRightSizingMethod":"BASIC","copyPrivateIp":false,"copyTags":true,"licensing":{"osByol":false},"postLaunchEnabled":true}"#)
        case "/UpdateLaunchConfiguration":
            let id = json["sourceServerID"] as? String ?? ""
            let disposition = json["launchDisposition"] as? String ?? "STARTED"
            return .init(text: #"{"sourceServerID":"\#(id)","launchDisposition":"\#(disposition)","copyTags":\#(json["copyTags"] as? Bool ?? false)}"#)
        case "/DescribeRecoveryInstances":
            return .init(status: 403, headers: [.init("x-amzn-ErrorType", "AccessDeniedException")], text: #"{"Message":"User is not authorized to perform: drs:DescribeRecoveryInstances"}"#)
        case "/TerminateRecoveryInstances":
            return .init(text: #"{"job":{"jobID":"drsjob-terminate0001","type":"TERMINATE","status":"PENDING","initiatedBy":"TERMINATE_RECOVERY_INSTANCES"}}"#)
        default:
            return error(404, "UnknownOperationException", "{}")
        }
    }

    /// DRS-style pagination: `maxResults` items per page, `nextToken` an opaque offset.
    static func page(of all: [String], _ json: [String: Any], item: (String) -> String) -> TestHTTPServer.Response {
        let size = json["maxResults"] as? Int ?? 1000
        let start = (json["nextToken"] as? String).flatMap { Int($0.dropFirst(4)) } ?? 0
        let end = min(all.count, start + size)
        let items = all[start..<end].map(item).joined(separator: ",")
        let next = end < all.count ? #","nextToken":"tok-\#(end)""# : ""
        return .init(text: #"{"items":[\#(items)]\#(next)}"#)
    }

    static func error(_ status: Int, _ type: String, _ body: String) -> TestHTTPServer.Response {
        .init(status: status, headers: [.init("x-amzn-ErrorType", "\(type):http://internal.amazon.com/coral/com.amazonaws.drs/"),
                                        .init("Content-Type", "application/json")], text: body)
    }
}
