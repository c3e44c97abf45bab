import Foundation
import MusterAPI
import MusterDomain

/// The one-time capability in a callout's callback URL (issue 16): 32 random
/// bytes (256 bits) in base64url, stored only as its SHA-256 digest.
struct CalloutToken: Sendable, Equatable {
    /// The token text; it travels only inside `callout.requested` on the private topic.
    let value: String

    /// The shape of a token in `POST /v1/callbacks/{token}` (the OpenAPI pattern).
    static var pattern: Regex<Substring> { #/^[A-Za-z0-9_-]{43}$/# }

    /// A fresh token.
    static func generate() -> CalloutToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return CalloutToken(value: text)
    }

    /// What the planner stores and looks up.
    static func digest(_ text: String) -> String { BearerToken.digestHex(text) }

    /// `<base>/v1/callbacks/<token>`.
    func callbackURL(base: String) -> String { "\(base)/v1/callbacks/\(value)" }
}

/// A callout's final result: the body of a callback, or of the receiver's 2xx
/// answer to the POST — `{"status": "SUCCEEDED"|"FAILED", "output": {…}}`.
struct CalloutReply: Sendable, Equatable {
    /// True for SUCCEEDED.
    var succeeded: Bool
    /// `output` as compact JSON, if given.
    var output: String?

    /// The largest `output`, as JSON text (the step keeps at most 4096 characters of it).
    static let maxOutputBytes = 16_384

    /// Reads a callback body; 422 naming the field and the rule for anything else.
    static func parse(_ bytes: [UInt8]) throws -> CalloutReply {
        try JSONBody.refuseLoneSurrogates(bytes)  // named, as for every other body
        guard let tree = try? JSONSerialization.jsonObject(with: Data(bytes), options: []),
              let object = tree as? [String: Any] else {
            throw APIError.validation(field: "", rule: "type",
                                      "the body must be a JSON object: {\"status\": \"SUCCEEDED\"|\"FAILED\", \"output\": {…}}")
        }
        if let extra = object.keys.sorted().first(where: { !["status", "output"].contains($0) }) {
            throw APIError.validation(field: extra, rule: "additionalProperties",
                                      "\(extra) is not a callback field; send only status and output")
        }
        // The house rule for text fields (JSONBody): a control character is refused, never echoed.
        // `output` is the receiver's own data and is kept as it sent it.
        if let status = object["status"] as? String, status.unicodeScalars.contains(where: TextRule.isControl) {
            throw APIError.validation(field: "status", rule: "controlCharacters",
                                      "status must not contain control characters; send SUCCEEDED or FAILED")
        }
        guard let raw = object["status"] else {
            throw APIError.validation(field: "status", rule: "required", "status is required: SUCCEEDED or FAILED")
        }
        guard let status = raw as? String, ["SUCCEEDED", "FAILED"].contains(status) else {
            throw APIError.validation(field: "status", rule: "enum", "status must be SUCCEEDED or FAILED")
        }
        var output: String?
        if let value = object["output"], !(value is NSNull) {
            guard value is [String: Any] else {
                throw APIError.validation(field: "output", rule: "type", "output must be a JSON object")
            }
            let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
            guard data.count <= maxOutputBytes else {
                throw APIError.validation(field: "output", rule: "maxLength",
                                          "output must be at most \(maxOutputBytes) bytes of JSON")
            }
            output = String(decoding: data, as: UTF8.self)
        }
        return CalloutReply(succeeded: status == "SUCCEEDED", output: output)
    }

    /// The final result in a receiver's 2xx answer to the POST, or nil when the
    /// answer is not one (empty, not JSON, no valid status): then the step waits for the callback.
    static func final(inAnswer answer: String?) -> CalloutReply? {
        guard let answer, !answer.isEmpty else { return nil }
        return try? parse(Array(answer.utf8))
    }
}
