import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// Matching (issue 5, item 2): for a help request that wants a volunteer, a ranked shortlist
/// with the reasons for each score; the coordinator proposes one; the family's answer,
/// recorded by its manager, makes it an assignment or returns the request to the shortlist.
/// Every step is an event on `samenplan.volunteers.v1`, which planning follows.
enum Matching {
    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, settings: VolunteerSettings
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.get("help-requests") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .familyManager, .admin)
            let page = try Page(request)
            let query = request.uri.queryParameters
            let status = query.get("status")
            if let status, !["open", "proposed", "matched", "ended"].contains(status) {
                throw Problem.badRequest(
                    "Unknown status.", problems: [.init(rule: "enum", pointer: "status", detail: "open, proposed, matched or ended")])
            }
            if let after = page.after, UUID(uuidString: after) == nil {
                throw Problem.badRequest("after must be a cursor from a previous page.", problems: [.init(rule: "cursor", pointer: "after", detail: "a help request id")])
            }
            let records = try await database.transaction { connection in
                let records = try await HelpRequestRecord.list(
                    managerId: caller.role == .familyManager ? caller.subject : nil, area: query.get("area"),
                    status: status, after: page.after, limit: page.limit, on: connection, logger: context.logger)
                try await AuditLog.record(records.map { $0.audit(caller, "list") }, on: connection, logger: context.logger)
                return records
            }
            return try Response.json(
                page.body(
                    items: records.map { $0.json() },
                    last: records.count == page.limit ? records.last?.id.uuidString.lowercased() : nil))
        }

        group.get("help-requests/:id") { _, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .familyManager, .admin)
            let id = try context.uuid()
            return try await database.transaction { connection -> Result<Response, Problem> in
                let found = try await HelpRequestRecord.find(id, on: connection, logger: context.logger)
                guard let found else { throw Problem.notFound("No help request \(id.uuidString.lowercased()).") }
                let visible = found.isVisible(to: caller)
                try await AuditLog.record(found.audit(caller, "read", allowed: visible), on: connection, logger: context.logger)
                guard visible else { return .failure(Problem.notFound("No help request \(id.uuidString.lowercased()).")) }
                var body = found.json()
                if case .object(var fields) = body {
                    fields["proposals"] = .array(try await proposals(of: id, on: connection, logger: context.logger))
                    body = .object(fields)
                }
                return .success(try Response.json(body))
            }.get()
        }

        group.patch("help-requests/:id") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let id = try context.uuid()
            struct Wishes: Decodable { var skills: [String]?; var languages: [String]?; var availability: [String]? }
            let wishes = try await request.decode(as: Wishes.self, context: context)
            let catalogue = try await Catalogue.load(database: database, logger: context.logger)
            var problems: [Problem.Item] = []
            for (index, skill) in (wishes.skills ?? []).enumerated() where catalogue.skills[skill] == nil {
                problems.append(.init(rule: "catalogue", pointer: "/skills/\(index)", detail: "a skill from /v1/catalogue"))
            }
            for (index, language) in (wishes.languages ?? []).enumerated() where catalogue.languages[language] == nil {
                problems.append(.init(rule: "catalogue", pointer: "/languages/\(index)", detail: "a language from /v1/catalogue"))
            }
            for (index, slot) in (wishes.availability ?? []).enumerated() where WeeklySlot(slot) == nil {
                problems.append(.init(rule: "slot", pointer: "/availability/\(index)", detail: "a weekly slot such as monday-morning"))
            }
            guard problems.isEmpty else { throw Problem.badRequest("The wishes break \(problems.count) rule(s).", problems: problems) }
            return try await database.transaction { connection in
                guard let found = try await HelpRequestRecord.find(id, lock: true, on: connection, logger: context.logger) else {
                    throw Problem.notFound("No help request \(id.uuidString.lowercased()).")
                }
                try await connection.query(
                    """
                    UPDATE help_requests SET
                        skills = \(wishes.skills.map { Array(Set($0)).sorted() } ?? found.skills),
                        languages = \(wishes.languages.map { Array(Set($0)).sorted() } ?? found.languages),
                        availability = \(wishes.availability.map { Set($0.compactMap(WeeklySlot.init)).sorted().map(\.description) } ?? found.availability)
                    WHERE id = \(id)
                    """, logger: context.logger)
                try await AuditLog.record(found.audit(caller, "change"), on: connection, logger: context.logger)
                return try Response.json(try await HelpRequestRecord.find(id, on: connection, logger: context.logger)!.json())
            }
        }

        group.get("help-requests/:id/shortlist") { _, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let id = try context.uuid()
            let today = VolunteerCalendar.today(clock)
            return try await database.transaction { connection in
                guard let found = try await HelpRequestRecord.find(id, on: connection, logger: context.logger) else {
                    throw Problem.notFound("No help request \(id.uuidString.lowercased()).")
                }
                try await AuditLog.record(found.audit(caller, "shortlist"), on: connection, logger: context.logger)
                let candidates = try await shortlist(for: found, today: today, settings: settings, on: connection, logger: context.logger)
                return try Response.json(
                    .object([
                        "helpRequestId": .string(id.uuidString.lowercased()), "on": .string(today.description),
                        "candidates": .array(candidates.map(json)),
                    ]))
            }
        }

        group.post("help-requests/:id/proposals") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let id = try context.uuid()
            struct Proposal: Decodable { var volunteerId: String }
            let body = try await request.decode(as: Proposal.self, context: context)
            let now = clock.now()
            let today = VolunteerCalendar.today(clock)
            return try await database.transaction { connection -> Result<Response, Problem> in
                guard let found = try await HelpRequestRecord.find(id, lock: true, on: connection, logger: context.logger) else {
                    return .failure(Problem.notFound("No help request \(id.uuidString.lowercased())."))
                }
                try await AuditLog.record(found.audit(caller, "propose"), on: connection, logger: context.logger)
                guard found.status == "open" else {
                    return .failure(Problem.conflict("The help request is \(found.status); only an open request gets a proposal."))
                }
                guard let volunteer = try await VolunteerRecord.find(body.volunteerId, on: connection, logger: context.logger) else {
                    return .failure(
                        Problem.badRequest(
                            "No volunteer \(body.volunteerId).",
                            problems: [.init(rule: "unknown-volunteer", pointer: "/volunteerId", detail: "a registered volunteer")]))
                }
                let unmet = Eligibility.unmet(volunteer: volunteer.profile, need: found.helpNeed, on: today, policy: settings.certificates)
                guard unmet.isEmpty else { return .failure(notEligible(unmet)) }
                let proposalId = UUID.random()
                try await connection.query(
                    """
                    INSERT INTO proposals (id, help_request_id, volunteer_id, proposed_by, proposed_at, status)
                    VALUES (\(proposalId), \(id), \(volunteer.id), \(caller.subject), \(now), 'proposed')
                    """, logger: context.logger)
                try await connection.query("UPDATE help_requests SET status = 'proposed' WHERE id = \(id)", logger: context.logger)
                try await EventContext(connection: connection, logger: context.logger, source: source).emit(
                    .volunteerMatchProposed,
                    payload: VolunteerMatchChanged(
                        proposalId: proposalId, helpRequestId: id, caseId: found.caseId, managerId: found.managerId,
                        volunteerId: volunteer.id, at: now),
                    on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
                return .success(
                    try Response.json(
                        .object([
                            "id": .string(proposalId.uuidString.lowercased()), "helpRequestId": .string(id.uuidString.lowercased()),
                            "volunteerId": .string(volunteer.id), "status": .string("proposed"),
                        ]), status: .created))
            }.get()
        }

        group.post("proposals/:id/answer") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let proposalId = try context.uuid()
            struct Answer: Decodable { var consent: Bool }
            let answer = try await request.decode(as: Answer.self, context: context)
            let now = clock.now()
            let today = VolunteerCalendar.today(clock)
            return try await database.transaction { connection -> Result<Response, Problem> in
                let notFound = Problem.notFound("No proposal \(proposalId.uuidString.lowercased()).")
                guard
                    let (requestId, volunteerId, status) = try await connection.query(
                        "SELECT help_request_id, volunteer_id, status FROM proposals WHERE id = \(proposalId)",
                        logger: context.logger
                    ).collect().first?.decode((UUID, String, String).self),
                    let found = try await HelpRequestRecord.find(requestId, lock: true, on: connection, logger: context.logger)
                else { return .failure(notFound) }
                // The family answers through its own manager.
                let allowed = caller.role == .admin || found.managerId == caller.subject
                try await AuditLog.record(found.audit(caller, answer.consent ? "consent" : "refuse", allowed: allowed), on: connection, logger: context.logger)
                guard allowed else { return .failure(notFound) }
                guard status == "proposed" else {
                    return .failure(Problem.conflict("The proposal is \(status) already."))
                }
                let events = EventContext(connection: connection, logger: context.logger, source: source)
                guard answer.consent else {
                    try await connection.query(
                        """
                        UPDATE proposals SET status = 'refused', decided_by = \(caller.subject), decided_at = \(now) WHERE id = \(proposalId);
                        """, logger: context.logger)
                    try await connection.query("UPDATE help_requests SET status = 'open' WHERE id = \(requestId)", logger: context.logger)
                    try await events.emit(
                        .volunteerMatchRefused,
                        payload: VolunteerMatchChanged(
                            proposalId: proposalId, helpRequestId: requestId, caseId: found.caseId, managerId: found.managerId,
                            volunteerId: volunteerId, at: now),
                        on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
                    return .success(try Response.json(.object(["id": .string(proposalId.uuidString.lowercased()), "status": .string("refused")])))
                }
                // The rules are checked again: the volunteer may have changed since the proposal.
                // The volunteer's row is locked, so two consents at once cannot exceed their load.
                _ = try await connection.query(
                    "SELECT 1 FROM volunteers WHERE id = \(volunteerId) FOR UPDATE", logger: context.logger
                ).collect()
                guard let record = try await VolunteerRecord.find(volunteerId, on: connection, logger: context.logger) else {
                    return .failure(notFound)
                }
                var unmet = Eligibility.unmet(volunteer: record.profile, need: found.helpNeed, on: today, policy: settings.certificates)
                let everAssigned = try await connection.query(
                    "SELECT 1 FROM assignments WHERE volunteer_id = \(volunteerId) LIMIT 1", logger: context.logger
                ).collect().isEmpty == false
                if !everAssigned {
                    // A volunteer's first family: the certificate must be recent (VOLUNTEERS_CERTIFICATE_START_MONTHS).
                    for rule in Eligibility.unmetToStart(volunteer: record.profile, on: today, policy: settings.certificates)
                    where !unmet.contains(rule) {
                        unmet.append(rule)
                    }
                }
                guard unmet.isEmpty else { return .failure(notEligible(unmet)) }
                let assignmentId = UUID.random()
                try await connection.query(
                    """
                    UPDATE proposals SET status = 'accepted', decided_by = \(caller.subject), decided_at = \(now) WHERE id = \(proposalId)
                    """, logger: context.logger)
                try await connection.query(
                    """
                    INSERT INTO assignments (id, help_request_id, case_id, volunteer_id, proposal_id, started_at)
                    VALUES (\(assignmentId), \(requestId), \(found.caseId), \(volunteerId), \(proposalId), \(now))
                    """, logger: context.logger)
                try await connection.query("UPDATE help_requests SET status = 'matched' WHERE id = \(requestId)", logger: context.logger)
                try await events.emit(
                    .volunteerAssignmentStarted,
                    payload: VolunteerAssignmentChanged(
                        assignmentId: assignmentId, helpRequestId: requestId, caseId: found.caseId, volunteerId: volunteerId,
                        at: now),
                    on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
                return .success(
                    try Response.json(
                        .object([
                            "id": .string(proposalId.uuidString.lowercased()), "status": .string("accepted"),
                            "assignmentId": .string(assignmentId.uuidString.lowercased()),
                        ])))
            }.get()
        }
    }

    /// The ranked shortlist. Volunteers the family already refused for this request are left
    /// out: asking the family again about the same person is not what "back to the
    /// shortlist" means.
    static func shortlist(
        for found: HelpRequestRecord, today: CalendarDate, settings: VolunteerSettings, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Candidate] {
        var refused: Set<String> = []
        for try await volunteerId in try await connection.query(
            "SELECT volunteer_id FROM proposals WHERE help_request_id = \(found.id) AND status = 'refused'", logger: logger
        ).decode(String.self) {
            refused.insert(volunteerId)
        }
        let volunteers = try await VolunteerRecord.candidates(on: connection, logger: logger)
            .filter { !refused.contains($0.id) }
        return Shortlist.rank(volunteers.map(\.profile), for: found.helpNeed, on: today, policy: settings.certificates)
    }

    static func json(_ candidate: Candidate) -> JSON {
        .object([
            "volunteerId": .string(candidate.volunteerId), "score": .number(Double(candidate.score)),
            "reasons": .array(
                candidate.reasons.map {
                    .object(["factor": .string($0.factor.rawValue), "points": .number(Double($0.points)), "detail": .string($0.detail)])
                }),
        ])
    }

    static func notEligible(_ unmet: [Ineligibility]) -> Problem {
        Problem(
            .conflict, type: "not-eligible", title: "The volunteer may not be matched",
            detail: "The volunteer does not meet \(unmet.count) rule(s) of matching.",
            problems: unmet.map { .init(rule: $0.rule, pointer: "/volunteerId", detail: $0.detail) })
    }

    static func proposals(of requestId: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [JSON] {
        var items: [JSON] = []
        for try await (id, volunteerId, status, proposedAt) in try await connection.query(
            "SELECT id, volunteer_id, status, proposed_at FROM proposals WHERE help_request_id = \(requestId) ORDER BY proposed_at, id",
            logger: logger
        ).decode((UUID, String, String, Date).self) {
            items.append(
                .object([
                    "id": .string(id.uuidString.lowercased()), "volunteerId": .string(volunteerId), "status": .string(status),
                    "proposedAt": .string(Timestamp.format(proposedAt)),
                ]))
        }
        return items
    }

}
