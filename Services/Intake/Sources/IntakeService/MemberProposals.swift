import Foundation
import Hummingbird
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The people a joining referral named that the family did not have (issue 18, finding 1):
/// proposed to whoever may see the case (its manager, the area's team lead, an admin), who
/// confirms each into the family or refuses it with a reason. Both are audited; until then a
/// proposal is nobody's member. Routes in docs/openapi/intake.yaml.
enum MemberProposals {
    struct Decision: Decodable {
        var decision: String
        var reason: String?
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database

        group.get("cases/:id/member-proposals") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let caseId = try context.uuid(describedAs: "case id")
            let items = try await database.transaction { connection -> [JSON]? in
                guard try await mayDecide(caller, caseId, action: "read", on: connection, logger: context.logger) else { return nil }
                var items: [JSON] = []
                for try await row in try await connection.query(
                    """
                    SELECT id, member_ref, role, given_name, family_name, birth_date::text, source, referral_id, status,
                           proposed_at, decided_by, decided_at, note
                    FROM member_proposals WHERE case_id = \(caseId) ORDER BY proposed_at, id
                    """, logger: context.logger)
                {
                    let (id, ref, role, given, family, birth, source, referralId, status, proposedAt, decidedBy, decidedAt, note) =
                        try row.decode((UUID, String, String, String, String, String?, String, String, String, Date, String?, Date?, String?).self)
                    items.append(
                        .object([
                            "id": .string(id.uuidString.lowercased()), "memberRef": .string(ref), "role": .string(role),
                            "givenName": .string(given), "familyName": .string(family), "birthDate": birth.map(JSON.string) ?? .null,
                            "referral": .object(["source": .string(source), "referralId": .string(referralId)]),
                            "status": .string(status), "proposedAt": .string(Timestamp.format(proposedAt)),
                            "decidedBy": decidedBy.map(JSON.string) ?? .null,
                            "decidedAt": decidedAt.map { .string(Timestamp.format($0)) } ?? .null, "note": note.map(JSON.string) ?? .null,
                        ]))
                }
                return items
            }
            guard let items else { throw Problem.notFound("No case \(caseId).") }
            return try IntakeRoutes.jsonResponse(.ok, .object(["caseId": .string(caseId.uuidString.lowercased()), "items": .array(items)]))
        }

        group.post("cases/:id/member-proposals/:proposal") { request, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let caseId = try context.uuid(describedAs: "case id")
            let proposalId = try context.uuid("proposal", describedAs: "proposal id")
            let body = try await request.decode(as: Decision.self, context: context)
            let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
            var problems: [Problem.Item] = []
            if !["confirm", "refuse"].contains(body.decision) {
                problems.append(.init(rule: "enum", pointer: "/decision", detail: "confirm or refuse"))
            }
            if body.decision == "refuse", !(1...1000).contains(reason?.count ?? 0) {
                problems.append(.init(rule: "length", pointer: "/reason", detail: "a refusal needs a reason of 1–1000 characters"))
            }
            if let reason, reason.count > 1000 {
                problems.append(.init(rule: "length", pointer: "/reason", detail: "at most 1000 characters"))
            }
            guard problems.isEmpty else { throw Problem.badRequest("The decision breaks \(problems.count) rule(s).", problems: problems) }
            let now = environment.clock.now()
            let decided = try await database.transaction { connection -> JSON? in
                guard
                    try await mayDecide(
                        caller, caseId, action: body.decision == "confirm" ? "confirm-member" : "refuse-member", on: connection,
                        logger: context.logger)
                else { return nil }
                let rows = try await connection.query(
                    """
                    SELECT family_id, member_ref, status FROM member_proposals
                    WHERE id = \(proposalId) AND case_id = \(caseId) FOR UPDATE
                    """, logger: context.logger
                ).collect()
                guard let row = rows.first else { return nil }
                let (familyId, memberRef, status) = try row.decode((UUID, String, String).self)
                guard status == "proposed" else { throw Problem.conflict("The proposal was \(status) already.") }
                var note = reason
                if body.decision == "confirm" {
                    // The proposing referral's reference, or the first free one after it: another
                    // integrator's "m1" may be taken in this family.
                    let taken = Set(
                        try await connection.query("SELECT member_ref FROM members WHERE family_id = \(familyId)", logger: context.logger)
                            .collect().map { try $0.decode(String.self) })
                    var ref = memberRef
                    var number = 2
                    while taken.contains(ref) {
                        ref = "\(memberRef)-\(number)"
                        number += 1
                    }
                    try await connection.query(
                        """
                        INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key)
                        SELECT family_id, \(ref), role, given_name, family_name, birth_date, child_key
                        FROM member_proposals WHERE id = \(proposalId)
                        """, logger: context.logger)
                    note = ref
                }
                try await connection.query(
                    """
                    UPDATE member_proposals SET status = \(body.decision == "confirm" ? "confirmed" : "refused"),
                        decided_by = \(caller.subject), decided_at = \(now), note = \(note)
                    WHERE id = \(proposalId)
                    """, logger: context.logger)
                return .object([
                    "id": .string(proposalId.uuidString.lowercased()),
                    "status": .string(body.decision == "confirm" ? "confirmed" : "refused"),
                    "memberRef": body.decision == "confirm" ? note.map(JSON.string) ?? .null : .null,
                ])
            }
            guard let decided else { throw Problem.notFound("No proposal \(proposalId) on case \(caseId).") }
            return try IntakeRoutes.jsonResponse(.ok, decided)
        }
    }

    /// Whether `caller` may see and decide on the case's proposals; audited either way, as
    /// every access to family data is. A case the caller may not see does not exist for them.
    static func mayDecide(_ caller: Identity, _ caseId: UUID, action: String, on connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        let rows = try await connection.query("SELECT area, manager_id FROM cases WHERE id = \(caseId)", logger: logger).collect()
        guard let row = rows.first else { return false }
        let (area, managerId) = try row.decode((String, String?).self)
        let allowed = caller.maySeeCase(managedBy: managerId, inArea: area)
        try await AuditLog.record(
            AuditEntry(caller, action, "member-proposals", caseId, caseId: caseId, allowed: allowed), on: connection, logger: logger)
        return allowed
    }
}
