import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage
import VolunteersDomain

/// The certificate of conduct's clock (issue 5, item 1): two durable timers per volunteer,
/// a warning for the coordinator `warningDays` before the certificate runs out and, on the
/// day it has, the volunteer is paused. Registering a new certificate moves both; a volunteer
/// without one has neither. Timers are rows claimed with `SKIP LOCKED`: each fires once,
/// across restarts and replicas.
enum CertificateTimers {
    static let warning = "certificate-warning"
    static let expiry = "certificate-expiry"

    /// Call before locking the volunteer's row in a transaction that then schedules: the
    /// timer service locks a timer before its handler locks the volunteer (`Timers.lock`).
    static func lock(volunteerId: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await Timers.lock(kinds: [warning, expiry], subject: volunteerId, on: connection, logger: logger)
    }

    static func schedule(
        volunteerId: String, issuedOn: CalendarDate?, policy: CertificatePolicy, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard let issuedOn else {
            for kind in [warning, expiry] {
                try await Timers.cancel(kind: kind, subject: volunteerId, on: connection, logger: logger)
            }
            return
        }
        // The issue date travels with the timer: a timer of an older certificate that was
        // replaced meanwhile is recognised and ignored when it fires.
        let payload = JSON.object(["issuedOn": .string(issuedOn.description)])
        try await Timers.schedule(
            [
                TimerEntry(
                    kind: warning, subject: volunteerId,
                    dueAt: policy.warnOn(issuedOn: issuedOn).start(), payload: payload),
                TimerEntry(
                    kind: expiry, subject: volunteerId,
                    dueAt: policy.expiresOn(issuedOn: issuedOn).start(), payload: payload),
            ], on: connection, logger: logger)
    }
}

/// Fires the certificate timers: `volunteer-certificate.expiring` for the coordinator, and on
/// expiry an active (or applicant) volunteer is paused with the reason `certificate-expired`
/// (`volunteer.status-changed`).
struct CertificateTimerHandler: TimerHandler {
    let policy: CertificatePolicy
    var kinds: Set<String> { [CertificateTimers.warning, CertificateTimers.expiry] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        let rows = try await context.connection.query(
            """
            SELECT certificate_issued_on::text, status, areas, guide_id FROM volunteers
            WHERE id = \(timer.subject) FOR UPDATE
            """, logger: context.logger
        ).collect()
        guard let row = rows.first else { return }
        let (issuedText, status, areas, guideId) = try row.decode((String?, String, [String], String?).self)
        guard let issuedText, issuedText == timer.payload["issuedOn"]?.stringValue,
            let issuedOn = CalendarDate(issuedText)
        else { return }
        if timer.kind == CertificateTimers.warning {
            guard status != VolunteerStatus.stopped.rawValue else { return }
            try await context.emit(
                .volunteerCertificateExpiring,
                payload: VolunteerCertificateExpiring(
                    volunteerId: timer.subject, areas: areas, guideId: guideId, issuedOn: issuedOn,
                    expiresOn: policy.expiresOn(issuedOn: issuedOn)),
                on: Topic.volunteers, key: timer.subject, traceparent: nil)
            return
        }
        guard status == VolunteerStatus.active.rawValue || status == VolunteerStatus.applicant.rawValue else { return }
        let sequence = try await context.connection.query(
            """
            UPDATE volunteers SET status = 'paused', status_reason = 'certificate-expired', updated_at = \(timer.dueAt),
                status_sequence = status_sequence + 1
            WHERE id = \(timer.subject) RETURNING status_sequence
            """, logger: context.logger
        ).collect().first?.decode(Int.self)
        try await context.emit(
            .volunteerStatusChanged,
            payload: VolunteerChanged(
                volunteerId: timer.subject, status: VolunteerStatus.paused.rawValue, areas: areas, guideId: guideId,
                // In effect from the day the certificate ran out; `sequence` puts it after
                // the registration, whose `at` (today) may be later.
                reason: "certificate-expired", at: timer.dueAt, sequence: sequence),
            on: Topic.volunteers, key: timer.subject, traceparent: nil)
    }
}
