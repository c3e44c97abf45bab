import Foundation
import Hummingbird
import MusterDomain

extension RequestContext {
    /// The `{name}` path parameter as a UUID; a malformed id is simply not
    /// found, so the 404 names `what` rather than the syntax.
    public func id(_ name: String = "id", what: String) throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else { throw APIError.notFound(what) }
        return id
    }

    /// The `{name}` path parameter as a typed id (`PlanID`, `TeamID`, …); a
    /// malformed id is not found, as with ``id(_:what:)``.
    public func id<ID: UUIDIdentifier>(_ type: ID.Type, _ name: String = "id", what: String) throws -> ID {
        ID(try id(name, what: what))
    }
}
