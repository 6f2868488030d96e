import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Intake's consumer: referrals from `samenplan.referrals.v1` and neighbourhood signals from
/// `samenplan.signals.v1`.
struct IntakeEventHandler: EventHandler {
    let desk: ReferralDesk

    static let acceptedTypes: Set<EventType> = [
        .referralSubmitted, .nuisanceReported, .placementStarted, .placementEnded,
    ]

    var handledTypes: Set<EventType> { Self.acceptedTypes }
    /// The inbound topics carry integrators' events only: anything else there is misplaced
    /// and dead-lettered, even a type of the suite.
    var ignoredTypes: Set<EventType> { [] }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        _ = try await IntakeEvents.process(event, desk: desk, in: context)
    }
}

enum IntakeEvents {
    /// Handles one inbound event inside the caller's transaction (the inbox claim is the
    /// caller's). Returns the referral outcome for referral events, nil for signals.
    static func process(
        _ event: CloudEvent, desk: ReferralDesk, submitter: ReferralDesk.Submitter? = nil, in context: EventContext
    ) async throws -> ReferralOutcome? {
        switch EventType(rawValue: event.type) {
        case .referralSubmitted:
            return try await desk.submit(event, by: submitter, in: context)
        default:
            // Signals are kept as they came (ids, codes and dates); their full handling is
            // intake's next step (issue 3).
            let data = String(decoding: try JSONCoding.encoder.encode(event.data), as: UTF8.self)
            try await context.connection.query(
                """
                INSERT INTO signals (event_source, event_id, type, data) VALUES (\(event.source), \(event.id), \(event.type), \(data)::jsonb)
                ON CONFLICT DO NOTHING
                """, logger: context.logger)
            return nil
        }
    }
}
