import Foundation
import Hummingbird
import NIOCore
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// Intake's HTTP API (docs/openapi/intake.yaml).
enum IntakeRoutes {
    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, desk: ReferralDesk,
        signals: SignalDesk
    ) {
        let database = environment.database
        let source = environment.source

        // Integrators may POST the same CloudEvent they would publish: same validation, same
        // result (DESIGN.md, Inbound events).
        group.post("events") { request, context -> Response in
            let caller = try context.require(.integrator, .admin)
            let body = try await request.body.collect(upTo: 1_048_576)
            let event = try decodeEvent(body: body, headers: request.headers)
            // An integrator's token subject is its CloudEvent source: it speaks for itself only.
            guard caller.role == .admin || caller.subject == event.source else {
                throw Problem.forbidden("An integrator sends events with its own source (\(caller.subject)).")
            }
            guard IntakeEventHandler.acceptedTypes.contains(EventType(rawValue: event.type)) else {
                throw Problem(
                    .badRequest, type: "unknown-type", title: "Unknown event type",
                    detail: "Intake accepts \(IntakeEventHandler.acceptedTypes.map(\.rawValue).sorted().joined(separator: ", ")).")
            }
            let outcome = try await database.transaction { connection -> ReferralOutcome? in
                let eventContext = EventContext(connection: connection, logger: context.logger, source: source)
                guard
                    try await Inbox.claim(
                        source: event.source, id: event.id, type: event.type, on: connection, logger: context.logger)
                else {
                    return try await previousOutcome(of: event, on: eventContext)
                }
                return try await IntakeEvents.process(
                    event, desk: desk, signals: signals, submitter: .init(actor: caller.subject, role: caller.role.rawValue),
                    in: eventContext)
            }
            if case .rejected(let problems) = outcome {
                let isReferral = EventType(rawValue: event.type) == .referralSubmitted
                throw Problem(
                    .badRequest, type: isReferral ? "referral-rejected" : "signal-rejected",
                    title: "The \(isReferral ? "referral" : "signal") breaks the integrators' contract",
                    detail: "\(problems.count) problem(s); correct them and send it again with a new event id.",
                    problems: problems.map { Problem.Item(rule: $0.rule, pointer: $0.pointer, detail: $0.detail) })
            }
            // What the sender learns is that its event was received and accepted: never the case
            // it went to or whether the family was known already (issue 18, finding 1).
            // An admin, who operates the suite, is told the case as well.
            var answer: [String: JSON] = ["id": .string(event.id), "source": .string(event.source), "status": "accepted"]
            switch outcome {
            case .accepted(let caseId, let joined) where caller.role == .admin:
                answer["caseId"] = .string(caseId.uuidString.lowercased())
                answer["joinedExistingCase"] = .bool(joined)
            case .alreadyReceived(let caseId):
                answer["duplicate"] = .bool(true)
                if caller.role == .admin { answer["caseId"] = .string(caseId.uuidString.lowercased()) }
            default:
                break
            }
            return try jsonResponse(.accepted, .object(answer))
        }

        group.post("managers") { request, context -> Response in
            let caller = try context.require(.admin, .teamLead)
            let manager = try await request.decode(as: ManagerRegistration.self, context: context)
            let problems = manager.problems
            guard problems.isEmpty else { throw Problem.badRequest("The manager is not valid.", problems: problems) }
            let areas = manager.areas.map(Areas.normalised)
            if let bad = areas.firstIndex(where: { !Areas.isIdentifier($0) }) {
                throw Problem.badRequest(
                    "The manager is not valid.",
                    problems: [.init(rule: "pattern", pointer: "/areas/\(bad)", detail: "an area: 1–64 of a-z, 0-9 and single hyphens")])
            }
            if caller.role == .teamLead, !Set(areas).isSubset(of: caller.areas) {
                throw Problem.forbidden("A team lead registers managers only for their own areas.")
            }
            // Without a team given, the manager's first area names it.
            let team = manager.team?.lowercased() ?? areas[0]
            try await database.transaction { connection in
                // Its areas, then the manager, in the lock order of Caseload.lock: the new room
                // is served below (placeFreed), and batches of referrals take them in that order.
                try await Caseload.lock(areas: areas, alsoManagers: [manager.id], on: connection, logger: context.logger)
                // The registration is an upsert: without this a team lead could take over a
                // manager of another area by registering their id again with their own areas.
                if caller.role == .teamLead {
                    let current = try await connection.query(
                        "SELECT areas FROM managers WHERE id = \(manager.id) FOR UPDATE", logger: context.logger
                    ).collect().first?.decode([String].self)
                    if let current, !Set(current).isSubset(of: caller.areas) {
                        throw Problem.forbidden("A team lead changes only managers who work in their own areas.")
                    }
                }
                // A manager's areas are served from now on: an area new to the list joins it with
                // the manager's team (an admin's decision, or a team lead's own areas).
                try await Areas.register(areas, team: team, on: connection, logger: context.logger)
                try await connection.query(
                    """
                    INSERT INTO managers (id, display_name, areas, max_caseload, team)
                    VALUES (\(manager.id), \(manager.displayName), \(areas), \(manager.maxCaseload), \(team))
                    ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, areas = excluded.areas,
                                                   max_caseload = excluded.max_caseload, team = excluded.team
                    """, logger: context.logger)
                let events = EventContext(connection: connection, logger: context.logger, source: source)
                // Notifications learns of the manager as a recipient.
                try await events.emit(
                    .managerRegistered,
                    payload: ManagerRegistered(
                        managerId: manager.id, areas: areas, maxCaseload: manager.maxCaseload, at: environment.clock.now(),
                        team: team),
                    on: Topic.intake, key: manager.id, traceparent: nil)
                // New room serves the waiting families of the manager's areas at once.
                try await CaseEvents.placeFreed(
                    managerId: manager.id, at: environment.clock.now(), traceparent: nil,
                    in: EventContext(connection: connection, logger: context.logger, source: source))
            }
            var stored = manager
            stored.areas = areas
            stored.team = team
            return try jsonResponse(.created, try JSON(encoding: stored))
        }

        group.get("managers") { request, context -> Response in
            let caller = try context.require(.admin, .teamLead)
            let page = try Page(request)
            let areaFilter: [String]? = caller.role == .teamLead ? caller.areas : nil
            var managers: [JSON] = []
            var last: String?
            let rows = try await database.client.query(
                """
                SELECT m.id, m.display_name, m.areas, m.max_caseload, m.open_cases::bigint, m.team
                FROM managers m
                WHERE (\(page.after)::text IS NULL OR m.id > \(page.after)::text)
                  AND (\(areaFilter)::text[] IS NULL OR m.areas && \(areaFilter)::text[])
                ORDER BY m.id LIMIT \(page.limit)
                """, logger: context.logger)
            for try await (id, name, areas, maxCaseload, open, team) in rows.decode((String, String, [String], Int, Int64, String).self) {
                managers.append(
                    .object([
                        "id": .string(id), "displayName": .string(name), "areas": .array(areas.map(JSON.string)), "team": .string(team),
                        "maxCaseload": .number(Double(maxCaseload)), "openCases": .number(Double(open)),
                        "freePlaces": .number(Double(max(0, Int64(maxCaseload) - open))),
                    ]))
                last = id
            }
            return try jsonResponse(.ok, page.body(items: managers, last: managers.count == page.limit ? last : nil))
        }

        desk.areas.addRoutes(to: group, environment: environment)
        CaseRoutes.add(to: group, environment: environment)
        MemberProposals.add(to: group, environment: environment)
    }

    /// A resent copy of an event gets the answer the first copy got.
    static func previousOutcome(of event: CloudEvent, on context: EventContext) async throws -> ReferralOutcome? {
        let rejected = try await context.connection.query(
            "SELECT problems::text FROM rejections WHERE event_source = \(event.source) AND event_id = \(event.id)",
            logger: context.logger
        ).collect()
        if let row = rejected.first {
            let problems = try JSONCoding.decoder.decode(
                [ReferralRejected.Problem].self, from: Data(try row.decode(String.self).utf8))
            return .rejected(problems)
        }
        // Accepted as this event, or as an earlier event with the same referral id.
        let referralId = event.data["referralId"]?.stringValue?.trimmingCharacters(in: .whitespaces)
        let accepted = try await context.connection.query(
            """
            SELECT case_id FROM referrals
            WHERE source = \(event.source) AND (event_id = \(event.id) OR referral_id = \(referralId))
            """, logger: context.logger
        ).collect()
        return try accepted.first.map { .alreadyReceived(caseId: try $0.decode(UUID.self)) }
    }

    /// Structured mode (`application/cloudevents+json`) or HTTP binary mode (`ce-*` headers).
    static func decodeEvent(body: ByteBuffer, headers: HTTPFields) throws -> CloudEvent {
        var kafkaStyleHeaders: [(String, [UInt8])] = []
        for field in headers where field.name.canonicalName.hasPrefix("ce-") {
            kafkaStyleHeaders.append(("ce_" + field.name.canonicalName.dropFirst(3), Array(field.value.utf8)))
        }
        do {
            return try CloudEvent.decode(value: Array(buffer: body), headers: kafkaStyleHeaders)
        } catch {
            throw Problem(
                .badRequest, type: error.reason.rawValue, title: "Not a CloudEvent", detail: error.detail)
        }
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: JSON) throws -> Response {
        try .json(body, status: status)
    }
}

