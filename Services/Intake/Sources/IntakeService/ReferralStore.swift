import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// What the referral desk reads and locks for a batch of referrals.
struct ReferralStore {
    let connection: PostgresConnection
    let logger: Logger

    /// How many advisory locks stand for all child and referral keys. A key locks its
    /// bucket, so a batch holds at most this many locks (PostgreSQL's lock table is shared
    /// and small: `max_locks_per_transaction` × connections), at the price of sometimes
    /// waiting for an unrelated referral that shares a bucket.
    static let lockBuckets: Int64 = 128

    /// Transaction-scoped advisory locks on the buckets of `keys` (child keys, referral
    /// keys), taken in one statement in bucket order, so two transactions locking
    /// overlapping sets cannot deadlock. Taken before the area locks (``Caseload/load``),
    /// never after.
    func lock(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        _ = try await connection.query(
            """
            SELECT pg_advisory_xact_lock(-1, b)
            FROM (SELECT DISTINCT (abs(hashtextextended(k, 0)) % \(Self.lockBuckets))::int AS b
                  FROM unnest(\(Array(Set(keys)))::text[]) AS k ORDER BY b) AS buckets
            """, logger: logger
        ).collect()
    }

    /// The referrals accepted before among `referrals`, and the open and recently closed
    /// cases of the families of `childKeys`.
    func snapshot(referrals: [ReferralTriage.ReferralKey], childKeys: [String], closedSince: Date) async throws
        -> ReferralTriage.Snapshot
    {
        var snapshot = ReferralTriage.Snapshot()
        let rows = try await connection.query(
            """
            SELECT r.source, r.referral_id, r.case_id
            FROM unnest(\(referrals.map(\.source))::text[], \(referrals.map(\.referralId))::text[]) AS k(source, referral_id),
                 LATERAL (SELECT * FROM referrals r WHERE r.source = k.source AND r.referral_id = k.referral_id OFFSET 0) AS r
            """, logger: logger)
        // (`OFFSET 0` keeps each lookup an index probe: left to itself, the planner may
        // hash-join a whole growing table against a few hundred keys.)
        for try await (source, referralId, caseId) in rows.decode((String, String, UUID).self) {
            snapshot.referrals[.init(source: source, referralId: referralId)] = caseId
        }
        guard !childKeys.isEmpty else { return snapshot }
        let cases = try await connection.query(
            """
            SELECT m.child_key, c.id, c.family_id, c.status = 'open', c.opened_at, c.closed_at, c.manager_id,
                   c.court_order_decided_on::text, c.court_order_ends_on::text
            FROM unnest(\(Array(Set(childKeys)))::text[]) AS k(child_key),
                 LATERAL (SELECT * FROM members m WHERE m.child_key = k.child_key OFFSET 0) AS m,
                 LATERAL (SELECT * FROM cases c WHERE c.family_id = m.family_id AND c.status = 'open'
                          UNION ALL
                          SELECT * FROM cases c
                          WHERE c.family_id = m.family_id AND c.status = 'closed' AND c.closed_at > \(closedSince)) AS c
            """, logger: logger)
        // (The cases too are probed per family, each half by its partial index. Written as a
        // join with `status = 'open' OR closed_at > …`, a batch of 500 children made the
        // planner sort or hash every case: 20–70 ms a batch at 20,000–57,000 cases, growing.)
        for try await (key, caseId, familyId, isOpen, openedAt, closedAt, managerId, decidedOn, endsOn) in cases.decode(
            (String, UUID, UUID, Bool, Date, Date?, String?, String?, String?).self)
        {
            if isOpen {
                var order: ValidReferral.CourtOrder?
                if let decided = decidedOn.flatMap(CalendarDate.init), let ends = endsOn.flatMap(CalendarDate.init) {
                    order = .init(decidedOn: decided, endsOn: ends)
                }
                snapshot.openCases[key, default: []].append(
                    .init(caseId: caseId, familyId: familyId, openedAt: openedAt, courtOrder: order))
            } else if let closedAt {
                snapshot.closedCases[key, default: []].append(
                    .init(caseId: caseId, familyId: familyId, managerId: managerId, closedAt: closedAt))
            }
        }
        return snapshot
    }
}

/// Everything a batch of referrals writes, collected in their order and written with one
/// statement per table (``flush(on:logger:)``).
struct ReferralWrites {
    let now: Date
    /// Intake's own CloudEvent `source`, for the events it emits.
    let source: String

