import CaseHistories
import Foundation
import HummingbirdTesting
import PostgresNIO
import ReportingService
import SamenplanDomain
import SamenplanServer
import SamenplanTesting
import Synchronization
import Testing

// Issue 7, item 1: a rebuild replays the topics from the start into new tables while the old
// figures stay served, and gives the same figures as the live projection.

@Suite(.serialized) struct ReportingRebuildTests {
    static let now = Timestamp.parse("2026-12-15T12:00:00Z")!
    static let start = Timestamp.parse("2026-01-05T00:00:00Z")!

    @Test func aRebuildGivesTheLiveFiguresAndServesTheOldOnesUntilItIsComplete() async throws {
        try await withReporting(at: Self.now) { environment, clients in
            let history = try CaseHistories(seed: 11, families: 300, now: Self.now, start: Self.start).events()
            try await publish(history, in: environment)
            #expect(try await eventually(timeout: .seconds(60)) { try await inboxCount(environment) == history.count })

            let analyst = try await environment.token(role: .analyst, subject: "analyst")
            let live = try await figures(clients[0], token: analyst)
            let liveTables = try await tables(environment)

            // Spoil the live tables: these "old" figures must stay served while the rebuild runs.
            try await environment.withAdminClient { client in
                try await client.query("DELETE FROM reporting.referral_facts")
                try await client.query("UPDATE reporting.case_projection SET phase = 'connect'")
            }
            let spoiled = try await figures(clients[0], token: analyst)
            #expect(spoiled != live)

            // The figures are read all through the rebuild.
            let progress = Recorder<ProjectionRebuild.Progress>()
            let rebuild = Task {
                defer { progress.finish() }
                return try await ProjectionRebuild.run(
                    configuration: try environment.configuration(for: "reporting"), logger: environment.logger
                ) { step in progress.append(step) }
            }
            var answers: [String] = []
            while !progress.isFinished {
                answers.append(try await report(clients[0], "flow?period=2026", token: analyst))
                try await Task.sleep(for: .milliseconds(10))
            }
            let summary: ProjectionRebuild.Summary? = try await rebuild.value
            let rebuilt = try #require(summary)
            #expect(rebuilt.messages == Int64(history.count))
            #expect(rebuilt.skipped == 0)
            // The progress bar went from nothing to everything.
            let steps = progress.items
            #expect(steps.first?.read == 0 && steps.last?.read == steps.last?.total && steps.last?.total == Int64(history.count))

            // Every answer during the rebuild was the old figure until the swap, then the new
            // one: never a half-built table.
            let (oldFlow, newFlow) = (spoiled["flow?period=2026"]!, live["flow?period=2026"]!)
            #expect(answers.first == oldFlow)
            #expect(answers.allSatisfy { $0 == oldFlow || $0 == newFlow })
            if let swapped = answers.firstIndex(of: newFlow) {
                #expect(answers[swapped...].allSatisfy { $0 == newFlow })
            }

            // The rebuilt figures and rows are exactly the live projection's.
            #expect(try await figures(clients[0], token: analyst) == live)
            #expect(try await tables(environment) == liveTables)
            // The old tables were kept aside, not thrown away at once.
            let kept = try await environment.withAdminClient { client in
                try await client.query("SELECT count(*)::int FROM reporting_previous.referral_facts").collect().first!.decode(Int.self)
            }
            #expect(kept == 0)
            // The new tables were vacuumed and analysed before they were served: a table never
            // analysed has reltuples -1, and the statistics record the vacuum.
            let unprepared = try await environment.withAdminClient { client in
                try await client.query(
                    """
                    SELECT coalesce(string_agg(c.relname, ', '), '') FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
                    WHERE n.nspname = 'reporting' AND c.relname IN ('phase_entries', 'case_projection', 'referral_facts')
                      AND (c.reltuples <= 0 OR s.last_vacuum IS NULL)
                    """
                ).collect().first!.decode(String.self)
            }
            #expect(unprepared == "")
        }
    }

    @Test func eventsArrivingDuringARebuildAreNotLost() async throws {
        try await withReporting(at: Self.now) { environment, _ in
            let history = try CaseHistories(seed: 21, families: 200, now: Self.now, start: Self.start).events()
            try await publish(history, in: environment)
            #expect(try await eventually(timeout: .seconds(60)) { try await inboxCount(environment) == history.count })

            // More events arrive while the rebuild runs; the live consumer projects them into
            // whichever tables are live at the moment.
            let more = try CaseHistories(seed: 22, families: 60, now: Self.now, start: Self.start).events()
            let published = Task { try await publish(more, in: environment) }
            _ = try await ProjectionRebuild.run(
                configuration: try environment.configuration(for: "reporting"), logger: environment.logger) { _ in }
            try await published.value
            #expect(try await eventually(timeout: .seconds(60)) { try await inboxCount(environment) == history.count + more.count })
            let afterFirst = try await tables(environment)

            // A second rebuild, with everything already published, changes no row: nothing
            // was lost or counted twice around the first one's swap.
            let second = try await ProjectionRebuild.run(
                configuration: try environment.configuration(for: "reporting"), logger: environment.logger) { _ in }
            #expect(second.messages == Int64(history.count + more.count))
            let afterSecond = try await tables(environment)
            #expect(afterFirst.keys.sorted() == afterSecond.keys.sorted())
            for (table, rows) in afterFirst {
                #expect(afterSecond[table] == rows, "\(table) differs between two rebuilds")
            }
            #expect(afterFirst["case_projection"]?.count == 260)
        }
    }
}

