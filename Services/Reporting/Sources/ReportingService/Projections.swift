import Foundation
import SamenplanDomain
import SamenplanEventing

/// Reporting's consumer: every topic of the suite, projected into read models. Projections
/// are order-tolerant, because one case's events come from several topics.
struct ProjectionHandler: EventHandler {
    var handledTypes: Set<EventType> { [.caseOpened, .caseAssigned, .casePhaseChanged] }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        let connection = context.connection
        let logger = context.logger
        switch EventType(rawValue: event.type) {
        case .caseOpened:
            let opened = try event.payload(as: CaseOpened.self)
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, framework, opened_at)
                VALUES (\(opened.caseId), \(opened.area), \(opened.framework.rawValue), \(opened.openedAt))
                ON CONFLICT (case_id) DO UPDATE SET area = excluded.area, framework = excluded.framework,
                                                    opened_at = excluded.opened_at
                """, logger: logger)
        case .caseAssigned:
            let assigned = try event.payload(as: CaseAssigned.self)
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, manager_id) VALUES (\(assigned.caseId), \(assigned.area), \(assigned.managerId))
                ON CONFLICT (case_id) DO UPDATE SET manager_id = excluded.manager_id
                """, logger: logger)
        case .casePhaseChanged:
            let changed = try event.payload(as: CasePhaseChanged.self)
            // Only a newer phase change moves the projection.
            try await connection.query(
                """
                INSERT INTO case_projection (case_id, area, phase, phase_changed_at)
                VALUES (\(changed.caseId), \(changed.area), \(changed.phase.rawValue), \(changed.changedAt))
                ON CONFLICT (case_id) DO UPDATE SET phase = excluded.phase, phase_changed_at = excluded.phase_changed_at
                WHERE case_projection.phase_changed_at IS NULL OR case_projection.phase_changed_at < excluded.phase_changed_at
                """, logger: logger)
        default:
            break
        }
    }
}
