import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// drs-sim as a `Service`: an HTTP server speaking the DRS REST-JSON protocol plus the admin
/// API, health and metrics. Put it in a `ServiceGroup`, or `run()` it in-process in tests.
public struct DRSSimServer: Service {
    /// The simulation it serves (tests may drive it directly).
    public let engine: DRSSimEngine
    private let configuration: DRSSimConfiguration
    private let logger: Logger
    private let onServerRunning: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - configuration: what to serve and where.
    ///   - logger: where to log.
    ///   - now: the wall clock (tests may control it).
    ///   - onServerRunning: called with the bound port once the server listens (useful with port 0);
    ///     last, so a trailing closure binds to it.
    /// - Throws: `DRSSimAdminError` if the seed document is invalid.
    public init(
        configuration: DRSSimConfiguration, logger: Logger, now: @escaping @Sendable () -> Date = { Date() },
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) throws(DRSSimAdminError) {
        self.configuration = configuration
        self.logger = logger
        self.onServerRunning = onServerRunning
        self.engine = try DRSSimEngine(configuration: configuration, now: now)
    }

    /// A server that reports nothing when it starts listening (the port is `configuration.port`).
    public init(
        configuration: DRSSimConfiguration, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) throws(DRSSimAdminError) {
        try self.init(configuration: configuration, logger: logger, now: now, onServerRunning: { _ in })
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let responder = DRSSimResponder(
            engine: engine, admin: AdminAPI(engine: engine, token: configuration.adminToken), logger: logger
        )
        let port = configuration.port
        let callback = onServerRunning
        logger.debug("drs-sim configuration", metadata: ["configuration": "\(configuration)"])
        let logger = logger
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: port), serverName: "drs-sim"
            ),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("drs-sim listening", metadata: ["port": "\(bound)"])
                await callback(bound)
            },
            logger: logger
        )
        try await app.run()
    }
}
