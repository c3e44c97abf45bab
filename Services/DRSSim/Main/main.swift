import DRSSimApp
import Foundation
import MusterService

// The drs-sim executable: the shared logging and lifecycle around the DRS
// stand-in. Its own settings are DRS_SIM_* (Services/DRSSim/README.md); the
// common MUSTER_HTTP_HOST/PORT and MUSTER_LOG_* apply when the DRS_SIM_ ones
// are unset, so it runs like every other Muster process.
do {
    var environment = ProcessInfo.processInfo.environment
    for (common, own) in [("MUSTER_HTTP_PORT", "DRS_SIM_PORT"), ("MUSTER_HTTP_HOST", "DRS_SIM_HOST")]
    where environment[own] == nil {
        environment[own] = environment[common]
    }
    let service = try ServiceConfiguration(serviceName: "drs-sim", defaultPort: 8089)
    let logger = LoggingSetup.bootstrap(service: "drs-sim", level: service.logLevel, format: service.logFormat)
    let configuration = try DRSSimConfiguration.load(environment: environment)
    let server = try DRSSimServer(configuration: configuration, logger: logger)
    try await ServiceRunner.run([server], logger: logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
