import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Reporting's consumer: every topic of the suite, projected into read models. Projections
/// are order-tolerant, because one case's events come from several topics, and idempotent,
/// so a redelivered event or a replay of the topics changes nothing. A batch of events is
/// merged per row first (`ProjectionBatch`) and written with one statement per table.
struct ProjectionHandler: EventHandler {
    var handledTypes: Set<EventType> { ProjectionBatch.projectedTypes }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        var batch = ProjectionBatch()
        try batch.add(event)
        try await ProjectionWriter.write(batch, on: context.connection, logger: context.logger)
    }

    func handle(batch received: [ReceivedEvent]) async throws {
        guard let first = received.first else { return }
        var batch = ProjectionBatch()
        for item in received { try batch.add(item.event) }
        try await ProjectionWriter.write(batch, on: first.context.connection, logger: first.context.logger)
    }
}

/// Writes a `ProjectionBatch` into the read models of the connection's schema (its
/// `search_path`: the live one, or the one a rebuild fills). Each table's statement applies
/// the same merge rule as `ProjectionBatch` against the stored row.
enum ProjectionWriter {
    /// Every read-model table, in the order `write` writes them (a rebuild locks them in this
    /// order too, so it cannot deadlock with the live consumer). Exactly the tables that
    /// reporting's migrations create; a rebuild checks that.
    static let tables = [
        "case_projection", "phase_entries", "referral_facts", "evaluation_facts", "placement_facts", "nuisance_facts",
        "goal_facts", "volunteer_facts", "help_request_facts", "assignment_facts", "manager_facts", "follow_up_facts",
        "hours_facts", "talent_facts",
    ]

