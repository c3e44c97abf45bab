import Foundation
import Instrumentation
import Logging
import MusterHTTP

/// Tracing settings from the environment. Off unless an endpoint is set:
///
/// | Variable | Meaning |
/// |---|---|
/// | `MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` | OTLP/HTTP base URL; spans go to `<base>/v1/traces` |
/// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the full traces URL (wins over the base) |
/// | `OTEL_EXPORTER_OTLP_HEADERS` | `key=value,…` sent with every export (never logged) |
/// | `OTEL_SERVICE_NAME` | `service.name` (default: the service's name) |
/// | `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` | off, whatever else is set |
/// | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | batching (ms, spans, spans) |
public enum TracingConfiguration {
    /// Why the tracing settings are unusable; names the variable and the rule, never the value of headers.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        /// The variable at fault.
        public var key: String
        /// The rule it breaks.
        public var rule: String
        /// One line naming both.
        public var description: String { "\(key) \(rule)" }
    }

    /// The exporter settings, or nil when tracing is off.
    public static func exporter(environment: [String: String], serviceName: String) throws
        -> OTLPHTTPExporter.Configuration?
    {
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" || value("OTEL_TRACES_EXPORTER")?.lowercased() == "none" {
            return nil
        }
        let endpoint: String
        let key: String
        if let full = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            (endpoint, key) = (full, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        } else if let base = value("MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT") ?? value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            key = value("MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT") != nil
                ? "MUSTER_OTEL_EXPORTER_OTLP_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT"
            endpoint = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
        } else {
            return nil
        }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil
        else { throw Invalid(key: key, rule: "must be an http:// or https:// URL") }
        guard url.user == nil, url.password == nil else {
            throw Invalid(key: key, rule: "must not carry credentials (use OTEL_EXPORTER_OTLP_HEADERS)")
        }
        var configuration = OTLPHTTPExporter.Configuration(
            endpoint: endpoint, serviceName: value("OTEL_SERVICE_NAME") ?? serviceName)
        if let headers = value("OTEL_EXPORTER_OTLP_HEADERS") {
            configuration.headers = try parseHeaders(headers)
        }
        configuration.scheduleDelay = .milliseconds(
            try integer(value("OTEL_BSP_SCHEDULE_DELAY"), key: "OTEL_BSP_SCHEDULE_DELAY", default: 5000, range: 0...600_000))
        configuration.maxQueue = try integer(
            value("OTEL_BSP_MAX_QUEUE_SIZE"), key: "OTEL_BSP_MAX_QUEUE_SIZE", default: 2048, range: 1...1_000_000)
        configuration.batchSize = try integer(
            value("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), key: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: 512,
            range: 1...configuration.maxQueue)
        return configuration
    }

    /// `key=value,key2=value2` (values percent-decoded), as the OpenTelemetry specification writes them.
    static func parseHeaders(_ text: String) throws -> [HTTPHeader] {
        try text.split(separator: ",").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard parts.count == 2, !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { throw Invalid(key: "OTEL_EXPORTER_OTLP_HEADERS", rule: "must be key=value pairs separated by commas") }
            let raw = parts[1].trimmingCharacters(in: .whitespaces)
            let decoded = raw.removingPercentEncoding ?? raw
            guard !decoded.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw Invalid(key: "OTEL_EXPORTER_OTLP_HEADERS", rule: "values must not contain line breaks")
            }
            return HTTPHeader(name, decoded)
        }
    }

    private static func integer(_ raw: String?, key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return defaultValue }
        guard let number = Int(raw), range.contains(number) else {
            throw Invalid(key: key, rule: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}

/// Process-wide tracing set-up, done once at start-up.
public enum TracingSetup {
    /// Installs ``MusterTracer`` exporting with `configuration` as the
    /// process's tracer and returns the exporter (a service to run, so it
    /// sends its queue on shutdown). Call at most once per process.
    public static func bootstrap(_ configuration: OTLPHTTPExporter.Configuration, logger: Logger) -> OTLPHTTPExporter {
        let exporter = OTLPHTTPExporter(configuration: configuration, logger: logger)
        InstrumentationSystem.bootstrap(MusterTracer(exporter: exporter))
        return exporter
    }

    /// The current span's trace and span ids, for log lines.
    public static var currentLogIDs: (traceID: String, spanID: String)? {
        guard let position = CurrentTrace.position else { return nil }
        return (position.traceID, position.spanID)
    }
}