/// Publishes a history, in its order.
func publish(_ history: [CaseHistories.Published], in environment: TestEnvironment) async throws {
    try await environment.withProducer { producer in
        for item in history {
            try await producer.send(topic: item.topic, key: nil, value: try item.event.structuredBytes())
        }
    }
}

/// Events reporting has handled (its inbox).
func inboxCount(_ environment: TestEnvironment) async throws -> Int {
    try await environment.withAdminClient { client in
        try await client.query("SELECT count(*)::int FROM reporting.inbox").collect().first!.decode(Int.self)
    }
}

/// Every row of every read-model table, as text, sorted.
func tables(_ environment: TestEnvironment) async throws -> [String: [String]] {
    try await environment.withAdminClient { client in
        var tables: [String: [String]] = [:]
        let names = try await client.query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'reporting' AND tablename NOT IN ('inbox', 'outbox', 'audit_log', 'timers', 'schema_migrations')"
        ).collect().map { try $0.decode(String.self) }
        for name in names {
            tables[name] = try await client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM reporting.\(name) t ORDER BY 1"))
                .collect().map { try $0.decode(String.self) }
        }
        return tables
    }
}

/// The answer of one report, as text.
func report(_ client: some TestClientProtocol, _ path: String, token: String) async throws -> String {
    let response = try await client.execute(uri: "/v1/reports/\(path)", method: .get, headers: [.authorization: "Bearer \(token)"])
    return String(buffer: response.body)
}

/// Every report of 2026, by quarter and for the year, as text.
func figures(_ client: some TestClientProtocol, token: String) async throws -> [String: String] {
    var figures: [String: String] = ["caseload": try await report(client, "caseload", token: token)]
    for period in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026", "2026-12"] {
        for kind in ["flow", "rhythm", "outcomes", "volunteers"] {
            figures["\(kind)?period=\(period)"] = try await report(client, "\(kind)?period=\(period)", token: token)
        }
    }
    return figures
}

/// Collects what a concurrent task reports, and whether it has finished.
final class Recorder<Item: Sendable>: Sendable {
    private let state = Mutex<(items: [Item], finished: Bool)>(([], false))

    func append(_ item: Item) { state.withLock { $0.items.append(item) } }
    func finish() { state.withLock { $0.finished = true } }
    var items: [Item] { state.withLock { $0.items } }
    var isFinished: Bool { state.withLock { $0.finished } }
}

/// Issue 19, item 6: every event of reporting's fixture delivered a second time to the
/// running consumer changes no row of any read model. Markers published after the copies
/// (16 keys a topic, so every partition gets one after its copies) say when the copies have
/// been consumed; their own rows are left out of the comparison.
@Suite(.serialized) struct ReportingRedeliveryTests {
    @Test func everyEventDeliveredTwiceChangesNoReadModel() async throws {
        let now = Timestamp.parse("2026-12-15T12:00:00Z")!
        let history = try CaseHistories(seed: 3, families: 16, now: now, start: CalendarDate("2025-07-01")!.start()).events()
        try await withReporting(at: now) { environment, _ in
            try await publish(history, in: environment)
            #expect(try await eventually(timeout: .seconds(90)) { try await inboxCount(environment) == history.count })
            let before = try await tables(environment)

            // The copies, then the markers.
            try await publish(history, in: environment)
            var markers: [(String, String, CloudEvent)] = []
            var markerCases: [String] = []
            for index in 0..<16 {
                let id = "marker-\(index)"
                let caseId = UUID()
                markerCases.append(caseId.uuidString.lowercased())
                markers.append((Topic.intake, id, try CloudEvent(
                    source: EventSource.service("intake"), type: .managerRegistered, subject: id,
                    payload: ManagerRegistered(managerId: id, areas: ["marker"], maxCaseload: 1, at: now, team: "marker"))))
                markers.append((Topic.planning, id, try CloudEvent(
                    source: EventSource.service("planning"), type: .casePhaseChanged, subject: caseId.uuidString,
                    payload: CasePhaseChanged(
                        caseId: caseId, phase: .support, previousPhase: .connect, area: "marker", managerId: id, changedAt: now))))
                markers.append((Topic.volunteers, id, try CloudEvent(
                    source: EventSource.service("volunteers"), type: .volunteerRegistered, subject: id,
                    payload: VolunteerChanged(volunteerId: id, status: "active", areas: ["marker"], guideId: nil, reason: nil, at: now, sequence: 1))))
            }
            let toSend = markers
            try await environment.withProducer { producer in
                for (topic, key, event) in toSend {
                    try await producer.send(topic: topic, key: Array(key.utf8), value: try event.structuredBytes())
                }
            }
            let expected = history.count + toSend.count
            #expect(try await eventually(timeout: .seconds(90)) { try await inboxCount(environment) == expected })

            // Every table as before, the markers' own rows left out.
            let markerCaseIds = markerCases
            let after = try await tables(environment)
            #expect(Set(after.keys) == Set(before.keys))
            for (table, rows) in after {
                let own = rows.filter { row in !row.contains("marker") && !markerCaseIds.contains { row.contains($0) } }
                #expect(own == before[table], "\(table) changed: \(Set(own).symmetricDifference(before[table] ?? []).prefix(3))")
            }
        }
    }
}