    static func write(_ batch: ProjectionBatch, on connection: PostgresConnection, logger: Logger) async throws {
        if !batch.cases.isEmpty {
            try await connection.query(
                """
                INSERT INTO case_projection AS p (case_id, area, framework, opened_at, re_referral, manager_id, manager_assigned_at,
                                                  assigned_at, waited_seconds, queued_at, phase, phase_changed_at, closed_at,
                                                  handover_accepted_at)
                SELECT * FROM jsonb_to_recordset(\(try rows(batch.cases.map { CaseRow(caseId: $0.key, facts: $0.value) }))::jsonb)
                    AS r(case_id uuid, area text, framework text, opened_at timestamptz, re_referral boolean, manager_id text,
                         manager_assigned_at timestamptz, assigned_at timestamptz, waited_seconds integer, queued_at timestamptz,
                         phase text, phase_changed_at timestamptz, closed_at timestamptz, handover_accepted_at timestamptz)
                ON CONFLICT (case_id) DO UPDATE SET
                    area = CASE WHEN excluded.framework IS NOT NULL THEN excluded.area ELSE COALESCE(p.area, excluded.area) END,
                    framework = COALESCE(excluded.framework, p.framework),
                    opened_at = COALESCE(excluded.opened_at, p.opened_at),
                    re_referral = COALESCE(excluded.re_referral, p.re_referral),
                    manager_id = CASE WHEN excluded.manager_assigned_at IS NOT NULL
                                       AND (p.manager_assigned_at IS NULL OR p.manager_assigned_at <= excluded.manager_assigned_at)
                                      THEN excluded.manager_id ELSE p.manager_id END,
                    manager_assigned_at = GREATEST(p.manager_assigned_at, excluded.manager_assigned_at),
                    waited_seconds = CASE WHEN excluded.assigned_at IS NOT NULL
                                           AND (p.assigned_at IS NULL OR excluded.assigned_at < p.assigned_at)
                                          THEN excluded.waited_seconds ELSE p.waited_seconds END,
                    assigned_at = LEAST(p.assigned_at, excluded.assigned_at),
                    queued_at = LEAST(p.queued_at, excluded.queued_at),
                    phase = CASE WHEN excluded.phase_changed_at IS NOT NULL
                                  AND (p.phase_changed_at IS NULL OR p.phase_changed_at < excluded.phase_changed_at)
                                 THEN excluded.phase ELSE p.phase END,
                    phase_changed_at = GREATEST(p.phase_changed_at, excluded.phase_changed_at),
                    closed_at = GREATEST(p.closed_at, excluded.closed_at),
                    handover_accepted_at = COALESCE(excluded.handover_accepted_at, p.handover_accepted_at)
                """, logger: logger)
        }
        try await insertNew(
            batch.phaseEntries, into: "phase_entries",
            columns: "case_id uuid, phase text, entered_at timestamptz", on: connection, logger: logger)
        try await insertNew(
            batch.referrals, into: "referral_facts",
            columns: "event_source text, event_id text, case_id uuid, joined boolean, accepted_at timestamptz", on: connection, logger: logger)
        try await insertNew(
            batch.evaluations, into: "evaluation_facts",
            columns: "event_source text, event_id text, case_id uuid, held_on date", on: connection, logger: logger)
        try await insertNew(
            batch.placements, into: "placement_facts",
            columns: "case_id uuid, member_ref text, change text, on_day date", on: connection, logger: logger)
        try await insertNew(
            batch.nuisanceReports, into: "nuisance_facts",
            columns: "report_id text, case_id uuid, area text, reported_on date", on: connection, logger: logger)
        try await insertNew(
            batch.goals, into: "goal_facts",
            columns: "case_id uuid, version integer, goal_id text, change text, at timestamptz", on: connection, logger: logger)
        if !batch.volunteers.isEmpty {
            try await connection.query(
                """
                INSERT INTO volunteer_facts AS v (volunteer_id, status, areas, status_at, status_sequence)
                SELECT volunteer_id, status, ARRAY(SELECT jsonb_array_elements_text(areas)), status_at, status_sequence
                FROM jsonb_to_recordset(\(try rows(Array(batch.volunteers.values)))::jsonb)
                    AS r(volunteer_id text, status text, areas jsonb, status_at timestamptz, status_sequence integer)
                ON CONFLICT (volunteer_id) DO UPDATE SET
                    status = excluded.status, areas = excluded.areas, status_at = excluded.status_at,
                    status_sequence = excluded.status_sequence
                -- VolunteerChanged's order: the registry's sequence, then `at` for events without one.
                WHERE (COALESCE(v.status_sequence, 0), v.status_at) <= (COALESCE(excluded.status_sequence, 0), excluded.status_at)
                """, logger: logger)
        }
        if !batch.helpRequests.isEmpty {
            try await connection.query(
                """
                INSERT INTO help_request_facts AS h (help_request_id, case_id, area, raised_at, matched_at)
                SELECT * FROM jsonb_to_recordset(\(try rows(Array(batch.helpRequests.values)))::jsonb)
                    AS r(help_request_id uuid, case_id uuid, area text, raised_at timestamptz, matched_at timestamptz)
                ON CONFLICT (help_request_id) DO UPDATE SET
                    area = COALESCE(excluded.area, h.area),
                    raised_at = COALESCE(excluded.raised_at, h.raised_at),
                    matched_at = LEAST(h.matched_at, excluded.matched_at)
                """, logger: logger)
        }
        if !batch.assignments.isEmpty {
            try await connection.query(
                """
                INSERT INTO assignment_facts AS a (assignment_id, help_request_id, started_at, ended_at, end_reason)
                SELECT * FROM jsonb_to_recordset(\(try rows(Array(batch.assignments.values)))::jsonb)
                    AS r(assignment_id uuid, help_request_id uuid, started_at timestamptz, ended_at timestamptz, end_reason text)
                ON CONFLICT (assignment_id) DO UPDATE SET
                    started_at = COALESCE(a.started_at, excluded.started_at),
                    ended_at = COALESCE(a.ended_at, excluded.ended_at),
                    end_reason = COALESCE(a.end_reason, excluded.end_reason)
                """, logger: logger)
        }
        if !batch.managers.isEmpty {
            try await connection.query(
                """
                INSERT INTO manager_facts AS m (manager_id, team, registered_at)
                SELECT * FROM jsonb_to_recordset(\(try rows(Array(batch.managers.values)))::jsonb)
                    AS r(manager_id text, team text, registered_at timestamptz)
                ON CONFLICT (manager_id) DO UPDATE SET team = excluded.team, registered_at = excluded.registered_at
                WHERE m.registered_at <= excluded.registered_at
                """, logger: logger)
        }
        if !batch.followUps.isEmpty {
            // A due day from planning's record wins over the timer's; a held day stays.
            try await connection.query(
                """
                INSERT INTO follow_up_facts AS f (case_id, months, due_on, held_on)
                SELECT case_id, months, due_on, held_on
                FROM jsonb_to_recordset(\(try rows(Array(batch.followUps.values)))::jsonb)
                    AS r(case_id uuid, months integer, due_on date, due_on_is_recorded boolean, held_on date)
                ON CONFLICT (case_id, months) DO UPDATE SET
                    due_on = CASE WHEN excluded.held_on IS NOT NULL OR f.held_on IS NULL AND f.due_on IS NULL
                                  THEN COALESCE(excluded.due_on, f.due_on) ELSE f.due_on END,
                    held_on = COALESCE(excluded.held_on, f.held_on)
                """, logger: logger)
        }
        try await insertNew(
            batch.hours, into: "hours_facts",
            columns: "hours_id uuid, case_id uuid, area text, worked_on date, hours double precision", on: connection, logger: logger)
        try await insertNew(
            batch.talents, into: "talent_facts",
            columns: "case_id uuid, version integer, moved_on integer, approved_at timestamptz", on: connection, logger: logger)
    }

    /// Inserts facts that never change once known (a phase entered, a referral accepted, …),
    /// one statement for all of them; a copy of one already stored (a redelivered event) is
    /// skipped. `columns` are the table's own, with their types, as the record set reads them.
    private static func insertNew(
        _ facts: [some Encodable], into table: StaticString, columns: StaticString, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !facts.isEmpty else { return }
        let names = "\(columns)".split(separator: ",").map { $0.split(separator: " ")[0] }.joined(separator: ", ")
        var bindings = PostgresBindings()
        bindings.append(try rows(facts))
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table) (\(names))
                    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(\(columns))
                    ON CONFLICT DO NOTHING
                    """, binds: bindings), logger: logger)
    }

    /// A case's facts with its id, as one row of the record set.
    private struct CaseRow: Encodable {
        var caseId: UUID
        var facts: CaseFacts

        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey { case caseId }
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(caseId, forKey: .caseId)
            try facts.encode(to: encoder)
        }
    }

    private static func rows(_ rows: some Encodable) throws -> String {
        try BulkRows.json(rows, snakeCaseKeys: true)
    }
}
