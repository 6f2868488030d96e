import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanLoad
import SamenplanStorage
import Synchronization

/// `samenplan-load reconcile`: proves from the database, the topics, the webhook receiver's
/// log and the reports that every input of a run had exactly its expected effects. It reads
/// again until everything holds or `--wait` runs out (the suite may still be catching up
/// after a fault), then prints one line per effect and the totals.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a run's manifest against the database, the topics, the webhooks and the reports.")

    @OptionGroup var suite: SuiteOptions

    @Option(help: "The manifest `generate` wrote.")
    var manifest: String

    @Option(help: "An administrator's connection to the suite's database.")
    var databaseURL: String

    @Option(help: "The webhook receiver's JSON-lines log (scripts/webhook_receiver.py --log).")
    var webhookLog: String

    @Option(help: "Seconds to keep reading while effects are still missing.")
    var wait: Double = 120

    func run() async throws {
        let record = try JSONCoding.decoder.decode(LoadManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifest)))
        let logger = Logger(label: "samenplan-load.reconcile", factory: { _ in SwiftLogNoOpLogHandler() })
        let tokens = try await suite.tokens(for: record)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let topics = try TopicObserver(bootstrap: suite.bootstrap, logger: logger)
        let url = try DatabaseURL(databaseURL)
        let started = ContinuousClock.now
        let lines: [ReconciliationLine]
        do {
            lines = try await DatabaseSetup.withClient(url, logger: logger) { database in
                var observed = LoadObservation()
                var lines: [ReconciliationLine] = []
                while true {
                    try await Self.readDatabase(database, record: record, into: &observed, logger: logger)
                    let cases = Set(observed.referralCases.values.flatMap { $0 })
                    try await topics.readOn(cases: cases, into: &observed)
                    Self.readWebhooks(webhookLog, cases: cases, into: &observed)
                    await Self.readReports(LoadHTTP(client: client), suite: suite, token: tokens.analyst, record: record, into: &observed)
                    lines = Reconciliation.lines(manifest: record, observed: observed)
                    if lines.allSatisfy(\.holds) || ContinuousClock.now - started > .seconds(wait) { break }
                    try await Task.sleep(for: .seconds(2))
                }
                print("reconcile: redelivered copies on the topics (dropped by the inboxes): \(observed.redeliveredCopies)")
                return lines
            }
        } catch {
            await topics.close()
            try? await client.shutdown()
            throw error
        }
        await topics.close()
        try await client.shutdown()
        for line in lines { print("  \(line)") }
        let lost = lines.reduce(0) { $0 + $1.lost }
        let duplicated = lines.reduce(0) { $0 + $1.duplicated }
        let effects = lines.reduce(0) { $0 + $1.found }
        print(
            "reconcile: \(record.messagesSent) messages in, \(effects) effects out, \(lost) lost, \(duplicated) duplicated "
                + "(run \(record.runId), \(String(format: "%.1f", Double((ContinuousClock.now - started).components.seconds))) s to settle)")
        if !lines.allSatisfy(\.holds) { throw ExitCode(1) }
    }

    /// Intake's referrals and nuisance reports and planning's phases of the run.
    static func readDatabase(
        _ database: PostgresClient, record: LoadManifest, into observed: inout LoadObservation, logger: Logger
    ) async throws {
        let prefix = record.runId + "-%"
        var referralCases: [String: [UUID]] = [:]
        let referrals = try await database.query(
            "SELECT referral_id, case_id FROM intake.referrals WHERE source = \(LoadManifest.source) AND referral_id LIKE \(prefix)",
            logger: logger)
        for try await (referralId, caseId) in referrals.decode((String, UUID).self) {
            referralCases[referralId, default: []].append(caseId)
        }
        observed.referralCases = referralCases

        var nuisance: [String: Int] = [:]
        let reports = try await database.query(
            """
            SELECT report_id, count(*)::int FROM intake.nuisance_reports
            WHERE source = \(LoadManifest.source) AND report_id LIKE \(prefix) GROUP BY report_id
            """, logger: logger)
        for try await (reportId, count) in reports.decode((String, Int).self) { nuisance[reportId] = count }
        observed.nuisanceRows = nuisance

        var phases: [UUID: String] = [:]
        let cases = try await database.query("SELECT id, phase FROM planning.cases WHERE area LIKE \(prefix)", logger: logger)
        for try await (id, phase) in cases.decode((UUID, String).self) { phases[id] = phase }
        observed.planningPhases = phases
    }

    /// The receiver logs one line per delivery (it keeps the first of each idempotency key).
    static func readWebhooks(_ path: String, cases: Set<UUID>, into observed: inout LoadObservation) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var deliveries: [UUID: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            guard let entry = try? JSONCoding.decoder.decode(JSON.self, from: Data(line.utf8)),
                let body = entry["body"], body["eventType"]?.stringValue == EventType.caseAssigned.rawValue,
                let caseId = body["data"]?["caseId"]?.stringValue.flatMap(UUID.init(uuidString:)), cases.contains(caseId),
                let key = entry["idempotencyKey"]?.stringValue
            else { continue }
            deliveries[caseId, default: []].insert(key)
        }
        observed.assignedWebhooks = deliveries
    }

    /// The caseload per area and phase, and each area's referrals in the run's year.
    static func readReports(
        _ http: LoadHTTP, suite: SuiteOptions, token: String, record: LoadManifest, into observed: inout LoadObservation
    ) async {
        let areas = Set(record.areas)
        if let rows = await http.call(.GET, "\(suite.reporting)/v1/reports/caseload", token: token)?.body?["byAreaAndPhase"]?.arrayValue {
            var caseload: [String: [String: Int]] = [:]
            for row in rows {
                guard let area = row["area"]?.stringValue, areas.contains(area), let phase = row["phase"]?.stringValue,
                    let open = row["openCases"]?.numberValue
                else { continue }
                caseload[area, default: [:]][phase] = Int(open)
            }
            observed.reportedCaseload = caseload
        }
        let year = Calendar.netherlands.component(.year, from: record.startedAt ?? Date())
        for area in record.areas {
            let answer = await http.call(.GET, "\(suite.reporting)/v1/reports/flow?period=\(year)&area=\(area)", token: token)
            if let referrals = answer?.body?["referrals"]?.numberValue { observed.reportedReferrals[area] = Int(referrals) }
        }
    }
}

