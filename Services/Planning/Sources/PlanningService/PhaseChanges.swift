import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanServer

/// Moves a case into a phase, the one way every route does it: the lifecycle's guards on the
/// facts in the database, the phase and its history, the clocks that belong to the phase,
/// and `case.phase-changed`.
enum PhaseChanges {
    static func move(
        _ found: PlanningCase, to phase: Phase, at now: Date, evaluationClock: EvaluationClock, in context: EventContext
    ) async throws {
        let (connection, logger) = (context.connection, context.logger)
        let facts = try await PlanStore.facts(about: found, on: connection, logger: logger)
        let unmet = CaseLifecycle.unmetConditions(toEnter: phase, facts: facts)
        guard unmet.isEmpty else {
            throw Problem(
                .conflict, type: "phase-conditions-unmet", title: "The case cannot move to \(phase.rawValue) yet",
                detail: unmet.map(\.detail).joined(separator: " "),
                problems: unmet.map { .init(rule: $0.rule, pointer: "", detail: $0.detail) })
        }
        try await connection.query(
            "UPDATE cases SET phase = \(phase.rawValue), phase_changed_at = \(now) WHERE id = \(found.id)", logger: logger)
        try await connection.query(
            """
            INSERT INTO phase_history (case_id, phase, previous_phase, changed_at)
            VALUES (\(found.id), \(phase.rawValue), \(found.phase.rawValue), \(now))
            """, logger: logger)
        // The support phase runs on the evaluation clock; it stops when the case moves on.
        if phase == .support {
            _ = try await EvaluationTimers.schedule(
                caseId: found.id, since: now, clock: evaluationClock, on: connection, logger: logger)
        } else if found.phase == .support {
            try await EvaluationTimers.cancel(caseId: found.id, on: connection, logger: logger)
        }
        // A closed case is visited again as its continuation plan agreed.
        if phase == .closed {
            try await FollowUps.schedule(caseId: found.id, closedAt: now, on: connection, logger: logger)
        }
        try await context.emit(
            .casePhaseChanged,
            payload: CasePhaseChanged(
                caseId: found.id, phase: phase, previousPhase: found.phase, area: found.area, managerId: found.managerId,
                changedAt: now),
            on: Topic.planning, key: found.id.uuidString.lowercased(), traceparent: nil)
    }
}
