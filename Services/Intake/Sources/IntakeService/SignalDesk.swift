import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Neighbourhood signals: nuisance reports and out-of-home placements. Each is validated,
/// stored (linked to its case where it names one) and re-emitted for reporting with ids,
/// codes and dates only. A broken one is answered with `nl.samenplan.signal.rejected.v1`.
struct SignalDesk: Sendable {
    let clock: any WallClock

    func today() -> CalendarDate { CalendarDate(clock.now(), in: ReferralDesk.timeZone) }

    /// Returns the problems when the signal was rejected (answered with an event as well).
    @discardableResult
    func handle(_ event: CloudEvent, in context: EventContext) async throws -> [ReferralRejected.Problem]? {
        switch EventType(rawValue: event.type) {
        case .nuisanceReported:
            switch SignalValidator.nuisance(event.data, today: today()) {
            case .failure(let failure): return try await reject(event, failure.problems, in: context)
            case .success(let report): return try await record(report, event: event, in: context)
            }
        case .placementStarted, .placementEnded:
            switch SignalValidator.placement(event.data, today: today()) {
            case .failure(let failure): return try await reject(event, failure.problems, in: context)
            case .success(let placement): return try await record(placement, event: event, in: context)
            }
        default:
            return nil
        }
    }

    private func record(_ report: SignalValidator.Nuisance, event: CloudEvent, in context: EventContext) async throws
        -> [ReferralRejected.Problem]?
    {
        let connection = context.connection
        var caseId = report.caseId
        if caseId == nil, let referralId = report.referralId {
            // The integrator names one of its own referrals: the case it belongs to.
            caseId = try await connection.query(
                "SELECT case_id FROM referrals WHERE source = \(event.source) AND referral_id = \(referralId)",
                logger: context.logger
            ).collect().first?.decode(UUID.self)
        }
        if let given = caseId,
            try await connection.query("SELECT 1 FROM cases WHERE id = \(given)", logger: context.logger).collect().isEmpty
        {
            return try await reject(
                event, [.init(rule: "unknown-case", pointer: "/caseId", detail: "no case has this caseId")], in: context)
        }
        let inserted = try await connection.query(
            """
            INSERT INTO nuisance_reports (source, report_id, area, reported_on, category, case_id)
            VALUES (\(event.source), \(report.reportId), \(report.area), \(report.reportedOn.description)::date,
                    \(report.category), \(caseId))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: context.logger
        ).collect()
        // The same report resent under a new event id is one report.
        guard !inserted.isEmpty else { return nil }
        try await context.emit(
            .nuisanceRecorded,
            payload: NuisanceRecorded(
                reportId: report.reportId, area: report.area, reportedOn: report.reportedOn.description,
                category: report.category, caseId: caseId),
            on: Topic.intake, key: caseId?.uuidString.lowercased() ?? "area:\(report.area)", traceparent: event.traceparent)
        return nil
    }

    private func record(_ placement: SignalValidator.Placement, event: CloudEvent, in context: EventContext) async throws
        -> [ReferralRejected.Problem]?
    {
        let connection = context.connection
        guard
            let area = try await connection.query(
                "SELECT area FROM cases WHERE id = \(placement.caseId)", logger: context.logger
            ).collect().first?.decode(String.self)
        else {
            return try await reject(
                event, [.init(rule: "unknown-case", pointer: "/caseId", detail: "no case has this caseId")], in: context)
        }
        let started = EventType(rawValue: event.type) == .placementStarted
        if started {
            try await connection.query(
                """
                INSERT INTO placements (case_id, member_ref, kind, started_on, event_source, event_id)
                VALUES (\(placement.caseId), \(placement.memberRef), \(placement.kind), \(placement.on.description)::date,
                        \(event.source), \(event.id))
                ON CONFLICT DO NOTHING
                """, logger: context.logger)
        } else {
            // Ends the member's open placement of that kind; without one, the end is kept alone.
            let updated = try await connection.query(
                """
                UPDATE placements SET ended_on = \(placement.on.description)::date
                WHERE id = (SELECT id FROM placements WHERE case_id = \(placement.caseId) AND member_ref = \(placement.memberRef)
                            AND kind = \(placement.kind) AND ended_on IS NULL ORDER BY started_on DESC LIMIT 1)
                RETURNING 1
                """, logger: context.logger
            ).collect()
            if updated.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO placements (case_id, member_ref, kind, ended_on, event_source, event_id)
                    VALUES (\(placement.caseId), \(placement.memberRef), \(placement.kind), \(placement.on.description)::date,
                            \(event.source), \(event.id))
                    ON CONFLICT DO NOTHING
                    """, logger: context.logger)
            }
        }
        try await context.emit(
            .placementRecorded,
            payload: PlacementRecorded(
                caseId: placement.caseId, memberRef: placement.memberRef, kind: placement.kind,
                on: placement.on.description, change: started ? .started : .ended, area: area),
            on: Topic.intake, key: placement.caseId.uuidString.lowercased(), traceparent: event.traceparent)
        return nil
    }

    private func reject(_ event: CloudEvent, _ problems: [ReferralRejected.Problem], in context: EventContext) async throws
        -> [ReferralRejected.Problem]
    {
        let text = String(decoding: try JSONCoding.encoder.encode(problems), as: UTF8.self)
        try await context.connection.query(
            """
            INSERT INTO signal_rejections (event_source, event_id, event_type, problems)
            VALUES (\(event.source), \(event.id), \(event.type), \(text)::jsonb) ON CONFLICT DO NOTHING
            """, logger: context.logger)
        let rejected = SignalRejected(eventSource: event.source, eventId: event.id, eventType: event.type, problems: problems)
        for topic in [Topic.intake, Topic.answers] {
            try await context.emit(.signalRejected, payload: rejected, on: topic, key: event.subject ?? event.id, traceparent: event.traceparent)
        }
        return problems
    }
}
