import Foundation

/// Any JSON value, for request and response bodies the CLI passes through.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes any JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Encodes as the JSON it holds (integral numbers without a fraction).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] } else { return nil }
    }

    /// The string, if it is one.
    public var string: String? { if case .string(let value) = self { value } else { nil } }
    /// The array, if it is one.
    public var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    /// The object, if it is one.
    public var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    /// The number, if it is one.
    public var number: Double? { if case .number(let value) = self { value } else { nil } }

    /// Converts what a YAML or JSON parser produced (`Any`) into a JSON value.
    public init(any value: Any?) throws {
        switch value {
        case nil, is NSNull: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let value as [Any]: self = .array(try value.map { try JSONValue(any: $0) })
        case let value as [String: Any]: self = .object(try value.mapValues { try JSONValue(any: $0) })
        case let value as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, member) in value { object["\(key)"] = try JSONValue(any: member) }
            self = .object(object)
        default: throw CLIError.invalidFile("unsupported value \(String(describing: value))")
        }
    }
}

/// Problems the CLI reports to the operator; each says what to do.
public enum CLIError: Error, CustomStringConvertible, Equatable {
    /// The API answered with an error body.
    case api(status: Int, code: String, message: String, field: String?)
    /// A file to apply is malformed.
    case invalidFile(String)
    /// A name given on the command line does not exist.
    case notFound(String)
    /// Endpoint or token missing.
    case notConfigured(String)

    /// One line for the terminal.
    public var description: String {
        switch self {
        case let .api(status, code, message, field):
            "API error \(status) \(code)\(field.map { " (field \($0))" } ?? ""): \(message)"
        case .invalidFile(let reason): "invalid file: \(reason)"
        case .notFound(let what): "not found: \(what)"
        case .notConfigured(let what): "not configured: \(what)"
        }
    }
}
