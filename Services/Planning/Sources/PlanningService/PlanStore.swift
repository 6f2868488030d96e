import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanStorage

/// Reads of the versioned family plan (`plan_versions`), and the facts about a case that
/// the lifecycle's guards look at.
enum PlanStore {
    struct Version: Sendable {
        var version: Int
        var status: String
        var content: PlanContent
        var reason: String
        var author: String
        var createdAt: Date
        var decidedBy: String?
        var decidedAt: Date?
        var comment: String?

        /// The version as the API shows it; `withContent: false` for lists.
        func json(withContent: Bool) -> [String: JSON] {
            var body: [String: JSON] = [
                "version": .number(Double(version)), "status": .string(status), "reason": .string(reason),
                "author": .string(author), "createdAt": .string(Timestamp.format(createdAt)),
                "decidedBy": decidedBy.map(JSON.string) ?? .null,
                "decidedAt": decidedAt.map { .string(Timestamp.format($0)) } ?? .null,
                "comment": comment.map(JSON.string) ?? .null,
            ]
            if withContent { body["plan"] = (try? JSON(encoding: content)) ?? .null }
            return body
        }
    }

    /// The plan's versions in order, or only version `number`.
    static func versions(of caseId: UUID, on connection: PostgresConnection, logger: Logger, number: Int?) async throws
        -> [Version]
    {
        let rows = try await connection.query(
            """
            SELECT version, status, content::text, reason, author, created_at, decided_by, decided_at, decision_comment
            FROM plan_versions WHERE case_id = \(caseId) AND (\(number)::int IS NULL OR version = \(number))
            ORDER BY version
            """, logger: logger)
        var versions: [Version] = []
        for try await (version, status, content, reason, author, createdAt, decidedBy, decidedAt, comment) in rows.decode(
            (Int, String, String, String, String, Date, String?, Date?, String?).self)
        {
            versions.append(
                Version(
                    version: version, status: status,
                    content: try JSONCoding.decoder.decode(PlanContent.self, from: Data(content.utf8)), reason: reason,
                    author: author, createdAt: createdAt, decidedBy: decidedBy, decidedAt: decidedAt, comment: comment))
        }
        return versions
    }

    /// The most versions one plan keeps (issue 18, finding 10).
    static let maxVersions = 500

    /// The latest version's number; 0 when the case has no plan yet.
    static func latestVersionNumber(of caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> Int
    {
        try await connection.one(LatestVersionNumber(id: caseId), logger: logger) ?? 0
    }

    struct LatestVersionNumber: PreparedByID {
        static let sql = "SELECT COALESCE(max(version), 0) FROM plan_versions WHERE case_id = $1"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
    }

    /// A new proposed version; prepared, as plan updates are the busiest write.
    struct InsertVersion: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO plan_versions (case_id, version, content, reason, author, created_at)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6)
            """
        typealias Row = Void
        var caseId: UUID
        var version: Int
        var content: String
        var reason: String
        var author: String
        var createdAt: Date
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(caseId)
            bindings.append(version)
            bindings.append(content)
            bindings.append(reason)
            bindings.append(author)
            bindings.append(createdAt)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// The plan in effect: the latest approved version.
    static func latestApproved(of caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> Version?
    {
        let rows = try await connection.query(
            """
            SELECT max(version) FROM plan_versions WHERE case_id = \(caseId) AND status = 'approved'
            """, logger: logger
        ).collect()
        guard let number = try rows.first?.decode(Int?.self) else { return nil }
        return try await versions(of: caseId, on: connection, logger: logger, number: number).first
    }

    /// What the lifecycle's guards look at, as the database holds it now.
    static func facts(about found: PlanningCase, on connection: PostgresConnection, logger: Logger) async throws
        -> CaseFacts
    {
        let approved = try await latestApproved(of: found.id, on: connection, logger: logger)
        let evaluations = try await connection.query(
            "SELECT count(*) FROM evaluations WHERE case_id = \(found.id) AND phase = 'support'", logger: logger
        ).collect().first?.decode(Int.self) ?? 0
        var continuation: CaseFacts.ContinuationPlan?
        if let (content, status) = try await connection.query(
            "SELECT content::text, status FROM continuation_plans WHERE case_id = \(found.id)", logger: logger
        ).collect().first?.decode((String, String).self) {
            let plan = try JSONCoding.decoder.decode(CaseEndingRoutes.ContinuationPlan.self, from: Data(content.utf8))
            continuation = .init(parts: plan.parts, approved: status == "approved")
        }
        let safe = try await connection.query(
            "SELECT children_safe FROM safety_assessments WHERE case_id = \(found.id) ORDER BY assessed_at DESC, id DESC LIMIT 1",
            logger: logger
        ).collect().first?.decode(Bool.self)
        let handover = try await connection.query(
            "SELECT status FROM handovers WHERE case_id = \(found.id)", logger: logger
        ).collect().first?.decode(String.self)
        return CaseFacts(
            phase: found.phase,
            approvedPlan: approved.map {
                .init(goals: $0.content.goals.count, safetyAgreements: $0.content.safetyAgreements.count)
            },
            evaluationsInSupport: evaluations, continuationPlan: continuation,
            safetyAssessment: safe.map { $0 ? .safe : .notSafe }, handoverAccepted: handover == "accepted")
    }
}
