import CaseHistories
import Foundation
import HummingbirdTesting
import IntakeService
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

// Issue 8, item 3 (the Kafka half): thousands of generated bad messages on the referrals
// topic. Every one must be accounted for, as a rejection (`referral.rejected`, stored in
// intake's `rejections`) or a dead letter, without a crash, and the valid referrals among
// them must all be handled.

@Suite(.serialized) struct HostileInputTests {
    /// Bad messages of every kind, the same for the same seed.
    struct Generator {
        var random: SplitMix64
        var count = 0
        /// The kind of each message made, by its event id (`hostile-N`).
        var kinds: [String: String] = [:]

        static let kindNames = [
            "random-bytes", "truncated", "wrong-type", "huge-field", "deep-nesting", "unknown-type", "control-characters",
            "sql-fragment", "no-source",
        ]

        mutating func next() throws -> [UInt8] {
            count += 1
            let id = "hostile-\(count)"
            let kind = random.next(upTo: 9)
            kinds[id] = Self.kindNames[kind]
            switch kind {
            case 0:  // random bytes
                return (0..<random.next(upTo: 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:  // a referral cut short
                let bytes = try referralEvent(id: id).structuredBytes()
                return Array(bytes.prefix(1 + random.next(upTo: bytes.count - 1)))
            case 2:  // wrong types in the data
                var event = referralEvent(id: id)
                let field = ["referralId", "members", "area", "urgency", "framework"][random.next(upTo: 5)]
                event.data = event.data.setting(field, to: [.number(42), .bool(true), .null, .array([]), .object([:])][random.next(upTo: 5)])
                return try event.structuredBytes()
            case 3:  // a huge field (kept under the test broker's 5 MB a partition all together)
                var event = referralEvent(id: id)
                event.data = event.data.setting("reason", to: .string(String(repeating: "zorg ", count: 4_000 + random.next(upTo: 2_000))))
                return try event.structuredBytes()
            case 4:  // deeply nested data
                let depth = 200 + random.next(upTo: 5_000)
                let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                return Array(
                    #"{"specversion":"1.0","id":"\#(id)","source":"/hostile","type":"nl.samenplan.referral.submitted.v1","data":{"referralId":\#(nested)}}"#
                        .utf8)
            case 5:  // a type nobody knows
                return try CloudEvent(id: id, source: "/hostile", type: "nl.samenplan.hostile-\(random.next(upTo: 1000)).v1", data: [:])
                    .structuredBytes()
            case 6:  // control and right-to-left characters where ids and codes belong
                let hostile = ["\u{202E}evil", "VT\u{0007}1", "a\u{0000}b", "\u{200F}\u{202B}x", "line\nbreak"][random.next(upTo: 5)]
                // Each its own referral id: a resent referral would rightly get the first one's answer.
                return try referralEvent(id: id, referralId: "\(hostile)-\(count)", area: random.chance(percent: 50) ? hostile : "borsele")
                    .structuredBytes()
            case 7:  // SQL fragments where ids and codes belong
                let fragment = ["x'; DROP TABLE cases; --", "1 OR 1=1", "'); DELETE FROM referrals; --", "$$;$$"][random.next(upTo: 4)]
                return try referralEvent(id: id, referralId: "\(fragment)-\(count)", urgency: random.chance(percent: 50) ? fragment : "normal")
                    .structuredBytes()
            default:  // an envelope without what every CloudEvent needs
                return Array(#"{"specversion":"1.0","id":"\#(id)","type":"nl.samenplan.referral.submitted.v1"}"#.utf8)
            }
        }
    }

    /// What becomes of each kind of message with seed 8, and why:
    static let expectedVerdicts: [String: [String: Int]] = [
        // No CloudEvent at all, or none with a source: nothing to answer, so a dead letter.
        "random-bytes": ["dead-lettered": 234], "truncated": ["dead-lettered": 177], "no-source": ["dead-lettered": 234],
        // A type intake does not take: a dead letter.
        "unknown-type": ["dead-lettered": 219],
        // Nested past the parser's depth: no event to read; shallower ones are a referral
        // whose referralId is no string, rejected.
        "deep-nesting": ["dead-lettered": 223, "rejected": 9],
        // Valid envelopes whose data breaks the contract: rejected, naming the rule.
        "wrong-type": ["rejected": 216], "huge-field": ["rejected": 226],
        // U+0000 is refused as the event is read (a dead letter); an area of control or
        // right-to-left characters is no area Samenplan serves (rejected); in a referral id
        // they are stored as plain text (accepted).
        "control-characters": ["dead-lettered": 44, "rejected": 96, "accepted": 97],
        // An SQL fragment as urgency breaks its enum (rejected); as a referral id it is text.
        "sql-fragment": ["rejected": 114, "accepted": 111],
    ]

    @Test func everyBadMessageIsRejectedOrDeadLetteredAndTheValidOnesGetThrough() async throws {
        let bad = 2_000
        try await TestEnvironment.with(partitions: 8) { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"))
            try await withRunningApplications([app]) { clients in
                let admin = try await environment.token(role: .admin)
                try await registerManager(clients[0], token: admin, id: "fm-1", areas: ["borsele"], maxCaseload: 500)
                var generator = Generator(random: SplitMix64(seed: 8))
                var messages: [OutgoingMessage] = []
                var valid = 0
                for index in 0..<bad {
                    messages.append(OutgoingMessage(topic: Topic.referrals, key: Array("k\(index % 7)".utf8), value: try generator.next()))
                    if index % 200 == 199 {
                        // A valid referral among them, of a family of its own.
                        valid += 1
                        let event = referralEvent(referralId: "VT-VALID-\(valid)", childGivenName: "Kind\(valid)", childBirthDate: "2015-04-\(10 + valid)")
                        messages.append(OutgoingMessage(topic: Topic.referrals, key: Array("k-valid".utf8), value: try event.structuredBytes()))
                    }
                }
                let toSend = messages
                let validCount = valid
                try await environment.withProducer { producer in
                    for result in await producer.sendInOrder(toSend) { try result.get() }
                }

                @Sendable func count(_ query: PostgresQuery) async throws -> Int {
                    try await environment.withAdminClient { try await $0.count(query) }
                }
                // Every valid referral is handled, however much junk came before it.
                #expect(
                    try await eventually(timeout: .seconds(120)) {
                        try await count("SELECT count(*) FROM intake.referrals WHERE referral_id LIKE 'VT-VALID-%'") == validCount
                    })
                // Every bad message is accounted for: a rejection, a dead letter, or (a valid
                // referral after all, e.g. an SQL fragment in a free-text field) a referral.
                let accounted = try await eventuallyValue(timeout: .seconds(120)) { () -> (Int, Int, Int)? in
                    let rejected = try await count("SELECT count(*) FROM intake.rejections")
                    let accepted = try await count("SELECT count(*) FROM intake.referrals") - validCount
                    let dead = try await DeadLetterQueue.list(
                        service: "intake", kafka: ["bootstrap.servers": environment.kafka.bootstrapServers], logger: environment.logger
                    ).count
                    return rejected + dead + accepted == bad ? (rejected, dead, accepted) : nil
                }
                let (rejected, dead, accepted) = try #require(accounted)
                // The exact verdict per kind of message (issue 19, item 7): the generator is
                // seeded, so each message's fate is known. A message intake could not read an
                // id from is dead-lettered; the others are found by their event id.
                let rejectedIds = Set(try await environment.withAdminClient { client in
                    try await client.query("SELECT event_id FROM intake.rejections WHERE event_id LIKE 'hostile-%'").collect()
                        .map { try $0.decode(String.self) }
                })
                let acceptedIds = Set(try await environment.withAdminClient { client in
                    try await client.query("SELECT event_id FROM intake.referrals WHERE event_id LIKE 'hostile-%'").collect()
                        .map { try $0.decode(String.self) }
                })
                var verdicts: [String: [String: Int]] = [:]
                for (id, kind) in generator.kinds {
                    let verdict = acceptedIds.contains(id) ? "accepted" : rejectedIds.contains(id) ? "rejected" : "dead-lettered"
                    verdicts[kind, default: [:]][verdict, default: 0] += 1
                }
                #expect(verdicts.values.reduce(0) { $0 + ($1["dead-lettered"] ?? 0) } == dead)
                #expect(verdicts == Self.expectedVerdicts, "per kind: \(verdicts.sorted { $0.key < $1.key })")
                print("hostile input: \(bad) bad messages tried: \(rejected) rejected, \(dead) dead-lettered, \(accepted) accepted as valid; \(valid) valid referrals among them, all handled")
                #expect(rejected > 0 && dead > 0)
                // The tables are still there, and intake still answers.
                #expect(try await count("SELECT count(*) FROM intake.cases") >= valid)
                let health = try await clients[0].execute(uri: "/health/ready", method: .get)
                #expect(health.status == .ok)
            }
        }
    }
}

extension JSON {
    /// A copy of this object with `key` set to `value`.
    func setting(_ key: String, to value: JSON) -> JSON {
        guard case .object(var fields) = self else { return self }
        fields[key] = value
        return .object(fields)
    }
}