    private struct FamilyRow {
        var id: UUID
        var area: String
    }
    private struct MemberRow {
        var familyId: UUID
        var memberRef, role, givenName, familyName: String
        var birthDate, childKey: String?
    }
    private struct CaseRow {
        var id, familyId: UUID
        var framework, urgency, area: String
        var decidedOn, endsOn: String?
        var reReferral: Bool
        var previousCaseId: UUID?
        var preferredManagerId, managerId: String?
    }
    private struct CourtOrderRow: Encodable {
        var caseId: UUID
        var decidedOn, endsOn: String
    }
    /// A person a joining referral names, proposed to the case's manager.
    private struct ProposalRow {
        var id: UUID
        var caseId: UUID
        var source, referralId: String
        var member: MemberRow
    }
    private struct ReferralRow {
        var source, referralId, eventId: String
        var caseId: UUID
        var joined: Bool
        var framework, urgency, area, organisation: String
        var contact, reason: String?
    }
    private struct RejectionRow: Encodable {
        var source, eventId: String
        var referralId: String?
        var problems: [ReferralRejected.Problem]
    }

    private var families: [FamilyRow] = []
    private var members: [MemberRow] = []
    private var proposals: [ProposalRow] = []
    private var cases: [CaseRow] = []
    /// Index in `cases` of each case opened by this batch.
    private var newCases: [UUID: Int] = [:]
    private var courtOrders: [CourtOrderRow] = []
    private var referrals: [ReferralRow] = []
    private var rejections: [RejectionRow] = []
    private var assignments: [CaseloadBook.Assignment] = []
    private var timers: [TimerEntry] = []
    private var audit: [AuditEntry] = []
    /// The batch's events, in order, to be encoded while the rows are written (``flush``).
    private var events: [@Sendable () throws -> OutboxEntry] = []

    init(now: Date, source: String) {
        self.now = now
        self.source = source
    }

    mutating func reject(_ event: CloudEvent, _ failure: ReferralProblems) {
        rejections.append(
            RejectionRow(
                source: event.source, eventId: event.id, referralId: failure.referralId, problems: failure.problems))
        emit(
            .referralRejected,
            payload: ReferralRejected(
                eventSource: event.source, eventId: event.id, referralId: failure.referralId, problems: failure.problems),
            key: failure.referralId ?? event.id, traceparent: event.traceparent)
        // The integrator's own copy, on the topic it reads.
        emit(
            .referralRejected,
            payload: ReferralRejected(
                eventSource: event.source, eventId: event.id, referralId: failure.referralId, problems: failure.problems),
            key: failure.referralId ?? event.id, traceparent: event.traceparent, on: Topic.answers)
    }

