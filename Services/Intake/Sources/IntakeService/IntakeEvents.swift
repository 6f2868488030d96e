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
        let isReferral = { (received: ReceivedEvent) in EventType(rawValue: received.event.type) == .referralSubmitted }
        var start = batch.startIndex
        while start < batch.endIndex {
            guard isReferral(batch[start]) else {
                try await act(on: batch[start].event, in: batch[start].context)
                start += 1
                continue
            }
            let end = batch[start...].firstIndex { !isReferral($0) } ?? batch.endIndex
            _ = try await desk.submit(
                batch[start..<end].map { ReferralDesk.Submission(event: $0.event, prepared: $0.prepared as? ReferralDesk.Prepared) },
                in: batch[start].context)
            start = end
        }
    }

    /// A referral is validated, and its children's keys worked out, before its transaction.
    func prepare(_ event: CloudEvent) -> (any Sendable)? {
        EventType(rawValue: event.type) == .referralSubmitted ? desk.prepare(event) : nil
    }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        try checkPlacement(event, in: context)
        try await act(on: event, in: context)
    }

    /// Does what a correctly placed event asks for.
    private func act(on event: CloudEvent, in context: EventContext) async throws {
        let type = EventType(rawValue: event.type)
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
