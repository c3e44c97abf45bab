import Foundation
import MusterDRS

/// A DRS answer ready for the wire.
public struct DRSSimResponse: Sendable, Equatable {
    /// HTTP status.
    public var status: Int
    /// Extra headers (`x-amzn-ErrorType`, `Retry-After`).
    public var headers: [String: String]
    /// JSON body.
    public var body: Data

    /// Memberwise initializer.
    public init(status: Int, headers: [String: String] = [:], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The REST-JSON error answer for `error`.
    public init(error: DRSSimError) {
        var headers = ["x-amzn-ErrorType": error.errorType]
        if let retry = error.retryAfterSeconds { headers["Retry-After"] = String(retry) }
        self.init(status: error.httpStatus, headers: headers, body: error.body)
    }
}

extension DRSSimulation {
    /// Runs the operation named by the request path on a JSON body, as the HTTP layer receives it.
    public mutating func perform(
        operation name: String, body: Data, accountID: String, region: String, realNow: Date
    ) -> DRSSimResponse {
        guard let operation = DRSOperation.all.first(where: { $0.name == name }) else {
            counters.recordCall(name, account: accountID)
            let error = DRSSimError.validation(
                "Unknown operation '\(name)'. drs-sim serves: \(DRSOperation.all.map(\.name).joined(separator: ", ")).",
                reason: .unknownOperation
            )
            counters.recordError(name, error)
            return DRSSimResponse(error: error)
        }
        func run<Request: Decodable, Response: Encodable>(
            _: Request.Type,
            _ call: (inout DRSSimulation, Request) throws(DRSSimError) -> Response
        ) -> DRSSimResponse {
            do throws(DRSSimError) {
                let request: Request
                do {
                    request = try JSONDecoder().decode(Request.self, from: body.isEmpty ? Data("{}".utf8) : body)
                } catch {
                    // Counted like every other answer, so malformed input shows in the counters.
                    let failure = Self.validationError(for: error)
                    counters.recordCall(operation.name, account: accountID)
                    counters.recordError(operation.name, failure)
                    return DRSSimResponse(error: failure)
                }
                let response = try call(&self, request)
                let data = (try? JSONEncoder.drsSim.encode(response)) ?? Data("{}".utf8)
                return DRSSimResponse(status: operation.successStatus, headers: [:], body: data)
            } catch {
                return DRSSimResponse(error: error)
            }
        }
        switch operation {
        case .startRecovery:
            return run(StartRecoveryRequest.self) { sim, request throws(DRSSimError) in
                try sim.startRecovery(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .describeJobs:
            return run(DescribeJobsRequest.self) { sim, request throws(DRSSimError) in
                try sim.describeJobs(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .describeJobLogItems:
            return run(DescribeJobLogItemsRequest.self) { sim, request throws(DRSSimError) in
                try sim.describeJobLogItems(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .describeSourceServers:
            return run(DescribeSourceServersRequest.self) { sim, request throws(DRSSimError) in
                try sim.describeSourceServers(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .getLaunchConfiguration:
            return run(GetLaunchConfigurationRequest.self) { sim, request throws(DRSSimError) in
                try sim.getLaunchConfiguration(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .updateLaunchConfiguration:
            return run(UpdateLaunchConfigurationRequest.self) { sim, request throws(DRSSimError) in
                try sim.updateLaunchConfiguration(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .describeRecoveryInstances:
            return run(DescribeRecoveryInstancesRequest.self) { sim, request throws(DRSSimError) in
                try sim.describeRecoveryInstances(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .terminateRecoveryInstances:
            return run(TerminateRecoveryInstancesRequest.self) { sim, request throws(DRSSimError) in
                try sim.terminateRecoveryInstances(request, accountID: accountID, region: region, realNow: realNow)
            }
        case .describeRecoverySnapshots:
            return run(DescribeRecoverySnapshotsRequest.self) { sim, request throws(DRSSimError) in
                try sim.describeRecoverySnapshots(request, accountID: accountID, region: region, realNow: realNow)
            }
        default:
            return DRSSimResponse(error: .validation("Operation \(name) is not simulated.", reason: .unknownOperation))
        }
    }

    /// Maps a JSON decoding failure to the `ValidationException` DRS answers, naming the field.
    static func validationError(for error: any Error) -> DRSSimError {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            let field = path(context.codingPath, key)
            return .validation(
                "Missing required field \(field).", fields: [ValidationExceptionField(name: field, message: "is required")]
            )
        case .typeMismatch(let type, let context)?, .valueNotFound(let type, let context)?:
            let field = path(context.codingPath)
            return .validation(
                "Field \(field) has the wrong type; expected \(type).",
                fields: [ValidationExceptionField(name: field, message: "expected \(type)")]
            )
        case .dataCorrupted(let context)? where !context.codingPath.isEmpty:
            let field = path(context.codingPath)
            return .validation(
                "Field \(field) is malformed: \(context.debugDescription)",
                fields: [ValidationExceptionField(name: field, message: context.debugDescription)]
            )
        default:
            return .validation("The request body is not valid JSON for this operation.", reason: .cannotParse)
        }
    }
}
