import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// The volunteer registry (`/v1/volunteers`) and the managed lists of skills and languages
/// (`/v1/catalogue`). The coordinator keeps it; a volunteer reads their own record.
enum Registry {
    /// `POST /v1/volunteers` and `PUT /v1/volunteers/{id}`.
    struct Registration: Decodable, Sendable {
        var id: String?
        var name: String
        var email: String?
        var phone: String?
        var areas: [String]
        var skills: [String]?
        var languages: [String]?
        var availability: [String]?
        var helpKinds: [String]
        var guideId: String?
        var status: String?
        var consentGiven: Bool
        var certificateIssuedOn: String?
        var maxAssignments: Int?
    }

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, settings: VolunteerSettings
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.post("volunteers") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let body = try await request.decode(as: Registration.self, context: context)
            let id = body.id?.trimmingCharacters(in: .whitespaces) ?? ""
            var problems = validate(body, catalogue: try await Catalogue.load(database: database, logger: context.logger),
                today: VolunteerCalendar.today(clock))
            if id.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) == nil {
                problems.insert(.init(rule: "pattern", pointer: "/id", detail: "1–64 letters, digits, '.', '_' or '-'"), at: 0)
            }
            guard problems.isEmpty else {
                throw Problem.badRequest("The volunteer breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let record = VolunteerRecord(id: id, registration: body, at: now)
            let created = try await database.transaction { connection -> Bool in
                let inserted = try await connection.query(
                    """
                    INSERT INTO volunteers (id, name, email, phone, areas, skills, languages, availability, help_kinds,
                                            guide_id, status, consent_given_at, certificate_issued_on, max_assignments,
                                            registered_at, updated_at)
                    VALUES (\(id), \(record.name), \(record.email), \(record.phone), \(record.areas), \(record.skills),
                            \(record.languages), \(record.availability), \(record.helpKinds), \(record.guideId),
                            \(record.status), \(record.consentGiven ? now : nil), \(record.certificateIssuedOn)::date,
                            \(record.maxAssignments), \(now), \(now))
                    ON CONFLICT (id) DO NOTHING RETURNING 1
                    """, logger: context.logger
                ).collect()
                guard !inserted.isEmpty else { return false }
                try await AuditLog.record(
                    AuditEntry(actor: caller.subject, role: caller.role.rawValue, action: "register", resourceType: "volunteer", resourceId: id),
                    on: connection, logger: context.logger)
                let events = EventContext(connection: connection, logger: context.logger, source: source)
                try await events.emit(
                    .volunteerRegistered,
                    payload: VolunteerChanged(
                        volunteerId: id, status: record.status, areas: record.areas, guideId: record.guideId, reason: nil,
                        at: now, sequence: 1),
                    on: Topic.volunteers, key: id, traceparent: nil)
                try await CertificateTimers.schedule(
                    volunteerId: id, issuedOn: record.certificateIssuedOn.flatMap(CalendarDate.init),
                    policy: settings.certificates, on: connection, logger: context.logger)
                return true
            }
            guard created else { throw Problem.conflict("A volunteer with id \(id) is registered already; PUT changes them.") }
            return try Response.json(try await VolunteerRecord.find(id, database: database, logger: context.logger)!.json(), status: .created)
        }

        group.put("volunteers/:id") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let id = context.parameters.get("id") ?? ""
            let body = try await request.decode(as: Registration.self, context: context)
            var problems = validate(body, catalogue: try await Catalogue.load(database: database, logger: context.logger),
                today: VolunteerCalendar.today(clock))
            if let bodyId = body.id, bodyId != id {
                problems.insert(.init(rule: "mismatch", pointer: "/id", detail: "the id in the path, or none"), at: 0)
            }
            guard problems.isEmpty else {
                throw Problem.badRequest("The volunteer breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let record = VolunteerRecord(id: id, registration: body, at: now)
            let found = try await database.transaction { connection -> Bool in
                // The certificate timers first, as the timer service takes them (a deadlock otherwise
                // when the certificate runs out while the volunteer is being changed).
                try await CertificateTimers.lock(volunteerId: id, on: connection, logger: context.logger)
                let previous = try await connection.query(
                    "SELECT status, consent_given_at FROM volunteers WHERE id = \(id) FOR UPDATE", logger: context.logger
                ).collect().first?.decode((String, Date?).self)
                guard let (previousStatus, consentGivenAt) = previous else { return false }
                // The status's sequence counts up with each change of status (VolunteerChanged).
                let sequence = try await connection.query(
                    """
                    UPDATE volunteers SET name = \(record.name), email = \(record.email), phone = \(record.phone),
                        areas = \(record.areas), skills = \(record.skills), languages = \(record.languages),
                        availability = \(record.availability), help_kinds = \(record.helpKinds), guide_id = \(record.guideId),
                        status = \(record.status),
                        status_reason = CASE WHEN status = \(record.status) THEN status_reason END,
                        consent_given_at = \(record.consentGiven ? (consentGivenAt ?? now) : nil),
                        certificate_issued_on = \(record.certificateIssuedOn)::date,
                        max_assignments = \(record.maxAssignments), updated_at = \(now),
                        status_sequence = status_sequence + CASE WHEN status = \(record.status) THEN 0 ELSE 1 END
                    WHERE id = \(id) RETURNING status_sequence
                    """, logger: context.logger
                ).collect().first?.decode(Int.self) ?? 1
                try await AuditLog.record(
                    AuditEntry(actor: caller.subject, role: caller.role.rawValue, action: "change", resourceType: "volunteer", resourceId: id),
                    on: connection, logger: context.logger)
                if previousStatus != record.status {
                    try await EventContext(connection: connection, logger: context.logger, source: source).emit(
                        .volunteerStatusChanged,
                        payload: VolunteerChanged(
                            volunteerId: id, status: record.status, areas: record.areas, guideId: record.guideId,
                            reason: nil, at: now, sequence: sequence),
                        on: Topic.volunteers, key: id, traceparent: nil)
                }
                try await CertificateTimers.schedule(
                    volunteerId: id, issuedOn: record.certificateIssuedOn.flatMap(CalendarDate.init),
                    policy: settings.certificates, on: connection, logger: context.logger)
                return true
            }
            guard found else { throw Problem.notFound("No volunteer \(id).") }
            return try Response.json(try await VolunteerRecord.find(id, database: database, logger: context.logger)!.json())
        }

        group.get("volunteers/:id") { _, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .volunteer, .admin)
            let id = context.parameters.get("id") ?? ""
            // A volunteer sees their own record only; any other id does not exist for them.
            let allowed = caller.role != .volunteer || caller.subject == id
            try await database.transaction { connection in
                try await AuditLog.record(
                    AuditEntry(
                        actor: caller.subject, role: caller.role.rawValue, action: "read", resourceType: "volunteer",
                        resourceId: id, outcome: allowed ? "allowed" : "denied"),
                    on: connection, logger: context.logger)
            }
            guard allowed, let record = try await VolunteerRecord.find(id, database: database, logger: context.logger) else {
                throw Problem.notFound("No volunteer \(id).")
            }
            var body = record.json()
            if case .object(var fields) = body {
                fields["certificate"] = certificateJSON(
                    record.certificateIssuedOn.flatMap(CalendarDate.init), policy: settings.certificates,
                    today: VolunteerCalendar.today(clock))
                body = .object(fields)
            }
            return try Response.json(body)
        }

        group.get("volunteers") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let page = try Page(request)
            let query = request.uri.queryParameters
            let status = query.get("status")
            let area = query.get("area")
            if let status, VolunteerStatus(rawValue: status) == nil {
                throw Problem.badRequest(
                    "Unknown status.", problems: [.init(rule: "enum", pointer: "status", detail: "applicant, active, paused or stopped")])
            }
            let records = try await VolunteerRecord.list(
                after: page.after, limit: page.limit, status: status, area: area, database: database, logger: context.logger)
            try await database.transaction { connection in
                try await AuditLog.record(
                    records.map {
                        AuditEntry(actor: caller.subject, role: caller.role.rawValue, action: "list", resourceType: "volunteer", resourceId: $0.id)
                    }, on: connection, logger: context.logger)
            }
            return try Response.json(
                page.body(items: records.map { $0.json() }, last: records.count == page.limit ? records.last?.id : nil))
        }

        group.get("catalogue") { _, context -> Response in
            _ = try context.require(.volunteerCoordinator, .familyManager, .volunteer, .admin)
            let catalogue = try await Catalogue.load(database: database, logger: context.logger)
            return try Response.json(catalogue.json())
        }

        group.post("catalogue") { request, context -> Response in
            _ = try context.require(.volunteerCoordinator, .admin)
            struct Entry: Decodable { var kind: String; var code: String; var label: String }
            var entry = try await request.decode(as: Entry.self, context: context)
            entry.label = entry.label.trimmingCharacters(in: .whitespaces)
            var problems: [Problem.Item] = []
            if !["skill", "language"].contains(entry.kind) {
                problems.append(.init(rule: "enum", pointer: "/kind", detail: "skill or language"))
            }
            if entry.code.wholeMatch(of: /[a-z0-9-]{1,40}/) == nil {
                problems.append(.init(rule: "pattern", pointer: "/code", detail: "1–40 lower-case letters, digits or '-'"))
            }
            if !(1...100).contains(entry.label.count) {
                problems.append(.init(rule: "length", pointer: "/label", detail: "1–100 characters"))
            }
            guard problems.isEmpty else { throw Problem.badRequest("The entry breaks \(problems.count) rule(s).", problems: problems) }
            try await database.client.query(
                """
                INSERT INTO catalogue (kind, code, label) VALUES (\(entry.kind), \(entry.code), \(entry.label))
                ON CONFLICT (kind, code) DO UPDATE SET label = excluded.label
                """, logger: context.logger)
            return try Response.json(.object(["kind": .string(entry.kind), "code": .string(entry.code), "label": .string(entry.label)]), status: .created)
        }
    }

    /// Every broken rule of a registration, with a pointer to the field.
    static func validate(_ body: Registration, catalogue: Catalogue, today: CalendarDate) -> [Problem.Item] {
        var problems: [Problem.Item] = []
        if !(1...200).contains(body.name.trimmingCharacters(in: .whitespaces).count) {
            problems.append(.init(rule: "length", pointer: "/name", detail: "1–200 characters"))
        }
        if let email = body.email, email.wholeMatch(of: /[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}/) == nil {
            problems.append(.init(rule: "format", pointer: "/email", detail: "an e-mail address"))
        }
        if let phone = body.phone, phone.wholeMatch(of: /\+?[0-9 ()-]{6,20}/) == nil {
            problems.append(.init(rule: "format", pointer: "/phone", detail: "a phone number: digits, spaces, '+', '-', '(' or ')'"))
        }
        if body.areas.isEmpty || body.areas.count > 20
            || body.areas.contains(where: { !(1...100).contains($0.trimmingCharacters(in: .whitespaces).count) })
        {
            problems.append(.init(rule: "areas", pointer: "/areas", detail: "1–20 areas, each 1–100 characters"))
        }
        for (index, skill) in (body.skills ?? []).enumerated() where !catalogue.skills.keys.contains(skill) {
            problems.append(.init(rule: "catalogue", pointer: "/skills/\(index)", detail: "a skill from /v1/catalogue, not '\(skill.prefix(40))'"))
        }
        for (index, language) in (body.languages ?? []).enumerated() where !catalogue.languages.keys.contains(language) {
            problems.append(.init(rule: "catalogue", pointer: "/languages/\(index)", detail: "a language from /v1/catalogue, not '\(language.prefix(40))'"))
        }
        for (index, slot) in (body.availability ?? []).enumerated() where WeeklySlot(slot) == nil {
            problems.append(.init(rule: "slot", pointer: "/availability/\(index)", detail: "a weekly slot such as monday-morning, tuesday-afternoon or friday-evening"))
        }
        if body.helpKinds.isEmpty {
            problems.append(.init(rule: "required", pointer: "/helpKinds", detail: "at least one of practical, long-term"))
        }
        for (index, kind) in body.helpKinds.enumerated() where HelpKind(rawValue: kind) == nil {
            problems.append(.init(rule: "enum", pointer: "/helpKinds/\(index)", detail: "practical or long-term"))
        }
        if let guide = body.guideId, guide.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) == nil {
            problems.append(.init(rule: "pattern", pointer: "/guideId", detail: "the id of a family manager or coordinator"))
        }
        if let status = body.status, VolunteerStatus(rawValue: status) == nil {
            problems.append(.init(rule: "enum", pointer: "/status", detail: "applicant, active, paused or stopped"))
        }
        if let issued = body.certificateIssuedOn {
            if let date = CalendarDate(issued) {
                if today < date {
                    problems.append(.init(rule: "not-in-future", pointer: "/certificateIssuedOn", detail: "today (\(today)) or earlier"))
                }
            } else {
                problems.append(.init(rule: "date", pointer: "/certificateIssuedOn", detail: "a date, YYYY-MM-DD"))
            }
        }
        if let maximum = body.maxAssignments, !(1...10).contains(maximum) {
            problems.append(.init(rule: "range", pointer: "/maxAssignments", detail: "a whole number from 1 to 10"))
        }
        // Without consent the centre may not keep a volunteer's data to work with; an
        // applicant may be on record while that is being asked.
        if !body.consentGiven, let status = body.status, status == "active" {
            problems.append(.init(rule: "consent", pointer: "/consentGiven", detail: "an active volunteer has consented to their data being stored"))
        }
        return problems
    }

    static func certificateJSON(_ issuedOn: CalendarDate?, policy: CertificatePolicy, today: CalendarDate) -> JSON {
        let standing = policy.standing(issuedOn: issuedOn, on: today)
        var body: [String: JSON] = ["standing": .string(standing.code)]
        if let issuedOn { body["issuedOn"] = .string(issuedOn.description) }
        if let expiresOn = standing.expiresOn { body["expiresOn"] = .string(expiresOn.description) }
        return .object(body)
    }
}

/// "Today" on the organisation's calendar (the Netherlands).
enum VolunteerCalendar {
    static func today(_ clock: any WallClock) -> CalendarDate { CalendarDate(clock.now(), in: CalendarDate.netherlands) }
}

/// The managed lists of skills and languages, by code.
struct Catalogue: Sendable {
    var skills: [String: String] = [:]
    var languages: [String: String] = [:]

    static func load(database: Database, logger: Logger) async throws -> Catalogue {
        var catalogue = Catalogue()
        for try await (kind, code, label) in try await database.client.query(
            "SELECT kind, code, label FROM catalogue", logger: logger
        ).decode((String, String, String).self) {
            if kind == "skill" { catalogue.skills[code] = label } else { catalogue.languages[code] = label }
        }
        return catalogue
    }

    func json() -> JSON {
        func list(_ entries: [String: String]) -> JSON {
            .array(entries.sorted { $0.key < $1.key }.map { .object(["code": .string($0.key), "label": .string($0.value)]) })
        }
        return .object(["skills": list(skills), "languages": list(languages)])
    }
}
