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
            try await assign(try event.payload(as: CaseAssigned.self), event: event, in: context)
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

    /// The case's manager as intake decided it. When a case that had a manager moves to
    /// another, planning says so on its own topic (`case.manager-changed`), in this
    /// transaction: the volunteers service reads only that topic and must move the family's
    /// help requests to the new manager, since a family manager sees only their own families.
    /// A first assignment says so only when the case already has help requests (an admin may
    /// raise one while the case waits in its area's queue): otherwise volunteers holds
    /// nothing of the case to give its manager. One that changes nothing (the same manager
    /// again) says nothing. A case planning does not have changes nothing, as before.
    private func assign(_ assigned: CaseAssigned, event: CloudEvent, in context: EventContext) async throws {
        // The row lock orders this with a help request being raised for the case (which locks
        // the row too), so both reach the outbox in the order they happened: a request raised
        // after the change names the new manager, one raised before it is moved by the change.
        let row = try await context.connection.query(
            "SELECT manager_id FROM cases WHERE id = \(assigned.caseId) FOR UPDATE", logger: context.logger
        ).collect().first
        guard let row else { return }
        let previous = try row.decode(String?.self)
        guard previous != assigned.managerId else { return }
        try await context.connection.query(
            "UPDATE cases SET manager_id = \(assigned.managerId) WHERE id = \(assigned.caseId)", logger: context.logger)
        if previous == nil {
            let helpRequests = try await context.connection.query(
                "SELECT 1 FROM help_requests WHERE case_id = \(assigned.caseId) LIMIT 1", logger: context.logger
            ).collect()
            guard !helpRequests.isEmpty else { return }
        }
        try await context.emit(
            .caseManagerChanged,
            payload: CaseManagerChanged(
                caseId: assigned.caseId, managerId: assigned.managerId, previousManagerId: previous,
                changedAt: assigned.assignedAt),
            on: Topic.planning, key: assigned.caseId.uuidString.lowercased(), traceparent: event.traceparent)
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
