import Foundation
import Hummingbird
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// Intake's API for queues, reassignment, families, referral status and signals
/// (docs/openapi/intake.yaml). Reads of family data are audited, refusals too.
enum CaseRoutes {
    struct Reassignment: Codable {
        var managerId: String
        var reason: String
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database
        let source = environment.source

        /// The families waiting for a manager in an area, first in line first.
        group.get("areas/:area/queue") { _, context -> Response in
            let caller = try context.require(.teamLead, .admin)
            let area = (context.parameters.get("area") ?? "").lowercased()
            guard caller.role == .admin || caller.areas.contains(area) else {
                throw Problem.forbidden("A team lead sees the queues of their own areas.")
            }
            var items: [JSON] = []
            let rows = try await database.client.query(
                """
                SELECT id, urgency, queued_at, re_referral FROM cases
                WHERE area = \(area) AND status = 'open' AND manager_id IS NULL
                ORDER BY (urgency = 'urgent') DESC, queued_at, id
                """, logger: context.logger)
            for try await (id, urgency, queuedAt, reReferral) in rows.decode((UUID, String, Date, Bool).self) {
                items.append(
                    .object([
                        "caseId": .string(id.uuidString.lowercased()), "urgency": .string(urgency),
                        "waitingSince": .string(Timestamp.format(queuedAt)), "reReferral": .bool(reReferral),
                        "position": .number(Double(items.count + 1)),
                    ]))
            }
            return try IntakeRoutes.jsonResponse(.ok, .object(["area": .string(area), "items": .array(items)]))
        }

        /// Moves a family to another manager: an explicit decision with a reason, audited.
        group.post("cases/:id/reassignment") { request, context -> Response in
            let caller = try context.require(.teamLead, .admin)
            let caseId = try caseID(context)
            let body = try await request.decode(as: Reassignment.self, context: context)
            let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...1000).contains(reason.count) else {
                throw Problem.badRequest(
                    "A reassignment needs a reason.",
                    problems: [.init(rule: "length", pointer: "/reason", detail: "1–1000 characters")])
            }
            let now = environment.clock.now()
            let assigned = try await database.transaction { connection -> CaseAssigned? in
                guard let (area, seenManager) = try await Caseload.openCase(caseId, on: connection, logger: context.logger)
                else { return nil }
                guard caller.maySeeCase(managedBy: nil, inArea: area) else {
                    try await AuditLog.record(
                        AuditEntry(caller, "reassign", "case", caseId, caseId: caseId, allowed: false),
                        on: connection, logger: context.logger)
                    return nil
                }
                // The previous manager's freed place is served below; the new manager is locked
                // with them. Then the case's manager is read again, under the locks.
                let managers = try await Caseload.lock(
                    caseIn: area, managedBy: seenManager, alsoManagers: [body.managerId], on: connection,
                    logger: context.logger)
                let current = try await connection.query(
                    "SELECT manager_id FROM cases WHERE id = \(caseId) AND status = 'open' FOR UPDATE",
                    logger: context.logger
                ).collect()
                guard let row = current.first else { return nil }
                let previous = try row.decode(String?.self)
                guard previous != body.managerId else {
                    throw Problem.conflict("The family already has this manager.")
                }
                guard let target = managers.first(where: { $0.id == body.managerId }), target.areas.contains(area),
                    target.freePlaces > 0
                else {
                    throw Problem.conflict("Manager \(body.managerId) does not work in \(area) or has no free place.")
                }
                try await connection.query(
                    "UPDATE cases SET manager_id = \(body.managerId) WHERE id = \(caseId)", logger: context.logger)
                try await connection.query(
                    """
                    INSERT INTO assignments (case_id, manager_id, previous_manager_id, assigned_at, assigned_by, reason)
                    VALUES (\(caseId), \(body.managerId), \(previous), \(now), \(caller.subject), \(reason))
                    """, logger: context.logger)
                try await AuditLog.record(
                    AuditEntry(caller, "reassign", "case", caseId, caseId: caseId), on: connection, logger: context.logger)
                let eventContext = EventContext(connection: connection, logger: context.logger, source: source)
                let assigned = CaseAssigned(
                    caseId: caseId, managerId: body.managerId, area: area, assignedAt: now, previousManagerId: previous)
                try await eventContext.emit(
                    .caseAssigned, payload: assigned, on: Topic.intake, key: caseId.uuidString.lowercased(),
                    traceparent: nil)
                // The previous manager has a place free now.
                if let previous {
                    try await CaseEvents.placeFreed(managerId: previous, at: now, traceparent: nil, in: eventContext)
                }
                return assigned
            }
            guard let assigned else { throw Problem.notFound("No open case \(caseId).") }
            return try IntakeRoutes.jsonResponse(.ok, try JSON(encoding: assigned))
        }

