@testable import MusterKafka
import Testing

@Suite("librdkafka version")
struct KafkaLibraryTests {
    @Test("the loaded librdkafka (2.16 via LD_LIBRARY_PATH) passes the version check")
    func loadedVersionIsSupported() throws {
        try KafkaLibrary.checkVersion()
        #expect(KafkaLibrary.versionNumber >= 0x0201_00ff)
        #expect(KafkaLibrary.versionString.hasPrefix(KafkaLibrary.format(versionNumber: KafkaLibrary.versionNumber)))
    }

    @Test("2.0.2 is rejected, 2.1.0 final accepted, a 2.1.0 pre-release rejected")
    func threshold() {
        #expect(!KafkaLibrary.isSupported(versionNumber: 0x0200_02ff))
        #expect(!KafkaLibrary.isSupported(versionNumber: 0x0201_0001))
        #expect(KafkaLibrary.isSupported(versionNumber: 0x0201_00ff))
        #expect(KafkaLibrary.isSupported(versionNumber: 0x0210_00ff))
    }

    @Test("too-old error says which version is loaded, what is needed and how to get it")
    func errorMessage() {
        let message = KafkaError.libraryTooOld(loaded: "2.0.2", required: "2.1.0").description
        #expect(message.contains("2.0.2"))
        #expect(message.contains(">= 2.1.0"))
        #expect(message.contains("scripts/setup.sh"))
        #expect(message.contains("LD_LIBRARY_PATH"))
    }

    @Test func formatsVersionNumbers() {
        #expect(KafkaLibrary.format(versionNumber: 0x0210_00ff) == "2.16.0")
        #expect(KafkaLibrary.format(versionNumber: 0x0200_02ff) == "2.0.2")
    }
}
