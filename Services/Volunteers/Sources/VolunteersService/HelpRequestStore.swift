import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// A help request as the volunteers service keeps it: what planning raised, plus the
/// coordinator's wishes for the match.
struct HelpRequestRecord: Sendable {
    var id: UUID
    var caseId: UUID
    var area: String
    var managerId: String?
    var kind: HelpKind
    var goalId: String?
    var need: String
    var skills: [String]
    var languages: [String]
    var availability: [String]
    var status: String
    var raisedAt: Date

    private static let columns =
        "id, case_id, area, manager_id, kind, goal_id, need, skills, languages, availability, status, raised_at"

    private init(row: PostgresRow) throws {
        let (id, caseId, area, managerId, kind, goalId, need, skills, languages, availability, status, raisedAt) =
            try row.decode(
                (UUID, UUID, String, String?, String, String?, String, [String], [String], [String], String, Date).self)
        self.id = id
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.kind = HelpKind(rawValue: kind) ?? .practical
        self.goalId = goalId
        self.need = need
        self.skills = skills
        self.languages = languages
        self.availability = availability
        self.status = status
        self.raisedAt = raisedAt
    }

    /// The request; `lock` holds it for the transaction, which serialises proposals and
    /// answers about one request.
    static func find(_ id: UUID, lock: Bool = false, on connection: PostgresConnection, logger: Logger) async throws
        -> HelpRequestRecord?
    {
        try await connection.query(
            "SELECT \(unescaped: columns) FROM help_requests WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        ).collect().first.map(HelpRequestRecord.init(row:))
    }

    /// A page of requests by raising order, for the coordinator (all, or one area or status)
    /// or a family manager (their own families').
    static func list(
        managerId: String?, area: String?, status: String?, after: String?, limit: Int, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [HelpRequestRecord] {
        try await connection.query(
            """
            SELECT \(unescaped: columns) FROM help_requests
            WHERE (\(managerId)::text IS NULL OR manager_id = \(managerId)::text)
              AND (\(area?.lowercased())::text IS NULL OR area = \(area?.lowercased())::text)
              AND (\(status)::text IS NULL OR status = \(status)::text)
              AND (\(after)::uuid IS NULL OR id > \(after)::uuid)
            ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).collect().map(HelpRequestRecord.init(row:))
    }

    /// What the matching rules look at.
    var helpNeed: HelpNeed {
        HelpNeed(
            helpRequestId: id.uuidString.lowercased(), area: area.lowercased(), kind: kind, skills: Set(skills),
            languages: Set(languages), availability: Set(availability.compactMap(WeeklySlot.init)))
    }

    /// Who may see the request: its family's manager, the coordinator, an admin. A volunteer
    /// sees it through their own assignment only.
    func isVisible(to caller: Identity) -> Bool {
        switch caller.role {
        case .admin, .volunteerCoordinator: true
        case .familyManager: managerId == caller.subject
        default: false
        }
    }

    func json() -> JSON {
        .object([
            "id": .string(id.uuidString.lowercased()), "caseId": .string(caseId.uuidString.lowercased()),
            "area": .string(area), "managerId": managerId.map(JSON.string) ?? .null, "kind": .string(kind.rawValue),
            "goalId": goalId.map(JSON.string) ?? .null, "need": .string(need),
            "wishes": .object([
                "skills": .array(skills.map(JSON.string)), "languages": .array(languages.map(JSON.string)),
                "availability": .array(availability.map(JSON.string)),
            ]),
            "status": .string(status), "raisedAt": .string(Timestamp.format(raisedAt)),
        ])
    }

    func audit(_ caller: Identity, _ action: String, allowed: Bool = true) -> AuditEntry {
        AuditEntry(
            actor: caller.subject, role: caller.role.rawValue, action: action, resourceType: "help-request",
            resourceId: id.uuidString.lowercased(), caseId: caseId, outcome: allowed ? "allowed" : "denied")
    }
}
