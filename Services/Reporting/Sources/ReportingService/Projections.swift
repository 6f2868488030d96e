import Foundation
import SamenplanDomain
import SamenplanEventing

/// Reporting's consumer: every topic of the suite, projected into read models. Projections
/// are order-tolerant, because one case's events come from several topics, and idempotent,
/// so a redelivered event or a replay of the topics changes nothing.
struct ProjectionHandler: EventHandler {
    var handledTypes: Set<EventType> {
        [
            .caseOpened, .caseAssigned, .caseQueued, .casePhaseChanged, .referralAccepted, .handoverAccepted,
            .evaluationRecorded, .placementRecorded, .nuisanceRecorded, .goalChanged, .volunteerRegistered,
            .volunteerStatusChanged, .helpRequestRaised, .volunteerAssignmentStarted, .volunteerAssignmentEnded,
        ]
    }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        let connection = context.connection
        let logger = context.logger
        switch EventType(rawValue: event.type) {
        case .caseOpened:
            let opened = try event.payload(as: CaseOpened.self)
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, framework, opened_at, re_referral)
                VALUES (\(opened.caseId), \(opened.area), \(opened.framework.rawValue), \(opened.openedAt), \(opened.reReferral))
                ON CONFLICT (case_id) DO UPDATE SET area = excluded.area, framework = excluded.framework,
                                                    opened_at = excluded.opened_at, re_referral = excluded.re_referral
                """, logger: logger)
        case .caseAssigned:
            let assigned = try event.payload(as: CaseAssigned.self)
            // The first assignment ends the wait; the latest decides the manager.
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, manager_id, manager_assigned_at, assigned_at, waited_seconds)
                VALUES (\(assigned.caseId), \(assigned.area), \(assigned.managerId), \(assigned.assignedAt), \(assigned.assignedAt),
                        \(assigned.waitedSeconds))
                ON CONFLICT (case_id) DO UPDATE SET
                    manager_id = CASE WHEN case_projection.manager_assigned_at IS NULL
                                        OR case_projection.manager_assigned_at <= excluded.manager_assigned_at
                                      THEN excluded.manager_id ELSE case_projection.manager_id END,
                    manager_assigned_at = GREATEST(case_projection.manager_assigned_at, excluded.manager_assigned_at),
                    assigned_at = LEAST(case_projection.assigned_at, excluded.assigned_at),
                    waited_seconds = CASE WHEN case_projection.assigned_at IS NULL OR excluded.assigned_at < case_projection.assigned_at
                                          THEN excluded.waited_seconds ELSE case_projection.waited_seconds END
                """, logger: logger)
        case .caseQueued:
            let queued = try event.payload(as: CaseQueued.self)
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, queued_at) VALUES (\(queued.caseId), \(queued.area), \(queued.queuedAt))
                ON CONFLICT (case_id) DO UPDATE SET queued_at = LEAST(case_projection.queued_at, excluded.queued_at)
                """, logger: logger)
        case .casePhaseChanged:
            let changed = try event.payload(as: CasePhaseChanged.self)
            try await connection.query(
                """
                INSERT INTO phase_entries (case_id, phase, entered_at) VALUES (\(changed.caseId), \(changed.phase.rawValue), \(changed.changedAt))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            // Only a newer phase change moves the case's current phase.
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, phase, phase_changed_at, closed_at)
                VALUES (\(changed.caseId), \(changed.area), \(changed.phase.rawValue), \(changed.changedAt),
                        \(changed.phase == .closed ? changed.changedAt : nil))
                ON CONFLICT (case_id) DO UPDATE SET
                    phase = CASE WHEN case_projection.phase_changed_at IS NULL OR case_projection.phase_changed_at < excluded.phase_changed_at
                                 THEN excluded.phase ELSE case_projection.phase END,
                    phase_changed_at = GREATEST(case_projection.phase_changed_at, excluded.phase_changed_at),
                    closed_at = COALESCE(excluded.closed_at, case_projection.closed_at)
                """, logger: logger)
        case .referralAccepted:
            let accepted = try event.payload(as: ReferralAccepted.self)
            try await connection.query(
                """
                INSERT INTO referral_facts (event_source, event_id, case_id, joined, accepted_at)
                VALUES (\(accepted.eventSource), \(accepted.eventId), \(accepted.caseId), \(accepted.joinedExistingCase), \(event.time ?? Date()))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case .handoverAccepted:
            let step = try event.payload(as: CaseEndingStep.self)
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, handover_accepted_at) VALUES (\(step.caseId), \(step.area), \(step.at))
                ON CONFLICT (case_id) DO UPDATE SET handover_accepted_at = excluded.handover_accepted_at
                """, logger: logger)
        case .evaluationRecorded:
            let recorded = try event.payload(as: EvaluationRecorded.self)
            try await connection.query(
                """
                INSERT INTO evaluation_facts (event_source, event_id, case_id, held_on)
                VALUES (\(event.source), \(event.id), \(recorded.caseId), \(recorded.heldOn)::date)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case .placementRecorded:
            let placement = try event.payload(as: PlacementRecorded.self)
            try await connection.query(
                """
                INSERT INTO placement_facts (case_id, member_ref, change, on_day)
                VALUES (\(placement.caseId), \(placement.memberRef), \(placement.change.rawValue), \(placement.on)::date)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case .nuisanceRecorded:
            let report = try event.payload(as: NuisanceRecorded.self)
            try await connection.query(
                """
                INSERT INTO nuisance_facts (report_id, case_id, area, reported_on)
                VALUES (\(report.reportId), \(report.caseId), \(report.area), \(report.reportedOn)::date)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case .goalChanged:
            let goal = try event.payload(as: GoalChanged.self)
            try await connection.query(
                """
                INSERT INTO goal_facts (case_id, version, goal_id, change, at)
                VALUES (\(goal.caseId), \(goal.version), \(goal.goalId), \(goal.change), \(event.time ?? Date()))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        case .volunteerRegistered, .volunteerStatusChanged:
            let volunteer = try event.payload(as: VolunteerChanged.self)
            // The latest status counts, whatever order the events arrive in.
            try await connection.query(
                """
                INSERT INTO volunteer_facts (volunteer_id, status, areas, status_at)
                VALUES (\(volunteer.volunteerId), \(volunteer.status), \(volunteer.areas.map { $0.lowercased() }), \(volunteer.at))
                ON CONFLICT (volunteer_id) DO UPDATE SET status = excluded.status, areas = excluded.areas, status_at = excluded.status_at
                WHERE volunteer_facts.status_at <= excluded.status_at
                """, logger: logger)
        case .helpRequestRaised:
            let raised = try event.payload(as: HelpRequestRaised.self)
            try await connection.query(
                """
                INSERT INTO help_request_facts (help_request_id, case_id, area, raised_at)
                VALUES (\(raised.helpRequestId), \(raised.caseId), \(raised.area), \(event.time ?? Date()))
                ON CONFLICT (help_request_id) DO UPDATE SET area = excluded.area, raised_at = excluded.raised_at
                """, logger: logger)
        case .volunteerAssignmentStarted, .volunteerAssignmentEnded:
            let change = try event.payload(as: VolunteerAssignmentChanged.self)
            let started = event.type == EventType.volunteerAssignmentStarted.rawValue
            try await connection.query(
                """
                INSERT INTO assignment_facts (assignment_id, help_request_id, started_at, ended_at, end_reason)
                VALUES (\(change.assignmentId), \(change.helpRequestId), \(started ? change.at : nil), \(started ? nil : change.at),
                        \(started ? nil : change.reason))
                ON CONFLICT (assignment_id) DO UPDATE SET
                    started_at = COALESCE(assignment_facts.started_at, excluded.started_at),
                    ended_at = COALESCE(assignment_facts.ended_at, excluded.ended_at),
                    end_reason = COALESCE(assignment_facts.end_reason, excluded.end_reason)
                """, logger: logger)
            if started {
                // The first volunteer who started ends the wait for a match.
                try await connection.query(
                    """
                    INSERT INTO help_request_facts (help_request_id, case_id, matched_at) VALUES (\(change.helpRequestId), \(change.caseId), \(change.at))
                    ON CONFLICT (help_request_id) DO UPDATE SET
                        matched_at = LEAST(help_request_facts.matched_at, excluded.matched_at)
                    """, logger: logger)
            }
        default:
            break
        }
    }
}
