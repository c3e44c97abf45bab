import CRdKafka

/// Facts about the librdkafka loaded at run time (which may differ from the headers built against).
public enum KafkaLibrary {
    /// Oldest supported librdkafka, in `rd_kafka_version()` format (2.1.0 final).
    /// Older releases (Debian 12 ships 2.0.2) fail API-version negotiation with some brokers and then hang.
    public static let minimumVersionNumber = 0x0201_00ff

    /// The loaded librdkafka's version string, e.g. "2.16.0".
    public static var versionString: String { String(cString: rd_kafka_version_str()) }

    /// The loaded librdkafka's version number: 0xMMmmrrpp (major, minor, revision, pre-release; 0xff = final).
    public static var versionNumber: Int { Int(rd_kafka_version()) }

    /// Throws ``KafkaError/libraryTooOld(loaded:required:)`` when the loaded librdkafka is older than 2.1.0.
    /// Call it at start-up so an old library fails loudly instead of hanging on the first request.
    public static func checkVersion() throws {
        guard isSupported(versionNumber: versionNumber) else {
            throw KafkaError.libraryTooOld(loaded: versionString, required: format(versionNumber: minimumVersionNumber))
        }
    }

    /// Whether `versionNumber` (in `rd_kafka_version()` format) is new enough.
    static func isSupported(versionNumber: Int) -> Bool { versionNumber >= minimumVersionNumber }

    /// "major.minor.revision" for a `rd_kafka_version()`-format number.
    static func format(versionNumber: Int) -> String {
        "\((versionNumber >> 24) & 0xff).\((versionNumber >> 16) & 0xff).\((versionNumber >> 8) & 0xff)"
    }
}
