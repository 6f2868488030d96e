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
    public var nbf: NotBeforeClaim?
    public var role: String
    public var areas: [String]

    public init(
        subject: String, role: Role, areas: [String], issuer: String, expiresAt: Date, issuedAt: Date = Date(),
        notBefore: Date? = nil
    ) {
        self.sub = SubjectClaim(value: subject)
        self.iss = IssuerClaim(value: issuer)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.nbf = notBefore.map { NotBeforeClaim(value: $0) }
        self.role = role.rawValue
        self.areas = areas
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// What a token's times must be to be accepted (issue 18, finding 7): not used before its
/// `nbf` or issued in the future (with `clockSkew` for clocks that differ a little), and
/// valid for at most `maxLifetime` from its `iat`, so a stolen long-lived token is no key
/// for a century. Set with `JWT_CLOCK_SKEW_SECONDS` and `JWT_MAX_LIFETIME_SECONDS`.
public struct TokenPolicy: Sendable, Hashable {
    public var clockSkew: TimeInterval
    public var maxLifetime: TimeInterval

    public init(clockSkew: TimeInterval = 60, maxLifetime: TimeInterval = 86_400) {
        self.clockSkew = clockSkew
        self.maxLifetime = maxLifetime
    }
}

/// Signs and verifies bearer tokens with the suite's HMAC-SHA256 key. Tokens signed with any
/// other algorithm (including `none`), another issuer, times outside `TokenPolicy` or an empty
/// subject are refused.
public struct TokenAuthority: Sendable {
    let keys: JWTKeyCollection
    public let issuer: String
    public let policy: TokenPolicy
    /// The one `alg` a token's header may name.
    static let algorithm = "HS256"

    public init(secret: String, issuer: String, policy: TokenPolicy = TokenPolicy()) async {
        self.keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.issuer = issuer
        self.policy = policy
    }

    public func sign(subject: String, role: Role, areas: [String] = [], lifetime: Duration = .seconds(3600)) async throws
        -> String
    {
        let now = Date()
        let claims = SamenplanClaims(
            subject: subject, role: role, areas: areas, issuer: issuer,
            expiresAt: now.addingTimeInterval(Double(lifetime.components.seconds)), issuedAt: now)
        return try await keys.sign(claims)
    }

    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    public func verify(_ token: String, now: Date = Date()) async throws(Refused) -> Identity {
        guard Self.headerAlgorithm(of: token) == Self.algorithm else {
            throw Refused(description: "The bearer token must be signed with \(Self.algorithm).")
        }
        let claims: SamenplanClaims
        do {
            claims = try await keys.verify(token, as: SamenplanClaims.self)
        } catch {
            throw Refused(description: "The bearer token is not valid: it is malformed, badly signed or expired.")
        }
        guard claims.iss.value == issuer else {
            throw Refused(description: "The bearer token was issued by another issuer.")
        }
        guard !claims.sub.value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refused(description: "The bearer token names no subject.")
        }
        let latest = now.addingTimeInterval(policy.clockSkew)
        guard claims.iat.value <= latest, claims.nbf.map({ $0.value <= latest }) ?? true else {
            throw Refused(description: "The bearer token is not valid yet.")
        }
        // A JWT's times are whole seconds (NumericDate): allow the one second rounding adds.
        guard claims.exp.value.timeIntervalSince(claims.iat.value) <= policy.maxLifetime + 1,
            claims.exp.value.timeIntervalSince(now) <= policy.maxLifetime + policy.clockSkew
        else {
            throw Refused(
                description: "The bearer token lives longer than the \(Int(policy.maxLifetime)) seconds a token may.")
        }
        guard let role = Role(rawValue: claims.role) else {
            throw Refused(description: "The bearer token names an unknown role.")
        }
        return Identity(subject: claims.sub.value, role: role, areas: claims.areas.map { $0.lowercased() })
    }
}

extension TokenAuthority {
    /// The `alg` of a compact JWS's header, read before anything else is trusted; nil when
    /// the header is no base64url JSON object.
    static func headerAlgorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
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
