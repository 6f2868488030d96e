import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanStorage
import VolunteersDomain

/// A volunteer as the registry keeps them, contact details included: this type never
/// leaves the volunteers service except as the coordinator's or the volunteer's own view.
struct VolunteerRecord: Sendable {
    var id: String
    var name: String
    var email: String?
    var phone: String?
    var areas: [String]
    var skills: [String]
    var languages: [String]
    var availability: [String]
    var helpKinds: [String]
    var guideId: String?
    var status: String
    var statusReason: String?
    var consentGiven: Bool
    var certificateIssuedOn: String?
    var maxAssignments: Int
    var activeAssignments = 0

    /// A validated registration, normalised: areas lower-case, lists sorted and unique.
    init(id: String, registration body: Registry.Registration, at now: Date) {
        func normalised(_ values: [String]) -> [String] { Array(Set(values)).sorted() }
        self.id = id
        name = body.name.trimmingCharacters(in: .whitespaces)
        email = body.email
        phone = body.phone
        areas = normalised(body.areas.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        skills = normalised(body.skills ?? [])
        languages = normalised(body.languages ?? [])
        availability = Set((body.availability ?? []).compactMap(WeeklySlot.init)).sorted().map(\.description)
        helpKinds = normalised(body.helpKinds)
        guideId = body.guideId
        status = body.status ?? VolunteerStatus.applicant.rawValue
        consentGiven = body.consentGiven
        certificateIssuedOn = body.certificateIssuedOn.flatMap(CalendarDate.init)?.description
        maxAssignments = body.maxAssignments ?? 2
    }

    private init(row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        id = try columns["id"].decode(String.self)
        name = try columns["name"].decode(String.self)
        email = try columns["email"].decode(String?.self)
        phone = try columns["phone"].decode(String?.self)
        areas = try columns["areas"].decode([String].self)
        skills = try columns["skills"].decode([String].self)
        languages = try columns["languages"].decode([String].self)
        availability = try columns["availability"].decode([String].self)
        helpKinds = try columns["help_kinds"].decode([String].self)
        guideId = try columns["guide_id"].decode(String?.self)
        status = try columns["status"].decode(String.self)
        statusReason = try columns["status_reason"].decode(String?.self)
        consentGiven = try columns["consent_given"].decode(Bool.self)
        certificateIssuedOn = try columns["certificate_issued_on"].decode(String?.self)
        maxAssignments = try columns["max_assignments"].decode(Int.self)
        activeAssignments = try columns["active_assignments"].decode(Int.self)
    }

    /// The columns `init(row:)` reads, by name.
    private static let columns = """
        v.id, v.name, v.email, v.phone, v.areas, v.skills, v.languages, v.availability, v.help_kinds, v.guide_id,
        v.status, v.status_reason, v.consent_given_at IS NOT NULL AS consent_given,
        v.certificate_issued_on::text AS certificate_issued_on, v.max_assignments,
        (SELECT count(*)::int FROM assignments a WHERE a.volunteer_id = v.id AND a.ended_at IS NULL) AS active_assignments
        """

    static func find(_ id: String, database: Database, logger: Logger) async throws -> VolunteerRecord? {
        try await database.client.withConnection { try await find(id, on: $0, logger: logger) }
    }

    static func find(_ id: String, on connection: PostgresConnection, logger: Logger) async throws -> VolunteerRecord? {
        try await connection.query(
            "SELECT \(unescaped: columns) FROM volunteers v WHERE v.id = \(id)", logger: logger
        ).collect().first.map(VolunteerRecord.init(row:))
    }

    /// A page of volunteers by id, optionally of one status or area.
    static func list(
        after: String?, limit: Int, status: String?, area: String?, database: Database, logger: Logger
    ) async throws -> [VolunteerRecord] {
        try await database.client.query(
            """
            SELECT \(unescaped: columns) FROM volunteers v
            WHERE (\(after)::text IS NULL OR v.id > \(after)::text)
              AND (\(status)::text IS NULL OR v.status = \(status)::text)
              AND (\(area?.lowercased())::text IS NULL OR \(area?.lowercased())::text = ANY (v.areas))
            ORDER BY v.id LIMIT \(limit)
            """, logger: logger
        ).collect().map(VolunteerRecord.init(row:))
    }

    /// Every volunteer who could be on a shortlist: active, with consent. The matching rules
    /// decide the rest, so the reasons are the same in every answer.
    static func candidates(on connection: PostgresConnection, logger: Logger) async throws -> [VolunteerRecord] {
        try await connection.query(
            "SELECT \(unescaped: columns) FROM volunteers v WHERE v.status = 'active' ORDER BY v.id", logger: logger
        ).collect().map(VolunteerRecord.init(row:))
    }

    /// What the matching rules look at.
    var profile: VolunteerProfile {
        VolunteerProfile(
            id: id, status: VolunteerStatus(rawValue: status) ?? .stopped, consentGiven: consentGiven,
            certificateIssuedOn: certificateIssuedOn.flatMap(CalendarDate.init), areas: Set(areas), skills: Set(skills),
            languages: Set(languages), helpKinds: Set(helpKinds.compactMap(HelpKind.init)),
            availability: Set(availability.compactMap(WeeklySlot.init)), activeAssignments: activeAssignments,
            maxAssignments: maxAssignments)
    }

    /// The coordinator's (and the volunteer's own) view of the record.
    func json() -> JSON {
        .object([
            "id": .string(id), "name": .string(name), "email": email.map(JSON.string) ?? .null,
            "phone": phone.map(JSON.string) ?? .null, "areas": .array(areas.map(JSON.string)),
            "skills": .array(skills.map(JSON.string)), "languages": .array(languages.map(JSON.string)),
            "availability": .array(availability.map(JSON.string)), "helpKinds": .array(helpKinds.map(JSON.string)),
            "guideId": guideId.map(JSON.string) ?? .null, "status": .string(status),
            "statusReason": statusReason.map(JSON.string) ?? .null, "consentGiven": .bool(consentGiven),
            "certificateIssuedOn": certificateIssuedOn.map(JSON.string) ?? .null,
            "maxAssignments": .number(Double(maxAssignments)), "activeAssignments": .number(Double(activeAssignments)),
        ])
    }
}
