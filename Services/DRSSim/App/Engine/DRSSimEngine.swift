import Foundation
import MusterAWS
import MusterDRS
import MusterHTTP

/// The simulation behind the HTTP server: one `DRSSimulation` value guarded by an actor, with
/// the wall clock injected so tests can control time.
public actor DRSSimEngine {
    private var simulation: DRSSimulation
    private let clock: @Sendable () -> Date

    /// Builds the simulation from `configuration`.
    ///
    /// - Parameter now: the wall clock; tests pass a controllable one.
    /// - Throws: `DRSSimAdminError` if the seed document is invalid.
    public init(configuration: DRSSimConfiguration, now: @escaping @Sendable () -> Date = { Date() }) throws(DRSSimAdminError) {
        self.clock = now
        self.simulation = try DRSSimulation(configuration: configuration, realStart: now())
    }

    /// Checks a DRS request's SigV4 signature and names the account and region it acts in.
    ///
    /// - Returns: the account and region, or the 403 error AWS answers a bad signature with.
    public func authenticate(
        method: String, path: String, query: String, headers: [HTTPHeader], body: [UInt8]
    ) -> Result<EstateKey, DRSSimError> {
        let credentials = simulation.allCredentials
        let verifier = SigV4Verifier(maxSkew: .seconds(Int64(simulation.configuration.maxClockSkew))) { key in
            credentials[key]?.secretAccessKey
        }
        let outcome = verifier.verify(method: method, path: path, query: query, headers: headers, body: body, now: clock())
        let result = SigV4Failure.map(outcome, maxSkew: simulation.configuration.maxClockSkew)
        switch result {
        case .success(let (accessKeyID, region)):
            guard let credential = credentials[accessKeyID] else {
                simulation.recordAuthFailure()
                return .failure(SigV4Failure.unknownKey)
            }
            return .success(EstateKey(accountID: credential.accountID, region: region))
        case .failure(let error):
            simulation.recordAuthFailure()
            return .failure(error)
        }
    }

    /// Milliseconds a `latency` fault adds to this request.
    public func injectedLatency(operation: String, key: EstateKey, phase: DRSSimFault.Phase = .before) -> Int {
        simulation.injectedLatencyMilliseconds(operation: operation, accountID: key.accountID, region: key.region, phase: phase)
    }

    /// Runs a DRS operation.
    public func perform(operation: String, body: Data, key: EstateKey) -> DRSSimResponse {
        simulation.perform(operation: operation, body: body, accountID: key.accountID, region: key.region, realNow: clock())
    }

    /// Runs an EC2 Query-protocol request (form parameters).
    public func performEC2(form: [String: String], key: EstateKey) -> EC2SimResponse {
        simulation.performEC2(form: form, accountID: key.accountID, region: key.region, realNow: clock())
    }

    /// Runs an SSM JSON 1.1 request (`X-Amz-Target: AmazonSSM.<Operation>`).
    public func performSSM(target: String, body: Data, key: EstateKey) -> DRSSimResponse {
        simulation.performSSM(target: target, body: body, accountID: key.accountID, region: key.region, realNow: clock())
    }

    /// Runs `body` on the simulation at the current wall-clock time (admin operations).
    public func withSimulation<T: Sendable, E: Error>(
        _ body: (inout DRSSimulation, Date) throws(E) -> T
    ) throws(E) -> T {
        try body(&simulation, clock())
    }
}