    /// Records the decision about one valid referral and its events; a new case joins its
    /// area's queue in `book`, which is served at once.
    mutating func accept(
        _ referral: ValidReferral, memberKeys: [String?], event: CloudEvent, submitter: ReferralDesk.Submitter,
        decision: ReferralTriage.Decision, book: inout CaseloadBook, courtOrderNotice: (CalendarDate) -> Date
    ) -> ReferralOutcome {
        let caseId: UUID
        let joined: Bool
        switch decision {
        case .alreadyReceived(let existing):
            return .alreadyReceived(caseId: existing)
        case .join(let existing, let familyId, let newCourtOrder):
            (caseId, joined) = (existing, true)
            // A joining referral adds nobody by itself: its people are proposed to the case's
            // manager (``flush`` leaves out those the family already has).
            propose(referral.members, keys: memberKeys, to: familyId, case: caseId, from: event.source, referral: referral.referralId)
            if newCourtOrder, let order = referral.courtOrder {
                courtOrders.append(
                    CourtOrderRow(caseId: caseId, decidedOn: order.decidedOn.description, endsOn: order.endsOn.description))
                // The same order brought again changes nothing: its warning fires once.
                timers.append(courtOrderTimer(caseId, order, courtOrderNotice))
            }
        case .open(let new, let familyId, let newFamily, let previous):
            (caseId, joined) = (new, false)
            if newFamily { families.append(FamilyRow(id: familyId, area: referral.area)) }
            addMembers(referral.members, keys: memberKeys, to: familyId)
            newCases[caseId] = cases.count
            cases.append(
                CaseRow(
                    id: caseId, familyId: familyId, framework: referral.framework.rawValue,
                    urgency: referral.urgency.rawValue, area: referral.area,
                    decidedOn: referral.courtOrder?.decidedOn.description, endsOn: referral.courtOrder?.endsOn.description,
                    reReferral: previous != nil, previousCaseId: previous?.caseId,
                    preferredManagerId: previous?.managerId, managerId: nil))
            if let order = referral.courtOrder { timers.append(courtOrderTimer(caseId, order, courtOrderNotice)) }
        }

        referrals.append(
            ReferralRow(
                source: event.source, referralId: referral.referralId, eventId: event.id, caseId: caseId, joined: joined,
                framework: referral.framework.rawValue, urgency: referral.urgency.rawValue, area: referral.area,
                organisation: referral.referrer.organisation, contact: referral.referrer.contact, reason: referral.reason))
        // A referral writes family data: audited like any other change.
        audit.append(
            AuditEntry(
                actor: submitter.actor, role: submitter.role, action: joined ? "referral-joined-case" : "referral-opened-case",
                resourceType: "referral", resourceId: referral.referralId, caseId: caseId))

        let key = caseId.uuidString.lowercased()
        let trace = event.traceparent
        emit(
            .referralAccepted,
            payload: ReferralAccepted(
                eventSource: event.source, eventId: event.id, referralId: referral.referralId, caseId: caseId,
                joinedExistingCase: joined),
            key: key, traceparent: trace)
        // The integrator learns that its referral was accepted, and nothing of the case.
        emit(
            .referralAccepted,
            payload: ReferralAnswer(eventSource: event.source, eventId: event.id, referralId: referral.referralId),
            key: referral.referralId, traceparent: trace, on: Topic.answers)
        guard case .open(_, let familyId, _, let previous) = decision else { return .accepted(caseId: caseId, joined: true) }

        emit(
            .caseOpened,
            payload: CaseOpened(
                caseId: caseId, familyId: familyId, referralId: referral.referralId, framework: referral.framework,
                urgency: referral.urgency, area: referral.area, courtOrderEndsOn: referral.courtOrder?.endsOn.description,
                childCount: referral.children.count, openedAt: now, reReferral: previous != nil,
                previousCaseId: previous?.caseId),
            key: key, traceparent: trace)

        // The new case joins the area's queue, which is served at once if anyone has room. A
        // re-referred family goes back to its previous manager when they have a place, now or
        // when it is its turn in the queue.
        book.enqueue(
            .init(caseId: caseId, urgent: referral.urgency == .urgent, queuedAt: now, preferredManagerId: previous?.managerId),
            in: referral.area)
        let served = book.serve(referral.area, now: now)
        for assignment in served {
            if let index = newCases[assignment.caseId] {
                cases[index].managerId = assignment.managerId
            }
            assignments.append(assignment)
            emit(
                .caseAssigned, payload: CaseAssigned(assignment, assignedAt: now),
                key: assignment.caseId.uuidString.lowercased(), traceparent: trace)
        }
        if !served.contains(where: { $0.caseId == caseId }) {
            emit(
                .caseQueued,
                payload: CaseQueued(
                    caseId: caseId, area: referral.area, urgency: referral.urgency, queuedAt: now,
                    queueLength: book.queueLength(of: referral.area)),
                key: key, traceparent: trace)
        }
        return .accepted(caseId: caseId, joined: false)
    }

    private mutating func propose(
        _ referralMembers: [ValidReferral.Member], keys: [String?], to familyId: UUID, case caseId: UUID, from source: String,
        referral referralId: String
    ) {
        for (member, childKey) in zip(referralMembers, keys) {
            proposals.append(
                ProposalRow(
                    id: UUID.random(), caseId: caseId, source: source, referralId: referralId,
                    member: MemberRow(
                        familyId: familyId, memberRef: member.memberRef, role: member.role.rawValue,
                        givenName: member.givenName, familyName: member.familyName,
                        birthDate: member.birthDate?.description, childKey: childKey)))
        }
    }

    private mutating func addMembers(_ referralMembers: [ValidReferral.Member], keys: [String?], to familyId: UUID) {
        for (member, childKey) in zip(referralMembers, keys) {
            members.append(
                MemberRow(
                    familyId: familyId, memberRef: member.memberRef, role: member.role.rawValue,
                    givenName: member.givenName, familyName: member.familyName,
                    birthDate: member.birthDate?.description, childKey: childKey))
        }
    }

