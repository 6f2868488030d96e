import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// What became of one submitted referral event.
public enum ReferralOutcome: Sendable, Equatable {
    /// Stored; `joined` when it joined the family's open case instead of opening one.
    case accepted(caseId: UUID, joined: Bool)
    /// The same `source` + `referralId` was accepted before: one referral, one case.
    case alreadyReceived(caseId: UUID)
    case rejected([ReferralRejected.Problem])
}

/// The referral desk: validates a `nl.samenplan.referral.submitted.v1` event, stores the
/// family, opens or joins its case, assigns a family manager and emits what happened, all in
/// the caller's transaction. Used by the Kafka consumer and `POST /v1/events` alike, so both
/// give the same result.
public struct ReferralDesk: Sendable {
    /// Today in the organisation's time zone, for "no birth date in the future".
    let today: @Sendable () -> CalendarDate

    public init(today: @escaping @Sendable () -> CalendarDate = {
        CalendarDate(Date(), in: TimeZone(identifier: "Europe/Amsterdam") ?? .gmt)
    }) {
        self.today = today
    }

    /// Who handed a referral in, for the audit log: the token's subject over HTTP, the
    /// event's `source` over Kafka.
    public struct Submitter: Sendable {
        public var actor: String
        public var role: String

        public init(actor: String, role: String) {
            self.actor = actor
            self.role = role
        }
    }

    public func submit(_ event: CloudEvent, by submitter: Submitter? = nil, in context: EventContext) async throws
        -> ReferralOutcome
    {
        switch ReferralValidator.validate(event.data, today: today()) {
        case .failure(let failure):
            try await reject(event, failure, in: context)
            return .rejected(failure.problems)
        case .success(let referral):
            let submitter = submitter ?? Submitter(actor: event.source, role: Role.integrator.rawValue)
            return try await accept(referral, event: event, submitter: submitter, in: context)
        }
    }

    private func reject(_ event: CloudEvent, _ failure: ReferralProblems, in context: EventContext) async throws {
        let payload = ReferralRejected(
            eventSource: event.source, eventId: event.id, referralId: failure.referralId, problems: failure.problems)
        let problems = String(decoding: try JSONCoding.encoder.encode(failure.problems), as: UTF8.self)
        try await context.connection.query(
            """
            INSERT INTO rejections (event_source, event_id, referral_id, problems)
            VALUES (\(event.source), \(event.id), \(failure.referralId), \(problems)::jsonb)
            ON CONFLICT DO NOTHING
            """, logger: context.logger)
        context.logger.info(
            "referral rejected", metadata: ["rules": "\(Set(failure.problems.map(\.rule)).sorted())"])
        try await context.emit(
            .referralRejected, payload: payload, on: Topic.intake, key: failure.referralId ?? event.id,
            traceparent: event.traceparent)
    }

    private func accept(
        _ referral: ValidReferral, event: CloudEvent, submitter: Submitter, in context: EventContext
    ) async throws
        -> ReferralOutcome
    {
        let connection = context.connection
        let logger = context.logger
        let childKeys = referral.members.compactMap(\.childKey).sorted()
        // Serialise referrals about the same children (from several integrators, or Kafka and
        // HTTP at once): lock each child's key, in a fixed order so two transactions cannot
        // deadlock. The lock also covers the same referral arriving twice at once.
        for key in childKeys + ["referral:\(event.source):\(referral.referralId)"] {
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger)
        }

        if let existing = try await connection.query(
            "SELECT case_id FROM referrals WHERE source = \(event.source) AND referral_id = \(referral.referralId)",
            logger: logger
        ).collect().first {
            return .alreadyReceived(caseId: try existing.decode(UUID.self))
        }

