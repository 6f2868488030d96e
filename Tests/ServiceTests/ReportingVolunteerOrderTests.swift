import Algorithms
import Foundation
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanTesting
import Testing

@testable import ReportingService

/// Issue 17, item 3, against the real read model: a volunteer's status events written to
/// `volunteer_facts` one batch each, in every order, leave the registry's status (the
/// highest sequence), whatever their `at`. The same rule in one batch is ProjectionBatchTests'.
@Suite(.serialized) struct ReportingVolunteerOrderTests {
    @Test func theStoredStatusIsTheRegistrysInEveryOrderOfBatches() async throws {
        let now = Timestamp.parse("2026-12-06T10:00:00Z")!
        try await withReporting(at: now) { environment, _ in
            // Registered today (active), paused as of last month by the certificate timer,
            // active again with a new certificate, stopped: the registry's four records.
            let records: [(Int, String, TimeInterval)] = [(1, "active", 0), (2, "paused", -35 * 86_400), (3, "active", 3600), (4, "stopped", 7200)]
            let orders = records.permutations().map(Array.init)
            try await environment.withAdminClient { client in
                try await client.withConnection { connection in
                    _ = try await connection.query("SET search_path TO reporting", logger: environment.logger)
                    for (index, order) in orders.enumerated() {
                        for (sequence, status, offset) in order {
                            var batch = ProjectionBatch()
                            try batch.add(
                                CloudEvent(
                                    source: EventSource.service("volunteers"), type: sequence == 1 ? .volunteerRegistered : .volunteerStatusChanged,
                                    subject: "v-\(index)",
                                    payload: VolunteerChanged(
                                        volunteerId: "v-\(index)", status: status, areas: ["goes"], guideId: nil, reason: nil,
                                        at: now.addingTimeInterval(offset), sequence: sequence)))
                            try await ProjectionWriter.write(batch, on: connection, logger: environment.logger)
                        }
                    }
                }
            }
            let stored = try await environment.withAdminClient { client in
                try await client.query("SELECT status, count(*)::int FROM reporting.volunteer_facts GROUP BY status").collect()
                    .map { try $0.decode((String, Int).self) }
            }
            #expect(stored.count == 1 && stored.first?.0 == "stopped" && stored.first?.1 == orders.count)
        }
    }
}
