/// A DRS error shape from the service model (`ConflictException`, `ThrottlingException`, …).
///
/// On the wire an error is an HTTP status, the `x-amzn-ErrorType` header naming the type, and a
/// JSON body with the shape's members. The generated error structs conform, so code that maps
/// between the wire and Swift errors (the DRS client, drs-sim) needs one code path for all of them.
public protocol DRSErrorShape: Error, Codable, Sendable {
    /// The error type name, e.g. `ConflictException`.
    static var errorType: String { get }
    /// The HTTP status DRS answers this error with.
    static var httpStatusCode: Int { get }
    /// True for server-side faults (HTTP 5xx), which a caller may retry as-is.
    static var isServerFault: Bool { get }
}
