import Foundation
import JWTKit
import SamenplanDomain
import SamenplanServer
import Testing

/// Issue 18, finding 7: tokens whose times or subject make no sense, or whose header names
/// another algorithm, are refused; a little clock skew is allowed.
@Suite struct TokenPolicyTests {
    /// Long enough for HS512 too (JWTKit wants a key as long as the hash), so the same secret
    /// can sign the token of another algorithm.
    static let secret = String(repeating: "test-secret-", count: 6)
    /// The real clock: JWTKit checks `exp` against it itself.
    static let now = Date()

    static func token(
        subject: String = "fm-1", issuedAt: Date = now, expiresAt: Date = now.addingTimeInterval(3600), notBefore: Date? = nil,
        digest: DigestAlgorithm = .sha256
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
        return try await keys.sign(
            SamenplanClaims(
                subject: subject, role: .familyManager, areas: ["goes"], issuer: "samenplan", expiresAt: expiresAt,
                issuedAt: issuedAt, notBefore: notBefore))
    }

    static func verdict(_ token: String) async -> String {
        let authority = await TokenAuthority(secret: secret, issuer: "samenplan", policy: TokenPolicy(clockSkew: 60, maxLifetime: 86_400))
        do {
            return try await authority.verify(token, now: now).subject
        } catch {
            return "refused: \(error.description)"
        }
    }

    @Test func anOrdinaryTokenIsAccepted() async throws {
        #expect(await Self.verdict(try await Self.token()) == "fm-1")
        // Issued or valid from a little ahead of this clock: the skew allows it.
        #expect(await Self.verdict(try await Self.token(issuedAt: Self.now.addingTimeInterval(30))) == "fm-1")
        #expect(await Self.verdict(try await Self.token(notBefore: Self.now.addingTimeInterval(30))) == "fm-1")
    }

    @Test func aTokenNotValidYetIsRefused() async throws {
        let later = try await Self.token(notBefore: Self.now.addingTimeInterval(3600))
        #expect(await Self.verdict(later).contains("not valid yet"))
        let issuedNextYear = try await Self.token(
            issuedAt: Self.now.addingTimeInterval(365 * 86_400), expiresAt: Self.now.addingTimeInterval(365 * 86_400 + 3600))
        #expect(await Self.verdict(issuedNextYear).contains("not valid yet"))
    }

    @Test func aTokenForACenturyIsRefused() async throws {
        let century = try await Self.token(expiresAt: Self.now.addingTimeInterval(100 * 365 * 86_400))
        #expect(await Self.verdict(century).contains("lives longer"))
        // An old iat cannot stretch it either: what is left of its life counts too.
        let backdated = try await Self.token(issuedAt: Self.now.addingTimeInterval(-86_000), expiresAt: Self.now.addingTimeInterval(3600))
        #expect(await Self.verdict(backdated).contains("lives longer"))
    }

    @Test func aTokenWithoutASubjectIsRefused() async throws {
        #expect(await Self.verdict(try await Self.token(subject: "")).contains("no subject"))
        #expect(await Self.verdict(try await Self.token(subject: "  ")).contains("no subject"))
    }

    @Test func aHeaderNamingAnotherAlgorithmIsRefused() async throws {
        // Signed with the same secret, but HS512: not the algorithm the suite is set up for.
        #expect(await Self.verdict(try await Self.token(digest: .sha512)).contains("HS256"))
        #expect(await Self.verdict("e30.e30.").contains("HS256"))
    }
}
