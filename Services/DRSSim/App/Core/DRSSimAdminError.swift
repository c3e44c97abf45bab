/// A rejected admin request (bad seed, bad fault, bad setting), answered with HTTP 400 or 404.
public struct DRSSimAdminError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status for the admin API.
    public var httpStatus: Int
    /// What is wrong and how to fix it.
    public var message: String

    /// A 400 with `message`.
    public init(_ message: String, httpStatus: Int = 400) {
        self.message = message
        self.httpStatus = httpStatus
    }

    /// The message.
    public var description: String { message }
}