        let now = Date()
        let caseId: UUID
        let familyId: UUID
        let joined: Bool
        if let open = try await connection.query(
            """
            SELECT c.id, c.family_id FROM members m JOIN cases c ON c.family_id = m.family_id AND c.status = 'open'
            WHERE m.child_key = ANY(\(childKeys)) ORDER BY c.opened_at LIMIT 1
            """, logger: logger
        ).collect().first {
            (caseId, familyId) = try open.decode((UUID, UUID).self)
            joined = true
            try await storeMembers(referral.members, familyId: familyId, on: connection, logger: logger)
        } else {
            caseId = UUID()
            familyId = UUID()
            joined = false
            try await connection.query(
                "INSERT INTO families (id, area) VALUES (\(familyId), \(referral.area))", logger: logger)
            try await storeMembers(referral.members, familyId: familyId, on: connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO cases (id, family_id, framework, urgency, area, court_order_decided_on, court_order_ends_on, opened_at)
                VALUES (\(caseId), \(familyId), \(referral.framework.rawValue), \(referral.urgency.rawValue), \(referral.area),
                        \(referral.courtOrder?.decidedOn.description)::date, \(referral.courtOrder?.endsOn.description)::date, \(now))
                """, logger: logger)
        }

        try await connection.query(
            """
            INSERT INTO referrals (source, referral_id, event_id, case_id, joined_existing_case, framework, urgency, area,
                                   referrer_organisation, referrer_contact, reason)
            VALUES (\(event.source), \(referral.referralId), \(event.id), \(caseId), \(joined), \(referral.framework.rawValue),
                    \(referral.urgency.rawValue), \(referral.area), \(referral.referrer.organisation),
                    \(referral.referrer.contact), \(referral.reason))
            """, logger: logger)

        // A referral writes family data: audited like any other change.
        try await AuditLog.record(
            AuditEntry(
                actor: submitter.actor, role: submitter.role, action: joined ? "referral-joined-case" : "referral-opened-case",
                resourceType: "referral", resourceId: referral.referralId, caseId: caseId),
            on: connection, logger: logger)

        let key = caseId.uuidString.lowercased()
        let trace = event.traceparent
        try await context.emit(
            .referralAccepted,
            payload: ReferralAccepted(
                eventSource: event.source, eventId: event.id, referralId: referral.referralId, caseId: caseId,
                joinedExistingCase: joined),
            on: Topic.intake, key: key, traceparent: trace)
        guard !joined else { return .accepted(caseId: caseId, joined: true) }

        try await context.emit(
            .caseOpened,
            payload: CaseOpened(
                caseId: caseId, familyId: familyId, referralId: referral.referralId, framework: referral.framework,
                urgency: referral.urgency, area: referral.area, courtOrderEndsOn: referral.courtOrder?.endsOn.description,
                childCount: referral.children.count, openedAt: now),
            on: Topic.intake, key: key, traceparent: trace)
        if let managerId = try await Caseload.assign(caseId: caseId, area: referral.area, on: connection, logger: logger) {
            try await context.emit(
                .caseAssigned, payload: CaseAssigned(caseId: caseId, managerId: managerId, area: referral.area, assignedAt: now),
                on: Topic.intake, key: key, traceparent: trace)
        }
        return .accepted(caseId: caseId, joined: false)
    }

    private func storeMembers(
        _ members: [ValidReferral.Member], familyId: UUID, on connection: PostgresConnection, logger: Logger
    ) async throws {
        for member in members {
            // A member the family already has (same reference) keeps its first record.
            try await connection.query(
                """
                INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key)
                VALUES (\(familyId), \(member.memberRef), \(member.role.rawValue), \(member.givenName), \(member.familyName),
                        \(member.birthDate?.description)::date, \(member.childKey))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }
}

/// The family managers' caseload: who has room for a new family.
public enum Caseload {
    /// Assigns the case to the manager of `area` with the most free places (ties: the lowest
    /// id, so assignment is deterministic). Returns nil when nobody in the area has room; the
    /// case then waits unassigned.
    static func assign(caseId: UUID, area: String, on connection: PostgresConnection, logger: Logger) async throws -> String? {
        // Lock the area's managers so two cases cannot both take the last free place.
        let rows = try await connection.query(
            """
            WITH area_managers AS (
                SELECT id, max_caseload FROM managers WHERE \(area) = ANY(areas) ORDER BY id FOR UPDATE
            )
            SELECT m.id, m.max_caseload - count(c.id) AS free
            FROM area_managers m LEFT JOIN cases c ON c.manager_id = m.id AND c.status = 'open'
            GROUP BY m.id, m.max_caseload
            HAVING m.max_caseload - count(c.id) > 0
            ORDER BY free DESC, m.id
            LIMIT 1
            """, logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (managerId, _) = try row.decode((String, Int64).self)
        try await connection.query("UPDATE cases SET manager_id = \(managerId) WHERE id = \(caseId)", logger: logger)
        return managerId
    }
}
