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
    /// The organisation's time zone: "today" and court-order dates are Dutch dates.
    static let timeZone = TimeZone(identifier: "Europe/Amsterdam") ?? .gmt
    /// How long after closing a case a new referral for the family counts as a re-referral.
    static let reReferralWindow: TimeInterval = 365 * 24 * 3600

    let clock: any WallClock
    let courtOrderNoticeMonths: Int

    public init(clock: any WallClock = SystemWallClock(), courtOrderNoticeMonths: Int = 3) {
        self.clock = clock
        self.courtOrderNoticeMonths = courtOrderNoticeMonths
    }

    func today() -> CalendarDate { CalendarDate(clock.now(), in: Self.timeZone) }

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

        let now = clock.now()
        let caseId: UUID
        let familyId: UUID
        let joined: Bool
        var previous: (caseId: UUID, managerId: String?)?
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
            joined = false
            // A family whose case closed less than 12 months ago is the same family again.
            if let closed = try await connection.query(
                """
                SELECT c.id, c.family_id, c.manager_id FROM members m JOIN cases c ON c.family_id = m.family_id
                WHERE m.child_key = ANY(\(childKeys)) AND c.status = 'closed'
                  AND c.closed_at > \(now.addingTimeInterval(-Self.reReferralWindow))
                ORDER BY c.closed_at DESC LIMIT 1
                """, logger: logger
            ).collect().first {
                let (previousCase, family, manager) = try closed.decode((UUID, UUID, String?).self)
                familyId = family
                previous = (previousCase, manager)
            } else {
                familyId = UUID()
                try await connection.query(
                    "INSERT INTO families (id, area) VALUES (\(familyId), \(referral.area))", logger: logger)
            }
            try await storeMembers(referral.members, familyId: familyId, on: connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO cases (id, family_id, framework, urgency, area, court_order_decided_on, court_order_ends_on,
                                   opened_at, queued_at, re_referral, previous_case_id, preferred_manager_id)
                VALUES (\(caseId), \(familyId), \(referral.framework.rawValue), \(referral.urgency.rawValue), \(referral.area),
                        \(referral.courtOrder?.decidedOn.description)::date, \(referral.courtOrder?.endsOn.description)::date,
                        \(now), \(now), \(previous != nil), \(previous?.caseId), \(previous?.managerId))
                """, logger: logger)
        }
        if let courtOrder = referral.courtOrder {
            try await recordCourtOrder(courtOrder, caseId: caseId, isNewCase: !joined, on: connection, logger: logger)
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
                childCount: referral.children.count, openedAt: now, reReferral: previous != nil,
                previousCaseId: previous?.caseId),
            on: Topic.intake, key: key, traceparent: trace)

        // The new case joins the area's queue, which is served at once if anyone has room. A
        // re-referred family goes back to its previous manager when they have a place (its
        // `preferred_manager_id`), now or when it is its turn in the queue.
        let assignments = try await Caseload.serveQueue(area: referral.area, now: now, on: connection, logger: logger)
        try await CaseEvents.emitAssignments(assignments, at: now, traceparent: trace, in: context)
        if !assignments.contains(where: { $0.caseId == caseId }) {
            let waiting = try await Caseload.queueLength(area: referral.area, on: connection, logger: logger)
            try await context.emit(
                .caseQueued,
                payload: CaseQueued(
                    caseId: caseId, area: referral.area, urgency: referral.urgency, queuedAt: now, queueLength: waiting),
                on: Topic.intake, key: key, traceparent: trace)
        }
        return .accepted(caseId: caseId, joined: false)
    }

    /// Keeps the order's dates on the case (a later referral may bring a new order) and sets
    /// the timer that warns the manager `courtOrderNoticeMonths` before it ends. The same
    /// order brought again by a joining referral changes nothing: its warning fires once.
    private func recordCourtOrder(
        _ order: ValidReferral.CourtOrder, caseId: UUID, isNewCase: Bool, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        // A new case was inserted with the order's dates already: its timer is armed as is.
        if !isNewCase {
            let changed = try await connection.query(
                """
                UPDATE cases SET court_order_decided_on = \(order.decidedOn.description)::date,
                                 court_order_ends_on = \(order.endsOn.description)::date
                WHERE id = \(caseId) AND (court_order_ends_on IS DISTINCT FROM \(order.endsOn.description)::date
                                         OR court_order_decided_on IS DISTINCT FROM \(order.decidedOn.description)::date)
                RETURNING 1
                """, logger: logger
            ).collect()
            guard !changed.isEmpty else { return }
        }
        try await Timers.schedule(
            kind: CourtOrderTimers.kind, subject: caseId.uuidString.lowercased(),
            dueAt: CourtOrderTimers.noticeDate(endsOn: order.endsOn, monthsBefore: courtOrderNoticeMonths),
            on: connection, logger: logger)
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