    private func courtOrderTimer(
        _ caseId: UUID, _ order: ValidReferral.CourtOrder, _ notice: (CalendarDate) -> Date
    ) -> TimerEntry {
        TimerEntry(kind: CourtOrderTimers.kind, subject: caseId.uuidString.lowercased(), dueAt: notice(order.endsOn))
    }

    private mutating func emit(
        _ type: EventType, payload: some Encodable & Sendable, key: String, traceparent: String?, on topic: String = Topic.intake
    ) {
        let event = StructuredEvent(source: source, type: type, subject: key, traceparent: traceparent, data: payload)
        events.append { try OutboxEntry(event, topic: topic, key: key) }
    }

    /// Writes everything, parents before children (families, cases, then what refers to them).
    /// The events go last, so they are encoded (JSON, a fifth of the batch's work in intake)
    /// on another core while the database writes the rows before them.
    func flush(on connection: PostgresConnection, logger: Logger) async throws {
        async let encoded = offload { [events] in try events.map { try $0() } }
        if !rejections.isEmpty {
            try await connection.query(
                """
                INSERT INTO rejections (event_source, event_id, referral_id, problems)
                SELECT "source", "eventId", "referralId", "problems"
                FROM jsonb_to_recordset(\(try BulkRows.json(rejections))::jsonb)
                    AS r("source" text, "eventId" text, "referralId" text, "problems" jsonb)
                ON CONFLICT DO NOTHING
                """, logger: logger)
            logger.info(
                "referrals rejected",
                metadata: ["count": "\(rejections.count)", "rules": "\(Set(rejections.flatMap { $0.problems.map(\.rule) }).sorted())"])
        }
        // The rows travel as one array per column (PostgreSQL's binary array format: no JSON
        // to write here or to parse there). An array cannot hold a missing value, so an
        // empty string stands for one; no present value is empty (optional texts that are
        // blank are absent, see `ReferralValidator`).
        if !families.isEmpty {
            try await connection.query(
                """
                INSERT INTO families (id, area)
                SELECT * FROM unnest(\(families.map(\.id))::uuid[], \(families.map(\.area))::text[])
                """, logger: logger)
        }
        if !members.isEmpty {
            // A member the family already has (same reference) keeps its first record.
            try await connection.query(
                """
                INSERT INTO members (family_id, member_ref, role, given_name, family_name, birth_date, child_key)
                SELECT family_id, member_ref, role, given_name, family_name, NULLIF(birth_date, '')::date,
                       NULLIF(child_key, '')
                FROM unnest(\(members.map(\.familyId))::uuid[], \(members.map(\.memberRef))::text[],
                            \(members.map(\.role))::text[], \(members.map(\.givenName))::text[],
                            \(members.map(\.familyName))::text[], \(members.map { $0.birthDate ?? "" })::text[],
                            \(members.map { $0.childKey ?? "" })::text[])
                    WITH ORDINALITY AS m(family_id, member_ref, role, given_name, family_name, birth_date, child_key, n)
                ORDER BY n
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        if !cases.isEmpty {
            try await writeCases(on: connection, logger: logger)
        }
        if !proposals.isEmpty {
            try await writeProposals(on: connection, logger: logger)
        }
        if !courtOrders.isEmpty {
            // In order: a later order in the batch for the same case wins.
            for order in courtOrders {
                try await connection.query(
                    """
                    UPDATE cases SET court_order_decided_on = \(order.decidedOn)::date, court_order_ends_on = \(order.endsOn)::date
                    WHERE id = \(order.caseId)
                    """, logger: logger)
            }
        }
        try await Caseload.record(
            assignments, alreadyOnCase: Set(newCases.keys), at: now, on: connection, logger: logger)
        if !referrals.isEmpty {
            try await writeReferrals(on: connection, logger: logger)
        }
        try await Timers.schedule(timers, on: connection, logger: logger)
        try await AuditLog.record(audit, on: connection, logger: logger)
        try await Outbox.enqueue(try await encoded, on: connection, logger: logger)
    }

    /// The people joining referrals name, less those the family has already (the same child,
    /// or the same role, names and birth date) and those proposed before: never stored twice.
    private func writeProposals(on connection: PostgresConnection, logger: Logger) async throws {
        let rows = proposals.map(\.member)
        try await connection.query(
            """
            INSERT INTO member_proposals (id, family_id, case_id, source, referral_id, member_ref, role, given_name,
                                          family_name, birth_date, child_key, proposed_at)
            SELECT p.id, p.family_id, p.case_id, p.source, p.referral_id, p.member_ref, p.role, p.given_name, p.family_name,
                   NULLIF(p.birth_date, '')::date, NULLIF(p.child_key, ''), \(now)
            FROM unnest(\(proposals.map(\.id))::uuid[], \(rows.map(\.familyId))::uuid[], \(proposals.map(\.caseId))::uuid[],
                        \(proposals.map(\.source))::text[], \(proposals.map(\.referralId))::text[],
                        \(rows.map(\.memberRef))::text[], \(rows.map(\.role))::text[], \(rows.map(\.givenName))::text[],
                        \(rows.map(\.familyName))::text[], \(rows.map { $0.birthDate ?? "" })::text[],
                        \(rows.map { $0.childKey ?? "" })::text[])
                AS p(id, family_id, case_id, source, referral_id, member_ref, role, given_name, family_name, birth_date,
                     child_key)
            WHERE NOT EXISTS (
                SELECT 1 FROM members m WHERE m.family_id = p.family_id
                  AND ((p.child_key <> '' AND m.child_key = p.child_key)
                       OR (m.role = p.role AND lower(m.given_name) = lower(p.given_name)
                           AND lower(m.family_name) = lower(p.family_name)
                           AND m.birth_date IS NOT DISTINCT FROM NULLIF(p.birth_date, '')::date)))
              AND NOT EXISTS (
                SELECT 1 FROM member_proposals o WHERE o.case_id = p.case_id AND o.status = 'proposed'
                  AND ((p.child_key <> '' AND o.child_key = p.child_key)
                       OR (o.role = p.role AND lower(o.given_name) = lower(p.given_name)
                           AND lower(o.family_name) = lower(p.family_name)
                           AND o.birth_date IS NOT DISTINCT FROM NULLIF(p.birth_date, '')::date)))
            """, logger: logger)
    }

    private func writeCases(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO cases (id, family_id, framework, urgency, area, court_order_decided_on, court_order_ends_on,
                               opened_at, queued_at, re_referral, previous_case_id, preferred_manager_id, manager_id)
            SELECT id, family_id, framework, urgency, area, NULLIF(decided_on, '')::date, NULLIF(ends_on, '')::date,
                   \(now), \(now), re_referral, NULLIF(previous_case_id, '')::uuid, NULLIF(preferred_manager_id, ''),
                   NULLIF(manager_id, '')
            FROM unnest(\(cases.map(\.id))::uuid[], \(cases.map(\.familyId))::uuid[], \(cases.map(\.framework))::text[],
                        \(cases.map(\.urgency))::text[], \(cases.map(\.area))::text[],
                        \(cases.map { $0.decidedOn ?? "" })::text[], \(cases.map { $0.endsOn ?? "" })::text[],
                        \(cases.map(\.reReferral))::boolean[],
                        \(cases.map { $0.previousCaseId.map { $0.uuidString } ?? "" })::text[],
                        \(cases.map { $0.preferredManagerId ?? "" })::text[], \(cases.map { $0.managerId ?? "" })::text[])
                AS c(id, family_id, framework, urgency, area, decided_on, ends_on, re_referral, previous_case_id,
                     preferred_manager_id, manager_id)
            """, logger: logger)
    }

    private func writeReferrals(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO referrals (source, referral_id, event_id, case_id, joined_existing_case, framework, urgency, area,
                                   referrer_organisation, referrer_contact, reason, received_at)
            SELECT source, referral_id, event_id, case_id, joined, framework, urgency, area, organisation,
                   NULLIF(contact, ''), NULLIF(reason, ''), \(now)
            FROM unnest(\(referrals.map(\.source))::text[], \(referrals.map(\.referralId))::text[],
                        \(referrals.map(\.eventId))::text[], \(referrals.map(\.caseId))::uuid[],
                        \(referrals.map(\.joined))::boolean[], \(referrals.map(\.framework))::text[],
                        \(referrals.map(\.urgency))::text[], \(referrals.map(\.area))::text[],
                        \(referrals.map(\.organisation))::text[], \(referrals.map { $0.contact ?? "" })::text[],
                        \(referrals.map { $0.reason ?? "" })::text[])
                AS r(source, referral_id, event_id, case_id, joined, framework, urgency, area, organisation, contact,
                     reason)
            """, logger: logger)
    }
}