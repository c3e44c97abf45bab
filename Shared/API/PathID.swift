import Foundation
import Hummingbird

extension RequestContext {
    /// The `{name}` path parameter as a UUID; a malformed id is simply not
    /// found, so the 404 names `what` rather than the syntax.
    public func id(_ name: String = "id", what: String) throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else { throw APIError.notFound(what) }
        return id
    }
}
