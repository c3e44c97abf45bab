import Foundation
import MusterAPI

/// The body of `POST /v1/subscriptions`.
struct CreateSubscriptionBody: Decodable {
    var url: String
    var eventTypes: [String]?
    var secret: String?
    var description: String?
    var enabled: Bool?
}

/// The body of `PATCH /v1/subscriptions/{id}`: only the fields present change.
struct UpdateSubscriptionBody: Decodable {
    var url: String?
    var eventTypes: [String]?
    var secret: String?
    var description: String?
    var enabled: Bool?
}

/// The validation rules of subscription fields. Pure: returns the first
/// problem as an `APIError` (422) naming the field and the rule.
struct SubscriptionRules: Sendable {
    var allowHTTP: Bool

    static let maxURLLength = 2048
    static let maxDescriptionLength = 500
    /// The shape of a subscription URL, word for word the `url` pattern of
    /// the notifier's OpenAPI document (a test holds them together): http(s),
    /// a host name or IPv4 address, an optional port (1–65535), a path and query of URL
    /// characters; no user:password, #fragment, space, `%` escape or non-ASCII.
    static let urlPattern =
        "^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(?:\\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$"
    private static let urlShape: NSRegularExpression = {
        do { return try NSRegularExpression(pattern: urlPattern) } catch { fatalError("urlPattern: \(error)") }
    }()

    func checkURL(_ url: String) throws -> String {
        guard url.unicodeScalars.count <= Self.maxURLLength else {
            throw APIError.validation(field: "url", rule: "maxLength", "url must be at most \(Self.maxURLLength) characters")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else {
            throw APIError.validation(field: "url", rule: "format", "url must be an absolute URL such as https://hooks.example.com/muster")
        }
        guard scheme == "https" || (scheme == "http" && allowHTTP) else {
            let rule = scheme == "http" ? "https" : "scheme"
            let hint = scheme == "http"
                ? "url must use https (http is accepted only when the notifier runs with MUSTER_NOTIFIER_ALLOW_HTTP=true)"
                : "url must use https"
            throw APIError.validation(field: "url", rule: rule, hint)
        }
        guard components.user == nil, components.password == nil else {
            throw APIError.validation(field: "url", rule: "noCredentials",
                                      "url must not carry user:password; authenticate requests by their signature")
        }
        guard components.fragment == nil, !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw APIError.validation(field: "url", rule: "format", "url must not contain spaces, control characters or a #fragment")
        }
        let whole = NSRange(url.startIndex..., in: url)
        guard Self.urlShape.firstMatch(in: url, range: whole) != nil else {
            throw APIError.validation(
                field: "url", rule: "pattern",
                "url must be http(s)://host[:port][/path][?query] in plain ASCII URL characters (no spaces, % escapes or #fragment)")
        }
        return url
    }

    func checkEventTypes(_ entries: [String]) throws -> EventFilter {
        if let problem = EventFilter.problem(with: entries) {
            throw APIError.validation(field: "eventTypes", rule: problem.rule, problem.message)
        }
        return EventFilter(entries: entries)
    }

    func checkSecret(_ secret: String) throws -> WebhookSecret {
        guard WebhookSecret.allowedLength.contains(secret.count) else {
            throw APIError.validation(
                field: "secret", rule: "length",
                "secret must be \(WebhookSecret.allowedLength.lowerBound) to \(WebhookSecret.allowedLength.upperBound) characters; omit it to have one generated")
        }
        guard secret.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw APIError.validation(field: "secret", rule: "printableASCII",
                                      "secret must be printable ASCII without spaces")
        }
        return WebhookSecret(secret)
    }

    func checkDescription(_ text: String) throws -> String {
        // Counted in Unicode scalars, as the document's maxLength counts.
        guard text.unicodeScalars.count <= Self.maxDescriptionLength else {
            throw APIError.validation(field: "description", rule: "maxLength",
                                      "description must be at most \(Self.maxDescriptionLength) characters")
        }
        return text
    }
}
