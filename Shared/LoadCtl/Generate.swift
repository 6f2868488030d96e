import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import SamenplanDomain
import SamenplanKafka
import SamenplanLoad
import SamenplanServer

/// `samenplan-load generate`: publishes a seeded mix of referrals, joining referrals,
/// redeliveries and nuisance reports at a steady rate, and works on some cases' plans over
/// planning's HTTP API; then writes the manifest the reconciler checks the suite against.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish realistic traffic at a given rate for a given time and write its manifest.")

    @OptionGroup var suite: SuiteOptions

    @Option(help: "Messages per second.")
    var rate: Double = 50

    @Option(help: "Seconds of traffic.")
    var duration: Double = 30

    @Option(help: "Seed of the traffic: the same seed sends the same mix.")
    var seed: UInt64 = 1

    @Option(help: "Areas the families live in (each gets family managers enough for every case it can get).")
    var areas = 8

    @Option(help: "Run id: prefixes every area, referral and report id (lower case). Default: load-<seed>-<time>.")
    var runId: String?

    @Option(help: "Seconds to finish the plan work after the traffic stopped.")
    var settle: Double = 180

    @Option(help: "Write the manifest here (JSON).")
    var manifest: String

    func validate() throws {
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be positive") }
        guard areas >= 1 else { throw ValidationError("--areas must be at least 1") }
        if let runId, runId != runId.lowercased() || runId.isEmpty {
            throw ValidationError("--run-id must be lower case (areas are)")
        }
    }

    func run() async throws {
        let runId = runId ?? "load-\(seed)-\(Int(Date().timeIntervalSince1970))"
        var traffic = Traffic(runId: runId, seed: seed, areaCount: areas)
        // Room for every message being a new family, so no case waits in a queue (the
        // queue has tests of its own).
        let mostFamilies = Int((rate * duration).rounded(.up))
        traffic.manifest.managersPerArea = max(1, (mostFamilies / areas + LoadManifest.maxCaseload) / LoadManifest.maxCaseload)
        let tokens = try await suite.tokens(for: traffic.manifest)
        var logger = Logger(label: "samenplan-load")
        logger.logLevel = .warning
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let http = LoadHTTP(client: client)
        let producer = try KafkaProducer(
            properties: [
                "bootstrap.servers": suite.bootstrap, "enable.idempotence": "true",
                // Long enough to wait out a broker that is down for a while: a message is
                // only given up (and the run failed) after ten minutes.
                "message.timeout.ms": "600000", "linger.ms": "5",
            ], logger: logger)
        let plans = PlanWork(http: http, suite: suite, tokens: tokens)
        do {
            try await registerManagers(traffic.manifest.managers, http: http, token: tokens.admin)
            traffic.manifest.startedAt = Date()
            print("load: run \(runId), \(rate) messages/s for \(duration) s over \(areas) areas")
            let deadline = ContinuousClock.now + .seconds(duration + settle)
            var undelivered = 0
            var planResults: [Int: Bool] = [:]
            try await withThrowingTaskGroup(of: Outcome.self) { group in
                let interval = Duration.seconds(1 / rate)
                let count = Int(rate * duration)
                var next = ContinuousClock.now
                for _ in 0..<count {
                    try await Task.sleep(until: next)
                    next += interval
                    let step = traffic.next(now: Date())
                    let (topic, key, event) = step.message
                    let bytes = try event.structuredBytes()
                    group.addTask {
                        do {
                            try await producer.send(topic: topic, key: Array(key.utf8), value: bytes)
                            return .delivered
                        } catch {
                            return .undelivered
                        }
                    }
                    if case .referral(_, _, _, let family, true) = step, traffic.manifest.families[family].planWork {
                        let referralId = traffic.manifest.families[family].referralIds[0]
                        group.addTask { .planWork(family, await plans.run(referralId: referralId, until: deadline)) }
                    }
                }
                for try await outcome in group {
                    switch outcome {
                    case .delivered: break
                    case .undelivered: undelivered += 1
                    case .planWork(let family, let done): planResults[family] = done
                    }
                }
            }
            traffic.manifest.undelivered = undelivered
            for (family, done) in planResults { traffic.manifest.families[family].planWorkDone = done }
            traffic.manifest.endedAt = Date()
        } catch {
            await producer.close(timeout: .seconds(5))
            try? await client.shutdown()
            throw error
        }
        await producer.close(timeout: .seconds(10))
        try await client.shutdown()
        let record = traffic.manifest
        let encoder = JSONCoding.encoder
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: URL(fileURLWithPath: manifest))
        let worked = record.families.filter { $0.planWork }
        print(
            "load: sent \(record.messagesSent) messages (\(record.families.count) families, \(record.referralCount) referrals, "
                + "\(record.redeliveries) redeliveries, \(record.nuisanceReports.count) nuisance reports), "
                + "\(record.undelivered) undelivered; plan work done for \(worked.filter { $0.planWorkDone == true }.count) "
                + "of \(worked.count) cases; manifest \(manifest)")
        if record.undelivered > 0 || worked.contains(where: { $0.planWorkDone != true }) {
            throw ExitCode(1)
        }
    }

    private enum Outcome: Sendable {
        case delivered, undelivered
        case planWork(Int, Bool)
    }

    /// The run's family managers; registering one again changes nothing.
    private func registerManagers(_ managers: [(id: String, area: String)], http: LoadHTTP, token: String) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        for (id, area) in managers {
            let body: JSON = [
                "id": .string(id), "displayName": .string("Gezinsmanager \(id)"), "areas": [.string(area)],
                "maxCaseload": .number(Double(LoadManifest.maxCaseload)),
            ]
            var refusal = "no answer"
            let registered = await http.retry(until: deadline) {
                guard let answer = await http.call(.POST, "\(suite.intake)/v1/managers", token: token, body: body) else { return false }
                refusal = "\(answer.status) \(answer.body?["problems"].map { "\($0)" } ?? "")"
                return (200..<300).contains(answer.status)
            }
            guard registered else { throw LoadError(description: "intake did not register manager \(id) within 120 s: \(refusal)") }
        }
    }
}

struct LoadError: Error, CustomStringConvertible {
    var description: String
}

extension Traffic.Step {
    var message: (topic: String, key: String, event: CloudEvent) {
        switch self {
        case .referral(let topic, let key, let event, _, _), .redelivery(let topic, let key, let event),
            .nuisanceReport(let topic, let key, let event):
            (topic, key, event)
        }
    }
}