        /// The family of a case, with its members' names: for its manager, the team lead of its
        /// area and admins only.
        group.get("cases/:id/family") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let caseId = try caseID(context)
            let family = try await database.transaction { connection -> JSON? in
                let rows = try await connection.query(
                    """
                    SELECT c.family_id, c.area, c.manager_id, c.status, c.framework, c.re_referral FROM cases c
                    WHERE c.id = \(caseId)
                    """, logger: context.logger
                ).collect()
                guard let row = rows.first else { return nil }
                let (familyId, area, managerId, status, framework, reReferral) =
                    try row.decode((UUID, String, String?, String, String, Bool).self)
                let allowed = caller.maySeeCase(managedBy: managerId, inArea: area)
                try await AuditLog.record(
                    AuditEntry(caller, "read", "family", familyId, caseId: caseId, allowed: allowed),
                    on: connection, logger: context.logger)
                guard allowed else { return nil }
                var members: [JSON] = []
                let memberRows = try await connection.query(
                    """
                    SELECT member_ref, role, given_name, family_name, birth_date::text FROM members
                    WHERE family_id = \(familyId) ORDER BY member_ref
                    """, logger: context.logger)
                for try await (ref, role, given, familyName, birth) in memberRows.decode(
                    (String, String, String, String, String?).self)
                {
                    var member: [String: JSON] = [
                        "memberRef": .string(ref), "role": .string(role), "givenName": .string(given),
                        "familyName": .string(familyName),
                    ]
                    member["birthDate"] = birth.map(JSON.string) ?? .null
                    members.append(.object(member))
                }
                var body: [String: JSON] = [
                    "caseId": .string(caseId.uuidString.lowercased()), "familyId": .string(familyId.uuidString.lowercased()),
                    "area": .string(area), "status": .string(status), "framework": .string(framework),
                    "reReferral": .bool(reReferral), "members": .array(members),
                ]
                body["managerId"] = managerId.map(JSON.string) ?? .null
                return .object(body)
            }
            guard let family else { throw Problem.notFound("No case \(caseId).") }
            return try IntakeRoutes.jsonResponse(.ok, family)
        }

        /// The first names of a family's members, for the volunteers service: a volunteer sees
        /// the first names of the family they help, and nothing else of it (DESIGN.md, HTTP).
        /// Only the `service` role with subject `volunteers` (and an admin) may ask; the read is
        /// audited like any other.
        group.get("cases/:id/first-names") { _, context -> Response in
            let caller = try context.require(.service, .admin)
            let caseId = try caseID(context)
            let allowed = caller.role == .admin || caller.subject == "volunteers"
            let names = try await database.transaction { connection -> [String]? in
                let rows = try await connection.query(
                    """
                    SELECT m.given_name FROM cases c JOIN members m ON m.family_id = c.family_id
                    WHERE c.id = \(caseId) ORDER BY m.member_ref
                    """, logger: context.logger
                ).collect()
                guard !rows.isEmpty else { return nil }
                try await AuditLog.record(
                    AuditEntry(caller, "read", "first-names", caseId, caseId: caseId, allowed: allowed),
                    on: connection, logger: context.logger)
                return try rows.map { try $0.decode(String.self) }
            }
            guard allowed else { throw Problem.forbidden("Only the volunteers service reads first names.") }
            guard let names else { throw Problem.notFound("No case \(caseId).") }
            return try IntakeRoutes.jsonResponse(
                .ok, .object(["caseId": .string(caseId.uuidString.lowercased()), "firstNames": .array(names.map(JSON.string))]))
        }

        /// What became of a referral, for the integrator that sent it: accepted, or rejected
        /// (with every problem). Never the case or whether the family was known.
        group.get("referrals") { request, context -> Response in
            let caller = try context.require(.integrator, .admin)
            let query = request.uri.queryParameters
            guard let referralSource = query.get("source"), let referralId = query.get("referralId") else {
                throw Problem.badRequest(
                    "Name the referral with ?source=…&referralId=….",
                    problems: [.init(rule: "required", pointer: "source", detail: "the CloudEvent source it was sent with")])
            }
            // An integrator's token subject is its CloudEvent source: it sees its own referrals.
            guard caller.role == .admin || caller.subject == referralSource else {
                throw Problem.forbidden("An integrator sees the referrals it sent itself.")
            }
            let accepted = try await database.client.query(
                """
                SELECT received_at, case_id, joined_existing_case FROM referrals
                WHERE source = \(String(referralSource)) AND referral_id = \(String(referralId))
                """, logger: context.logger
            ).collect()
            // Accepted, and when: to an integrator not the case it went to, nor whether it
            // joined one; an admin, who operates the suite, is told both.
            if let row = accepted.first {
                let (at, caseId, joined) = try row.decode((Date, UUID, Bool).self)
                var body: [String: JSON] = ["status": .string("accepted"), "receivedAt": .string(Timestamp.format(at))]
                if caller.role == .admin {
                    body["caseId"] = .string(caseId.uuidString.lowercased())
                    body["joinedExistingCase"] = .bool(joined)
                }
                return try IntakeRoutes.jsonResponse(.ok, .object(body))
            }
            let rejected = try await database.client.query(
                """
                SELECT problems::text, rejected_at FROM rejections
                WHERE event_source = \(String(referralSource)) AND referral_id = \(String(referralId))
                ORDER BY rejected_at DESC LIMIT 1
                """, logger: context.logger
            ).collect()
            if let row = rejected.first {
                let (problems, at) = try row.decode((String, Date).self)
                return try IntakeRoutes.jsonResponse(
                    .ok,
                    .object([
                        "status": .string("rejected"), "rejectedAt": .string(Timestamp.format(at)),
                        "problems": try JSONCoding.decoder.decode(JSON.self, from: Data(problems.utf8)),
                    ]))
            }
            throw Problem.notFound("No referral \(referralId) from \(referralSource).")
        }

        /// Nuisance reports of an area (team lead of the area, admin), in the order of their ids.
        group.get("signals/nuisance") { request, context -> Response in
            let caller = try context.require(.teamLead, .admin)
            let page = try Page(request)
            guard let area = request.uri.queryParameters.get("area").map({ String($0).lowercased() }) else {
                throw Problem.badRequest(
                    "Name the area with ?area=….", problems: [.init(rule: "required", pointer: "area", detail: "an area")])
            }
            guard caller.role == .admin || caller.areas.contains(area) else {
                throw Problem.forbidden("A team lead sees the signals of their own areas.")
            }
            var items: [JSON] = []
            var last: String?
            let rows = try await database.client.query(
                """
                SELECT report_id, reported_on::text, category, case_id, received_at FROM nuisance_reports
                WHERE area = \(area) AND (\(page.after)::text IS NULL OR report_id > \(page.after)::text)
                ORDER BY report_id LIMIT \(page.limit)
                """, logger: context.logger)
            for try await (id, on, category, caseId, _) in rows.decode((String, String, String, UUID?, Date).self) {
                var item: [String: JSON] = ["reportId": .string(id), "reportedOn": .string(on), "category": .string(category)]
                item["caseId"] = caseId.map { .string($0.uuidString.lowercased()) } ?? .null
                items.append(.object(item))
                last = id
            }
            return try IntakeRoutes.jsonResponse(.ok, page.body(items: items, last: items.count == page.limit ? last : nil))
        }
    }

    static func caseID(_ context: SamenplanRequestContext) throws -> UUID {
        try context.uuid(describedAs: "case id")
    }
}
