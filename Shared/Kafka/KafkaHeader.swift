/// One Kafka record header. Names may repeat within a record; order is preserved end to end.
public struct KafkaHeader: Sendable, Hashable {
    /// Header name.
    public var name: String
    /// Raw value; `nil` is a null header (distinct from an empty value).
    public var value: [UInt8]?

    /// Creates a header with a raw (possibly null) value.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// Creates a header whose value is `string` encoded as UTF-8.
    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

extension Sequence<KafkaHeader> {
    /// The first header named `name` whose value is non-null valid UTF-8, decoded.
    func firstString(named name: String) -> String? {
        guard let header = first(where: { $0.name == name }), let value = header.value else { return nil }
        return String(validating: value, as: UTF8.self)
    }
}
