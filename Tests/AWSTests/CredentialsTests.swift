import Foundation
import MusterAWS
import Testing

@Suite("AWS credentials")
struct CredentialsTests {
    @Test("Descriptions never contain the secret or the token")
    func redaction() {
        let credentials = AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "top/secret+key",
                                         sessionToken: "session-token-value", expiration: Date(timeIntervalSince1970: 0))
        for text in [credentials.description, credentials.debugDescription, String(describing: credentials),
                     String(reflecting: credentials), "\(credentials)"] {
            #expect(text.contains("ASIAEXAMPLE"))
            #expect(!text.contains("top/secret+key"))
            #expect(!text.contains("session-token-value"))
        }
    }

    @Test("Environment provider reads prefixed variables")
    func environment() async throws {
        let provider = EnvironmentCredentialsProvider(prefix: "ACCT1_", environment: [
            "ACCT1_AWS_ACCESS_KEY_ID": "AKID1", "ACCT1_AWS_SECRET_ACCESS_KEY": "s1", "ACCT1_AWS_SESSION_TOKEN": "t1",
            "AWS_ACCESS_KEY_ID": "other", "AWS_SECRET_ACCESS_KEY": "other",
        ])
        #expect(try await provider.credentials() == AWSCredentials(accessKeyID: "AKID1", secretAccessKey: "s1", sessionToken: "t1"))
        let plain = EnvironmentCredentialsProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(try await plain.credentials().sessionToken == nil)
    }

    @Test("A missing variable is named in the error")
    func environmentMissing() async {
        let provider = EnvironmentCredentialsProvider(prefix: "X_", environment: ["X_AWS_ACCESS_KEY_ID": "AKID"])
        await #expect(throws: AWSCredentialsError.missingEnvironmentVariable("X_AWS_SECRET_ACCESS_KEY")) {
            try await provider.credentials()
        }
    }

    @Test("expires(within:of:) honours the margin")
    func expiry() {
        let now = Date(timeIntervalSince1970: 1000)
        let credentials = AWSCredentials(accessKeyID: "a", secretAccessKey: "b", expiration: now.addingTimeInterval(600))
        #expect(!credentials.expires(within: .seconds(300), of: now))
        #expect(credentials.expires(within: .seconds(600), of: now))
        #expect(!AWSCredentials(accessKeyID: "a", secretAccessKey: "b").expires(within: .seconds(1_000_000), of: now))
    }
}
