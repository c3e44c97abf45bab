import Foundation
import Logging
import MusterAWS
import MusterHTTP

/// A client for the DRS operations Muster uses: REST-JSON `POST {endpoint}/{Operation}`,
/// signed with SigV4 (`service=drs`). It does not retry: the launcher decides
/// when and how (per-account budgets, `Retry-After`), using
/// ``DRSError/isRetryable`` and ``DRSError/retryAfterSeconds``.
///
/// Each call throws ``DRSError``, or `CancellationError` if the task is cancelled.
public final class DRSClient: Sendable {
    /// The region requests are signed for.
    public let region: String
    /// The base URL, e.g. `https://drs.us-east-1.amazonaws.com` or a drs-sim address.
    public let endpoint: String
    private let credentials: any AWSCredentialsProvider
    private let httpClient: HTTPClient
    private let logger: Logger
    private let timeout: Duration
    private let signer: SigV4Signer

    /// - Parameters:
    ///   - region: e.g. `us-east-1`.
    ///   - endpoint: overrides `https://drs.{region}.amazonaws.com` (drs-sim, VPC endpoints).
    ///   - credentials: signs every request; asked afresh per call so refreshed
    ///     role credentials are picked up.
    ///   - timeout: limit for one call, connecting included.
    public init(
        region: String, endpoint: String? = nil, credentials: any AWSCredentialsProvider,
        httpClient: HTTPClient, logger: Logger, timeout: Duration = .seconds(30)
    ) {
        self.region = region
        var base = endpoint ?? "https://drs.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.credentials = credentials
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
        self.signer = SigV4Signer(service: "drs", region: region)
    }

    /// Launches recovery (or drill) instances for 1–200 source servers; DRS answers 202 with the job.
    public func startRecovery(_ request: StartRecoveryRequest) async throws -> StartRecoveryResponse {
        try await call(.startRecovery, request)
    }

    /// Jobs, filtered by ids (up to 1000) or creation dates; paginated.
    public func describeJobs(_ request: DescribeJobsRequest) async throws -> DescribeJobsResponse {
        try await call(.describeJobs, request)
    }

    /// One job's log events; paginated.
    public func describeJobLogItems(_ request: DescribeJobLogItemsRequest) async throws -> DescribeJobLogItemsResponse {
        try await call(.describeJobLogItems, request)
    }

    /// Source servers, filtered by ids; paginated.
    public func describeSourceServers(_ request: DescribeSourceServersRequest) async throws -> DescribeSourceServersResponse {
        try await call(.describeSourceServers, request)
    }

    /// A source server's launch configuration.
    public func getLaunchConfiguration(_ request: GetLaunchConfigurationRequest) async throws -> LaunchConfiguration {
        try await call(.getLaunchConfiguration, request)
    }

    /// Changes a source server's launch configuration; returns the result.
    public func updateLaunchConfiguration(_ request: UpdateLaunchConfigurationRequest) async throws -> LaunchConfiguration {
        try await call(.updateLaunchConfiguration, request)
    }

    /// Recovery instances, filtered by instance or source server ids; paginated.
    public func describeRecoveryInstances(
        _ request: DescribeRecoveryInstancesRequest
    ) async throws -> DescribeRecoveryInstancesResponse {
        try await call(.describeRecoveryInstances, request)
    }

    /// Starts a job terminating recovery instances.
    public func terminateRecoveryInstances(
        _ request: TerminateRecoveryInstancesRequest
    ) async throws -> TerminateRecoveryInstancesResponse {
        try await call(.terminateRecoveryInstances, request)
    }

    /// A source server's recovery snapshots (point-in-time), filtered by date, ordered; paginated.
    public func describeRecoverySnapshots(
        _ request: DescribeRecoverySnapshotsRequest
    ) async throws -> DescribeRecoverySnapshotsResponse {
        try await call(.describeRecoverySnapshots, request)
    }

    /// Signs and sends one operation; maps the answer to `Output` or ``DRSError``.
    func call<Input: Encodable, Output: Decodable>(_ operation: DRSOperation, _ input: Input) async throws -> Output {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(input))
        } catch {
            throw DRSError.decoding(operation: operation.name, reason: "request could not be encoded: \(DecodingSummary.describe(error))")
        }
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw DRSError.credentials(error)
        }
        let request = signer.sign(
            HTTPRequest(method: "POST", url: endpoint + operation.requestURI,
                        headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("User-Agent", "muster-drs-client/1")],
                        body: body, timeout: timeout),
            credentials: credentials, date: Date())

        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try await httpClient.execute(request)
        } catch let error as HTTPClientError {
            logger.debug("DRS call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            throw DRSError.transport(error)
        }
        let requestID = response.header("x-amzn-RequestId") ?? "-"
        logger.debug("DRS call", metadata: [
            "operation": "\(operation)", "status": "\(response.status)", "requestId": "\(requestID)",
            "elapsed": "\(ContinuousClock.now - started)",
        ])
        guard response.isSuccess else {
            throw DRSWireError.error(status: response.status, headers: response.headers, body: response.body)
        }
        do {
            return try JSONDecoder().decode(Output.self, from: Data(response.body.isEmpty ? Array("{}".utf8) : response.body))
        } catch {
            throw DRSError.decoding(operation: operation.name, reason: DecodingSummary.describe(error))
        }
    }
}
