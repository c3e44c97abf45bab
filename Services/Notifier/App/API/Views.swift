import Foundation

/// A subscription as the API shows it: never the secret.
struct SubscriptionView: Encodable {
    var id: String
    var url: String
    var eventTypes: [String]
    var description: String
    var enabled: Bool
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date
    /// Only in the response that created the subscription with a generated
    /// secret (or rotated it): the one time it is shown.
    var secret: String?

    init(_ subscription: Subscription, revealing secret: WebhookSecret? = nil) {
        id = subscription.id.uuidString.lowercased()
        url = subscription.url
        eventTypes = subscription.filter.entries
        description = subscription.description
        enabled = subscription.enabled
        createdBy = subscription.createdBy
        createdAt = subscription.createdAt
        updatedAt = subscription.updatedAt
        self.secret = secret?.value
    }
}

/// One entry of a subscription's delivery log.
struct DeliveryView: Encodable {
    var id: String
    var subscriptionId: String
    var eventId: String
    var eventType: String
    var executionId: String
    var status: String
    var attempts: Int
    var nextAttemptAt: Date?
    var firstAttemptAt: Date?
    var lastAttemptAt: Date?
    var lastStatusCode: Int?
    var lastError: String?
    var deliveredAt: Date?
    var createdAt: Date

    init(_ delivery: Delivery) {
        id = delivery.id.uuidString.lowercased()
        subscriptionId = delivery.subscriptionID.uuidString.lowercased()
        eventId = delivery.eventID.uuidString.lowercased()
        eventType = delivery.eventType
        executionId = delivery.executionID
        status = delivery.status.rawValue
        attempts = delivery.attempts
        nextAttemptAt = delivery.status == .pending ? delivery.nextAttemptAt : nil
        firstAttemptAt = delivery.firstAttemptAt
        lastAttemptAt = delivery.lastAttemptAt
        lastStatusCode = delivery.lastStatusCode
        lastError = delivery.lastError
        deliveredAt = delivery.deliveredAt
        createdAt = delivery.createdAt
    }
}
