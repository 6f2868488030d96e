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
    static let timeZone = CalendarDate.netherlands
    /// How long after closing a case a new referral for the family counts as a re-referral.
    static let reReferralWindow: TimeInterval = 365 * 24 * 3600

    let clock: any WallClock
    let courtOrderNoticeMonths: Int
    /// The areas Samenplan serves: a referral to another is rejected.
    let areas: Areas

    /// A desk that serves the areas intake's table lists and `servedAreas` (area: team).
    public init(clock: any WallClock = SystemWallClock(), courtOrderNoticeMonths: Int = 3, servedAreas: [String: String] = [:]) {
        self.init(clock: clock, courtOrderNoticeMonths: courtOrderNoticeMonths, areas: Areas(configured: servedAreas))
    }

    init(clock: any WallClock, courtOrderNoticeMonths: Int, areas: Areas) {
        self.clock = clock
        self.courtOrderNoticeMonths = courtOrderNoticeMonths
        self.areas = areas
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

    /// A referral event to handle, who handed it in (nil: the event's `source`), and what
    /// ``prepare(_:)`` made of it beforehand, if it ran.
    public struct Submission: Sendable {
        public var event: CloudEvent
        public var submitter: Submitter?
        public var prepared: Prepared?

        public init(event: CloudEvent, submitter: Submitter? = nil, prepared: Prepared? = nil) {
            self.event = event
            self.submitter = submitter
            self.prepared = prepared
        }
    }

    /// A referral's validation and its members' child keys: the desk's work that needs no
    /// database, done when the consumer fetched the event (``IntakeEventHandler``), outside
    /// the batch's transaction. It holds for its own event and the day it was checked on (a
    /// birth date after today is refused); otherwise the desk checks again.
    public struct Prepared: Sendable {
        /// The event it was made from (CloudEvent `source` and `id`): a preparation is used
        /// for that event only.
        let eventSource, eventId: String
        let today: CalendarDate
        let validation: Result<ValidReferral, ReferralProblems>
        /// Per member, in order: the child key, nil for a member who has none.
        let memberKeys: [String?]

        init(_ event: CloudEvent, today: CalendarDate) {
            eventSource = event.source
            eventId = event.id
            self.today = today
            validation = ReferralValidator.validate(event.data, today: today)
            memberKeys = (try? validation.get())?.members.map(\.childKey) ?? []
        }

        func holds(for event: CloudEvent, on day: CalendarDate) -> Bool {
            eventSource == event.source && eventId == event.id && today == day
        }
    }

    /// Folds each valid referral's area to its identifier form (``Areas/normalised``) and
    /// turns a referral to an area Samenplan does not serve into a rejection naming the areas
    /// it does: one statement for the whole batch.
    private func rejectUnknownAreas(
        _ validations: inout [Result<ValidReferral, ReferralProblems>], in context: EventContext
    ) async throws {
        var asked = Set<String>()
        for index in validations.indices {
            guard case .success(var referral) = validations[index] else { continue }
            referral.area = Areas.normalised(referral.area)
            validations[index] = .success(referral)
            asked.insert(referral.area)
        }
        guard !asked.isEmpty else { return }
        let known = try await areas.known(asked, on: context.connection, logger: context.logger)
        guard known.count < asked.count else { return }
        let problem = try await areas.unknownAreaProblem(on: context.connection, logger: context.logger)
        for index in validations.indices {
            guard case .success(let referral) = validations[index], !known.contains(referral.area) else { continue }
            validations[index] = .failure(ReferralProblems(problems: [problem], referralId: referral.referralId))
        }
    }

    public func prepare(_ event: CloudEvent) -> Prepared {
        Prepared(event, today: CalendarDate(clock.now(), in: Self.timeZone))
    }

    public func submit(_ event: CloudEvent, by submitter: Submitter? = nil, in context: EventContext) async throws
        -> ReferralOutcome
    {
        try await submit([Submission(event: event, submitter: submitter)], in: context)[0]
    }

    /// Handles referrals in the caller's transaction, with the same results as handling them
    /// one after another, but with a fixed number of statements for the whole batch: it
    /// locks what the batch touches, reads what the database knows about its referrals,
    /// children and areas, decides in memory (``ReferralTriage``, ``CaseloadBook``) and
    /// writes the decisions set-based. That is what lets one consumer keep up with
    /// thousands of referrals a second.
    public func submit(_ submissions: [Submission], in context: EventContext) async throws -> [ReferralOutcome] {
        let now = clock.now()
        let today = CalendarDate(now, in: Self.timeZone)
        let prepared = submissions.map { submission in
            if let prepared = submission.prepared, prepared.holds(for: submission.event, on: today) {
                prepared
            } else {
                Prepared(submission.event, today: today)
            }
        }
        var validations = prepared.map(\.validation)
        try await rejectUnknownAreas(&validations, in: context)
        var valid: [(index: Int, referral: ValidReferral)] = []
        for (index, validation) in validations.enumerated() {
            if case .success(let referral) = validation { valid.append((index, referral)) }
        }
        // Each member's child key, normalised once (it is needed for locks, reads and writes).
        func childKeys(_ index: Int) -> [String] { prepared[index].memberKeys.compactMap { $0 } }

        var decisions: [Int: ReferralTriage.Decision] = [:]
        var book = CaseloadBook(freePlaces: [:], areasOfManager: [:])
        if !valid.isEmpty {
            let store = ReferralStore(connection: context.connection, logger: context.logger)
            // Serialise referrals about the same children (from several integrators, or Kafka
            // and HTTP at once) and the same referral arriving twice at once.
            try await store.lock(
                valid.flatMap { item in
                    childKeys(item.index)
                        + ["referral:\(submissions[item.index].event.source):\(item.referral.referralId)"]
                })
            var triage = ReferralTriage(
                snapshot: try await store.snapshot(
                    referrals: valid.map {
                        ReferralTriage.ReferralKey(source: submissions[$0.index].event.source, referralId: $0.referral.referralId)
                    },
                    childKeys: valid.flatMap { childKeys($0.index) }, closedSince: now.addingTimeInterval(-Self.reReferralWindow)))
            for (index, referral) in valid {
                decisions[index] = triage.decide(
                    referral, childKeys: childKeys(index), source: submissions[index].event.source, now: now)
            }
            let areasWithNewCases = valid.filter { item in
                if case .open = decisions[item.index] { true } else { false }
            }.map(\.referral.area)
            if !areasWithNewCases.isEmpty {
                book = try await Caseload.load(areas: areasWithNewCases, on: context.connection, logger: context.logger)
            }
        }

        var writes = ReferralWrites(now: now, source: context.source)
        var outcomes: [ReferralOutcome] = []
        for (index, submission) in submissions.enumerated() {
            switch validations[index] {
            case .failure(let failure):
                writes.reject(submission.event, failure)
                outcomes.append(.rejected(failure.problems))
            case .success(let referral):
                let submitter = submission.submitter ?? Submitter(actor: submission.event.source, role: Role.integrator.rawValue)
                outcomes.append(
                    writes.accept(
                        referral, memberKeys: prepared[index].memberKeys, event: submission.event, submitter: submitter,
                        decision: decisions[index]!,
                        book: &book, courtOrderNotice: { CourtOrderTimers.noticeDate(endsOn: $0, monthsBefore: courtOrderNoticeMonths) }))
            }
        }
        try await writes.flush(on: context.connection, logger: context.logger)
        return outcomes
    }
}
