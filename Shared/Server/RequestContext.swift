import Foundation
import Hummingbird
import SamenplanDomain

/// The request context of every Samenplan service: Hummingbird's core storage plus the
/// verified caller, set by `AuthMiddleware` on `/v1`.
public struct SamenplanRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// JSON bodies, refusing text PostgreSQL cannot store (see `TextGuard`).
    public var requestDecoder: SamenplanRequestDecoder { SamenplanRequestDecoder() }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }

    /// The caller, if their role is one of `roles`; otherwise a 403 naming the roles allowed.
    public func require(_ roles: Role...) throws -> Identity {
        guard let identity else { throw Problem.unauthorized("A bearer token is required.") }
        guard roles.contains(identity.role) else {
            throw Problem.forbidden(
                "The role \(identity.role.rawValue) may not do this; allowed: \(roles.map(\.rawValue).joined(separator: ", ")).")
        }
        return identity
    }

    /// The path parameter `name` as a UUID, or a 400 saying what it should be
    /// ("The case id must be a UUID.").
    public func uuid(_ name: String = "id", describedAs what: String? = nil) throws -> UUID {
        guard let id = parameters.get(name).flatMap(UUID.init(uuidString:)) else {
            throw Problem.badRequest("The \(what ?? name) must be a UUID.")
        }
        return id
    }
}
