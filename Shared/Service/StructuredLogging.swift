import Foundation
import Logging
import MusterTracing
import Synchronization

/// A swift-log handler writing one JSON object per line to standard error:
/// `ts`, `level`, `service`, `logger`, `msg` and the metadata. Metadata whose
/// key names a secret (secret, token, password, authorization, credential)
/// is written as `[REDACTED]`, a last line of defence behind never logging
/// secrets in the first place. A line written inside a traced span carries
/// `trace_id` and `span_id` (W3C, hex), so logs and traces join.
public struct JSONLogHandler: LogHandler {
    /// The minimum level written.
    public var logLevel: Logger.Level
    /// Metadata attached to every record of this logger.
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let service: String

    /// A handler for logger `label` in `service`.
    public init(label: String, service: String, level: Logger.Level) {
        self.label = label
        self.service = service
        self.logLevel = level
    }

    /// Metadata lookup by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var fields: [String: JSONLine] = [
            "ts": .string(Self.timestamp()), "level": .string(event.level.rawValue), "service": .string(service),
            "logger": .string(label), "msg": .string(event.message.description),
        ]
        if let ids = TracingSetup.currentLogIDs {
            fields["trace_id"] = .string(ids.traceID)
            fields["span_id"] = .string(ids.spanID)
        }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.isSecret(key) ? .string("[REDACTED]") : Self.json(value)
        }
        // Written by hand, not with JSONSerialization (whose sorted keys load ICU: JSONLine).
        LogOutput.shared.write(Data(JSONLine.object(fields).bytes))
    }

    /// True when `key` names a secret.
    public static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["secret", "token", "password", "authorization", "credential"].contains { lower.contains($0) }
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONLine {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let array): .array(array.map(json))
        case .dictionary(let dictionary): .object(dictionary.mapValues(json))
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }
}

/// Serialises whole lines to standard error so concurrent records never interleave.
final class LogOutput: Sendable {
    static let shared = LogOutput()
    private let lock = Mutex(())

    func write(_ line: Data) {
        lock.withLock { _ in
            var bytes = line
            bytes.append(0x0A)
            FileHandle.standardError.write(bytes)
        }
    }
}

/// Process-wide logging set-up, done once at start-up.
public enum LoggingSetup {
    /// Bootstraps swift-log with the configured format and level, and returns
    /// the service's root logger.
    public static func bootstrap(service: String, level: Logger.Level, format: ServiceConfiguration.LogFormat) -> Logger {
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, service: service, level: level)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: service)
    }
}
