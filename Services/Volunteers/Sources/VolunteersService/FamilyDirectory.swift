import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SamenplanDomain
import SamenplanServer

/// The first names of the family a volunteer helps. Names are intake's: this service asks
/// intake's API with a service token each time it shows them and keeps none (DESIGN.md,
/// Services); intake audits the read.
struct FamilyDirectory: Sendable {
    let intakeURL: String
    let tokens: TokenAuthority

    /// The family's first names, or nil when intake cannot answer now: the volunteer still
    /// sees their assignment, without the names, rather than an error.
    func firstNames(of caseId: UUID, logger: Logger) async -> [String]? {
        do {
            let token = try await tokens.sign(subject: "volunteers", role: .service, lifetime: .seconds(60))
            var request = HTTPClientRequest(url: "\(intakeURL)/v1/cases/\(caseId.uuidString.lowercased())/first-names")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(2))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else {
                logger.warning("intake answered \(response.status.code) for a family's first names", metadata: ["case": "\(caseId)"])
                return nil
            }
            let answer = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: body))
            return answer["firstNames"]?.arrayValue?.compactMap(\.stringValue)
        } catch {
            logger.warning("intake did not answer for a family's first names: \(error)", metadata: ["case": "\(caseId)"])
            return nil
        }
    }
}
