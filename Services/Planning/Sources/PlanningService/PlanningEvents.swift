import Foundation
import SamenplanDomain
import SamenplanEventing

/// Planning's consumer: intake's cases become three-phase cases here.
struct PlanningEventHandler: EventHandler {
    var handledTypes: Set<EventType> {
        [
            .caseOpened, .caseAssigned, .volunteerMatchProposed, .volunteerMatchRefused, .volunteerAssignmentStarted,
            .volunteerAssignmentEnded,
        ]
    }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        switch EventType(rawValue: event.type) {
        case .caseOpened:
            try await open(try event.payload(as: CaseOpened.self), event: event, in: context)
        case .caseAssigned:
            let assigned = try event.payload(as: CaseAssigned.self)
            try await context.connection.query(
                "UPDATE cases SET manager_id = \(assigned.managerId) WHERE id = \(assigned.caseId)", logger: context.logger)
        case .volunteerMatchProposed, .volunteerMatchRefused:
            try await HelpRequests.proposal(
                try event.payload(as: VolunteerMatchChanged.self),
                proposed: event.type == EventType.volunteerMatchProposed.rawValue, in: context)
        case .volunteerAssignmentStarted, .volunteerAssignmentEnded:
            try await HelpRequests.answer(
                try event.payload(as: VolunteerAssignmentChanged.self),
                started: event.type == EventType.volunteerAssignmentStarted.rawValue, in: context)
        default:
            break
        }
    }

    /// Every case starts in `connect`: a phase is never skipped, however short the case.
    private func open(_ opened: CaseOpened, event: CloudEvent, in context: EventContext) async throws {
        let now = Date()
        let inserted = try await context.connection.query(
            """
            INSERT INTO cases (id, area, framework, urgency, phase, opened_at, phase_changed_at)
            VALUES (\(opened.caseId), \(opened.area), \(opened.framework.rawValue), \(opened.urgency.rawValue), 'connect',
                    \(opened.openedAt), \(now))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """, logger: context.logger
        ).collect()
        guard !inserted.isEmpty else { return }
        try await context.connection.query(
            "INSERT INTO phase_history (case_id, phase, changed_at) VALUES (\(opened.caseId), 'connect', \(now))",
            logger: context.logger)
        try await context.emit(
            .casePhaseChanged,
            payload: CasePhaseChanged(
                caseId: opened.caseId, phase: .connect, previousPhase: nil, area: opened.area, managerId: nil, changedAt: now),
            on: Topic.planning, key: opened.caseId.uuidString.lowercased(), traceparent: event.traceparent)
    }
}