/// Reads samenplan.intake.v1 and samenplan.planning.v1 from the start, and on from where it
/// stopped on each later call, counting the distinct events about the run's cases.
final class TopicObserver: Sendable {
    private let reader: KafkaConsumer
    private let state = Mutex<State>(State())

    private struct State: Sendable {
        var position = KafkaReplayPosition()
        var assigned = false
        /// Every event seen about any case, by case; filtered to the run's cases on each call
        /// (a case's events may arrive before intake's referral row is read).
        var events: [UUID: [String: Set<String>]] = [:]
        var copies = 0
        var seen: Set<String> = []
    }

    init(bootstrap: String, logger: Logger) throws {
        reader = try KafkaConsumer.replaying(properties: ["bootstrap.servers": bootstrap], logger: logger)
    }

    func readOn(cases: Set<UUID>, into observed: inout LoadObservation) async throws {
        let ranges = try await reader.partitionRanges(of: [Topic.intake, Topic.planning])
        var position = state.withLock { $0.position }
        if !state.withLock({ $0.assigned }) {
            try reader.assign(fromStartOf: ranges)
            state.withLock { $0.assigned = true }
        }
        try await reader.read(upTo: ranges, from: &position) { messages in
            for message in messages {
                guard let event = try? CloudEvent.decodeStructured(message.value),
                    let caseId = event.data["caseId"]?.stringValue.flatMap(UUID.init(uuidString:))
                else { continue }
                let kind = Self.kind(of: event)
                state.withLock { state in
                    if !state.seen.insert(event.source + "/" + event.id).inserted {
                        state.copies += 1
                        return
                    }
                    if let kind { state.events[caseId, default: [:]][kind, default: []].insert(event.id) }
                }
            }
        }
        let current = state.withLock { state in
            state.position = position
            return (state.events, state.copies)
        }
        func events(_ kind: String) -> [UUID: Set<String>] {
            current.0.filter { cases.contains($0.key) }.compactMapValues { $0[kind] }
        }
        observed.caseOpenedEvents = events("opened")
        observed.caseAssignedEvents = events("assigned")
        observed.planProposedEvents = events("proposed")
        observed.planApprovedEvents = events("approved")
        observed.supportStartedEvents = events("support")
        observed.redeliveredCopies = current.1
    }

    /// The effects counted, by event type (and for a phase change, the phase entered).
    private static func kind(of event: CloudEvent) -> String? {
        switch EventType(rawValue: event.type) {
        case .caseOpened: "opened"
        case .caseAssigned: "assigned"
        case .planVersionProposed: "proposed"
        case .planVersionApproved: "approved"
        case .casePhaseChanged where event.data["phase"]?.stringValue == "support": "support"
        default: nil
        }
    }

    func close() async { await reader.close() }
}