/// `POST /v1/managers`: a family manager, the areas they work in and how many families
/// they can carry.
struct ManagerRegistration: Codable, Sendable {
    var id: String
    var displayName: String
    var areas: [String]
    var maxCaseload: Int
    /// The team the manager belongs to, for figures per team; the first area when not given.
    var team: String?

    var problems: [Problem.Item] {
        var problems: [Problem.Item] = []
        if let team, team.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) == nil {
            problems.append(.init(rule: "pattern", pointer: "/team", detail: "1–64 letters, digits, '.', '_' or '-'"))
        }
        if id.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) == nil {
            problems.append(.init(rule: "pattern", pointer: "/id", detail: "1–64 letters, digits, '.', '_' or '-'"))
        }
        if displayName.trimmingCharacters(in: .whitespaces).isEmpty || displayName.count > 200 {
            problems.append(.init(rule: "length", pointer: "/displayName", detail: "1–200 characters"))
        }
        if areas.isEmpty || areas.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.count > 100 }) {
            problems.append(.init(rule: "areas", pointer: "/areas", detail: "at least one area, each 1–100 characters"))
        }
        if !(0...500).contains(maxCaseload) {
            problems.append(.init(rule: "range", pointer: "/maxCaseload", detail: "a whole number from 0 to 500"))
        }
        return problems
    }
}
