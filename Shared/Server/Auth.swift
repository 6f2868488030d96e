import Foundation
import Hummingbird
import JWTKit
import SamenplanDomain
import SamenplanStorage

/// Who is calling: the verified claims of their bearer token.
public struct Identity: Sendable, Hashable {
    /// The person or service (`sub`), for example a family manager's id.
    public var subject: String
    public var role: Role
    /// The areas a team lead, family manager or neighbourhood team works in.
    public var areas: [String]
}

/// The claims of a Samenplan bearer token.
public struct SamenplanClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var iss: IssuerClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim
    public var role: String
    public var areas: [String]

    public init(subject: String, role: Role, areas: [String], issuer: String, expiresAt: Date, issuedAt: Date = Date()) {
        self.sub = SubjectClaim(value: subject)
        self.iss = IssuerClaim(value: issuer)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.role = role.rawValue
        self.areas = areas
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and verifies bearer tokens with the suite's HMAC-SHA256 key. Tokens signed with any
/// other algorithm (including `none`) or another issuer are refused.
public struct TokenAuthority: Sendable {
    let keys: JWTKeyCollection
    public let issuer: String

    public init(secret: String, issuer: String) async {
        self.keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.issuer = issuer
    }

    public func sign(subject: String, role: Role, areas: [String] = [], lifetime: Duration = .seconds(3600)) async throws
        -> String
    {
        let claims = SamenplanClaims(
            subject: subject, role: role, areas: areas, issuer: issuer,
            expiresAt: Date().addingTimeInterval(Double(lifetime.components.seconds)))
        return try await keys.sign(claims)
    }

    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    public func verify(_ token: String) async throws(Refused) -> Identity {
        let claims: SamenplanClaims
        do {
            claims = try await keys.verify(token, as: SamenplanClaims.self)
        } catch {
            throw Refused(description: "The bearer token is not valid: it is malformed, badly signed or expired.")
        }
        guard claims.iss.value == issuer else {
            throw Refused(description: "The bearer token was issued by another issuer.")
        }
        guard let role = Role(rawValue: claims.role) else {
            throw Refused(description: "The bearer token names an unknown role.")
        }
        return Identity(subject: claims.sub.value, role: role, areas: claims.areas.map { $0.lowercased() })
    }
}

/// Requires a valid bearer token on every route it wraps (`/v1`), and puts the caller in the
/// request context. Which role may do what is decided per route with `context.require`.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = SamenplanRequestContext
    let authority: TokenAuthority

    public init(authority: TokenAuthority) {
        self.authority = authority
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthorized("A bearer token is required (Authorization: Bearer …).")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem.unauthorized("The Authorization header must be `Bearer <token>`.")
        }
        var context = context
        do {
            context.identity = try await authority.verify(String(parts[1]))
        } catch {
            throw Problem.unauthorized(error.description)
        }
        context.logger[metadataKey: "caller"] = "\(context.identity!.role.rawValue):\(context.identity!.subject)"
        return try await next(request, context)
    }
}

extension AuditEntry {
    /// What `caller` did (or was refused) on family data: one line of the audit log.
    public init(
        _ caller: Identity, _ action: String, _ resourceType: String, _ resourceId: UUID, caseId: UUID?,
        allowed: Bool = true
    ) {
        self.init(
            actor: caller.subject, role: caller.role.rawValue, action: action, resourceType: resourceType,
            resourceId: resourceId.uuidString.lowercased(), caseId: caseId, outcome: allowed ? "allowed" : "denied")
    }
}
