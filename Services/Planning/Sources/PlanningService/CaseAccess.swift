import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// A case as planning keeps it.
struct PlanningCase: Sendable {
    var id: UUID
    var area: String
    var framework: String
    var urgency: String
    var managerId: String?
    var phase: Phase
    var openedAt: Date
    var phaseChangedAt: Date
}

extension PlanningCase {
    /// 409 unless the case is in `phase`: `what` ("Evaluations are held") happens there only.
    func require(_ phase: Phase, for what: String) throws {
        guard self.phase == phase else {
            throw Problem.conflict("\(what) in the \(phase.rawValue) phase; the case is in \(self.phase.rawValue).")
        }
    }
}

/// Every route that touches a family's case goes through here: the case is read, the
/// caller's right to it checked and the attempt audited, allowed or not.
enum CaseAccess {
    /// Who may do what to a case beyond reading it.
    enum Purpose {
        /// See the case and its plan: its manager, the team lead of its area, an admin.
        case read
        /// Change the plan or the phase: its own manager, an admin.
        case manage
        /// Approve or send back: the team lead of its area, an admin.
        case decide
        /// Accept or decline the handover: the neighbourhood team of its area, an admin.
        case answerHandover
        /// Record a follow-up held after closing: whoever may see the case, so its last
        /// manager (who joins the visit) or the team lead of its area (who keeps the area's
        /// record when the manager has moved on), or an admin.
        case recordFollowUp
    }

    /// The case, or the problem to answer with: 404 when it does not exist or the caller may
    /// not see it (the same answer, so case ids reveal nothing), 403 when they may see it but
    /// not do this. The attempt is audited either way, so a route returns the problem after
    /// its transaction committed instead of throwing inside it. `lock` holds the case row for
    /// the transaction, which serialises every change to one case (plan versions, phase).
    static func find(
        _ id: UUID, for caller: Identity, purpose: Purpose = .read, action: String, resourceType: String = "case",
        lock: Bool = false, on connection: PostgresConnection, logger: Logger
    ) async throws -> Result<PlanningCase, Problem> {
        let row =
            lock
            ? try await connection.one(CaseRow.ForUpdate(id: id), logger: logger)
            : try await connection.one(CaseRow.Read(id: id), logger: logger)
        let notFound = Problem.notFound("No case \(id.uuidString.lowercased()).")
        guard let (area, framework, urgency, managerId, phase, openedAt, phaseChangedAt) = row else {
            return .failure(notFound)
        }
        let visible = caller.maySeeCase(managedBy: managerId, inArea: area)
        let allowed =
            switch purpose {
            case .read, .recordFollowUp: visible
            case .manage: caller.role == .admin || (caller.role == .familyManager && caller.subject == managerId)
            case .decide: caller.role == .admin || (caller.role == .teamLead && caller.areas.contains(area))
            case .answerHandover:
                caller.role == .admin || (caller.role == .neighbourhoodTeam && caller.areas.contains(area))
            }
        try await AuditLog.record(
            AuditEntry(caller, action, resourceType, id, caseId: id, allowed: allowed), on: connection, logger: logger)
        guard allowed else {
            return .failure(
                visible
                    ? Problem.forbidden(
                        purpose == .decide
                            ? "Only the team lead of the case's area decides on it."
                            : "Only the family's own manager changes its plan and phase.")
                    : purpose == .answerHandover && caller.role == .neighbourhoodTeam
                        ? Problem.notFound("No handover of case \(id.uuidString.lowercased()) for your area.") : notFound)
        }
        return .success(
            PlanningCase(
                id: id, area: area, framework: framework, urgency: urgency, managerId: managerId,
                phase: Phase(rawValue: phase) ?? .connect, openedAt: openedAt, phaseChangedAt: phaseChangedAt))
    }
}

/// The case row, as prepared statements: every request about a case starts with it, so the
/// server parses and plans it once per connection instead of on every request.
enum CaseRow {
    typealias Columns = (String, String, String, String?, String, Date, Date)
    static let select = "SELECT area, framework, urgency, manager_id, phase, opened_at, phase_changed_at FROM cases WHERE id = $1"

    struct Read: PreparedByID {
        static let sql = CaseRow.select
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> Columns { try row.decode(Columns.self) }
    }

    /// The same row, locked for the transaction: serialises every change to one case.
    struct ForUpdate: PreparedByID {
        static let sql = CaseRow.select + " FOR UPDATE"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> Columns { try row.decode(Columns.self) }
    }
}

extension CaseAccess {
    /// Runs `body` on the case in one transaction, when the caller may do `purpose` to it,
    /// and answers with what it returns or with the problem. A `Problem` thrown by `body`
    /// is answered after the transaction committed, so the audit line of the attempt stays:
    /// a body therefore checks everything before it writes anything.
    static func withCase<T: Sendable>(
        _ id: UUID, for caller: Identity, purpose: Purpose = .read, action: String, resourceType: String = "case",
        lock: Bool = false, database: Database, logger: Logger,
        _ body: @Sendable (PlanningCase, PostgresConnection) async throws -> T
    ) async throws -> T {
        let result = try await database.transaction { connection -> Result<T, Problem> in
            switch try await find(
                id, for: caller, purpose: purpose, action: action, resourceType: resourceType, lock: lock,
                on: connection, logger: logger)
            {
            case .failure(let problem):
                return .failure(problem)
            case .success(let found):
                do {
                    return .success(try await body(found, connection))
                } catch let problem as Problem {
                    return .failure(problem)
                }
            }
        }
        return try result.get()
    }
}
