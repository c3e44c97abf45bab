import Configuration
import Foundation

/// A start-up configuration problem, naming the setting and what to do.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// A required environment variable is not set.
    case missing(key: String, help: String)
    /// A variable is set to a value that breaks its rule. Secret values are
    /// never echoed.
    case invalid(key: String, value: String?, rule: String)

    /// A one-line message naming the variable and the rule.
    public var description: String {
        switch self {
        case .missing(let key, let help): "missing setting \(key): \(help)"
        case .invalid(let key, let value?, let rule): "invalid setting \(key)=\(value): \(rule)"
        case .invalid(let key, nil, let rule): "invalid setting \(key): \(rule)"
        }
    }
}

/// Typed, validated access to Muster's environment variables with defaults,
/// read through apple/swift-configuration (an `EnvironmentVariablesProvider`
/// behind a `ConfigReader`). Every getter names the variable in its error;
/// the variables ``isSecret(_:)`` picks are read as secrets (swift-configuration
/// redacts them in its access reports and descriptions) and their values are
/// never included in an error.
///
/// The parsing rules (units of durations, ranges, booleans, letter case) and
/// the error messages are Muster's own, written in the README's tables;
/// swift-configuration supplies the provider, the key lookup and the secret
/// marking.
public struct EnvironmentSettings: Sendable {
    /// The variables read (also handed to the OTLP settings, `TracingConfiguration`).
    public let environment: [String: String]
    private let reader: ConfigReader

    /// Settings over `environment` (default: the process's).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        reader = ConfigReader(provider: EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .dynamic { key, _ in EnvironmentSettings.isSecret(key) }))
    }

    /// Whether the variable `key` holds a secret: a token, a password, a
    /// client secret, a database URL (it may carry a password) or librdkafka
    /// properties (they may carry SASL credentials).
    public static func isSecret(_ key: String) -> Bool {
        let name = key.uppercased()
        return ["TOKEN", "SECRET", "PASSWORD", "CREDENTIALS"].contains { name.contains($0) }
            || name == "MUSTER_DATABASE_URL" || (name.hasPrefix("MUSTER_KAFKA_") && name.hasSuffix("PROPERTIES"))
    }

    private func raw(_ key: String) -> String? {
        let read = reader.string(forKey: ConfigKey([key]), isSecret: Self.isSecret(key))
        guard let value = read?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// `value` as an error may show it: nil for a secret.
    private func shown(_ key: String, _ value: String) -> String? {
        Self.isSecret(key) ? nil : value
    }

    /// A string, or `defaultValue` when unset.
    public func string(_ key: String, default defaultValue: String) -> String {
        raw(key) ?? defaultValue
    }

    /// An optional string.
    public func optionalString(_ key: String) -> String? {
        raw(key)
    }

    /// A required string; `help` says how to set it.
    public func requiredString(_ key: String, help: String) throws -> String {
        guard let value = raw(key) else { throw ConfigurationError.missing(key: key, help: help) }
        return value
    }

    /// An integer within `range`, or `defaultValue` when unset.
    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let value = raw(key) else { return defaultValue }
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError.invalid(
                key: key, value: shown(key, value), rule: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A number within `range`, or `defaultValue` when unset.
    public func double(_ key: String, default defaultValue: Double, range: ClosedRange<Double>) throws -> Double {
        guard let value = raw(key) else { return defaultValue }
        guard let number = Double(value), number.isFinite, range.contains(number) else {
            throw ConfigurationError.invalid(
                key: key, value: shown(key, value), rule: "must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A boolean (`true/false`, `1/0`, `yes/no`), or `defaultValue` when unset.
    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let value = raw(key)?.lowercased() else { return defaultValue }
        switch value {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError.invalid(key: key, value: shown(key, value), rule: "must be true or false")
        }
    }

    /// A duration written as a number with a unit (`250ms`, `5s`, `2m`,
    /// `1h`), or `defaultValue` when unset.
    public func duration(_ key: String, default defaultValue: Duration) throws -> Duration {
        guard let value = raw(key) else { return defaultValue }
        guard let parsed = Self.parseDuration(value), parsed >= .zero else {
            throw ConfigurationError.invalid(
                key: key, value: shown(key, value), rule: "must be a duration like 250ms, 5s, 2m or 1h")
        }
        return parsed
    }

    /// One of `Value`'s raw values, in any letter case, or `defaultValue` when unset.
    public func oneOf<Value: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: Value) throws -> Value
    where Value.RawValue == String {
        guard let value = raw(key) else { return defaultValue }
        guard let parsed = Value.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError.invalid(key: key, value: shown(key, value), rule: "must be one of: \(allowed)")
        }
        return parsed
    }

    /// `k=v` pairs separated by commas (e.g. librdkafka properties), or empty.
    public func keyValues(_ key: String) throws -> [String: String] {
        guard let value = raw(key) else { return [:] }
        var result: [String: String] = [:]
        for pair in value.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError.invalid(key: key, value: nil, rule: "must be comma-separated key=value pairs")
            }
            result[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// Parses `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number.isFinite else { return nil }
            return .milliseconds(Int64((number * scale * 1000).rounded()))
        }
        guard let seconds = Double(text), seconds.isFinite else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
