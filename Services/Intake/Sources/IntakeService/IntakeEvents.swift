import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Intake's consumer: referrals from `samenplan.referrals.v1`, neighbourhood signals from
/// `samenplan.signals.v1`, and from planning's `samenplan.planning.v1` the closing of a case,
/// which frees a place in its manager's caseload.
struct IntakeEventHandler: EventHandler {
    let desk: ReferralDesk
    let signals: SignalDesk

    /// What integrators may send, on the inbound topics and to `POST /v1/events`.
    static let acceptedTypes: Set<EventType> = [
        .referralSubmitted, .nuisanceReported, .placementStarted, .placementEnded,
    ]

    var handledTypes: Set<EventType> { Self.acceptedTypes.union([.casePhaseChanged]) }

    /// The inbound topics carry integrators' events only, and only planning closes cases:
    /// anything else is misplaced and dead-lettered, so no integrator can close a case.
    private func checkPlacement(_ event: CloudEvent, in context: EventContext) throws {
        let inbound = context.topic == Topic.referrals || context.topic == Topic.signals
        guard inbound == Self.acceptedTypes.contains(EventType(rawValue: event.type)) else {
            throw PermanentEventFailure(
                reason: "misplaced-type", detail: "\(event.type.prefix(200)) does not belong on \(context.topic ?? "?")")
        }
    }

    /// Runs of consecutive referrals go to the desk together (a fixed number of statements
    /// per run); everything else is handled one by one, in order.
    func handle(batch: [ReceivedEvent]) async throws {
        for received in batch { try checkPlacement(received.event, in: received.context) }
        var run: [ReceivedEvent] = []
        for received in batch + [nil] as [ReceivedEvent?] {
            if let received, EventType(rawValue: received.event.type) == .referralSubmitted {
                run.append(received)
                continue
            }
            if let first = run.first {
                _ = try await desk.submit(run.map { ReferralDesk.Submission(event: $0.event) }, in: first.context)
                run = []
            }
            if let received { try await handle(received.event, in: received.context) }
        }
    }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        let type = EventType(rawValue: event.type)
        try checkPlacement(event, in: context)
        if type == .casePhaseChanged {
            let changed = try event.payload(as: CasePhaseChanged.self)
            guard changed.phase == .closed else { return }
            if let managerId = try await Caseload.close(
                caseId: changed.caseId, at: changed.changedAt, on: context.connection, logger: context.logger)
            {
                try await CaseEvents.placeFreed(
                    managerId: managerId, at: desk.clock.now(), traceparent: event.traceparent, in: context)
            }
            return
        }
        _ = try await IntakeEvents.process(event, desk: desk, signals: signals, in: context)
    }
}

enum IntakeEvents {
    /// Handles one integrator's event inside the caller's transaction (the inbox claim is the
    /// caller's). Returns the referral outcome for referral events, nil for signals.
    static func process(
        _ event: CloudEvent, desk: ReferralDesk, signals: SignalDesk, submitter: ReferralDesk.Submitter? = nil,
        in context: EventContext
    ) async throws -> ReferralOutcome? {
        switch EventType(rawValue: event.type) {
        case .referralSubmitted:
            return try await desk.submit(event, by: submitter, in: context)
        default:
            // A signal has no case of its own to report: only its rejection matters here.
            return try await signals.handle(event, in: context).map { ReferralOutcome.rejected($0) }
        }
    }
}
