import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// Intake through the real protocol and database: rejections, duplicates, joining, the
/// dead-letter topic and `POST /v1/events`.
@Suite(.serialized) struct IntakeTests {
    /// Runs intake alone, with one manager in borsele.
    func withIntake(
        _ body: @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"))
            try await withRunningApplications([app]) { clients in
                let admin = try await environment.token(role: .admin)
                try await registerManager(clients[0], token: admin, id: "fm-1", areas: ["borsele"], maxCaseload: 50)
                try await body(environment, clients[0])
            }
        }
    }

    func publish(_ environment: TestEnvironment, _ values: [[UInt8]], topic: String = Topic.referrals) async throws {
        try await environment.withProducer { producer in
            for value in values {
                try await producer.send(topic: topic, key: Array("family".utf8), value: value)
            }
        }
    }

    func count(_ environment: TestEnvironment, _ query: PostgresQuery) async throws -> Int {
        try await environment.withAdminClient { try await $0.count(query) }
    }

    @Test func duplicateDeliveryOfOneEventOpensOneCase() async throws {
        try await withIntake { environment, _ in
            let event = referralEvent(referralId: "VT-DUP-1")
            let bytes = try event.structuredBytes()
            // The same event three times, and the same referral resent under a new event id.
            var resent = event
            resent.id = UUID().uuidString
            try await publish(environment, [bytes, bytes, bytes, try resent.structuredBytes()])
            let marker = referralEvent(referralId: "VT-MARKER", childGivenName: "Other", childBirthDate: "2016-01-01")
            try await publish(environment, [try marker.structuredBytes()])

            #expect(try await eventually { try await count(environment, "SELECT count(*) FROM intake.referrals") == 2 })
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases") == 2)
            #expect(
                try await count(environment, "SELECT count(*) FROM intake.referrals WHERE referral_id = 'VT-DUP-1'") == 1)
            // What the referral carries is stored as sent; what it leaves out is NULL (the
            // rows travel as arrays, where an empty string stands for a missing value).
            #expect(
                try await count(
                    environment,
                    """
                    SELECT count(*) FROM intake.referrals r JOIN intake.cases c ON c.id = r.case_id
                    WHERE r.referral_id = 'VT-DUP-1' AND r.reason = 'Zorgen over de veiligheid thuis.'
                      AND r.referrer_organisation = 'Veilig Thuis Zeeland' AND r.referrer_contact IS NULL
                      AND c.court_order_ends_on IS NULL AND c.previous_case_id IS NULL AND NOT c.re_referral
                    """) == 1)
            #expect(
                try await count(
                    environment,
                    """
                    SELECT count(*) FROM intake.members m JOIN intake.referrals r ON r.referral_id = 'VT-DUP-1'
                    JOIN intake.cases c ON c.id = r.case_id AND c.family_id = m.family_id
                    WHERE (m.member_ref = 'm1' AND m.given_name = 'Eva' AND m.birth_date IS NULL AND m.child_key IS NULL)
                       OR (m.member_ref = 'm2' AND m.given_name = 'Sanne' AND m.birth_date = '2015-04-02'
                           AND m.child_key IS NOT NULL AND m.child_key <> '')
                    """) == 2)
            #expect(
                try await count(
                    environment,
                    "SELECT count(*) FROM intake.outbox WHERE topic = 'samenplan.intake.v1' AND event NOT LIKE '%manager.registered%'") == 6)
            // And one answer per referral on the integrators' own topic.
            #expect(try await count(environment, "SELECT count(*) FROM intake.outbox WHERE topic = 'samenplan.answers.v1'") == 2)
        }
    }

    @Test func referralForAFamilyWithAnOpenCaseJoinsThatCase() async throws {
        try await withIntake { environment, _ in
            let first = referralEvent(source: "/integrators/veilig-thuis", referralId: "VT-1")
            // Another desk, the same child written differently (case, accents, spaces).
            let second = referralEvent(
                source: "/integrators/politie", referralId: "POL-7", childGivenName: " SANNE ",
                childFamilyName: "De  Vriës")
            try await publish(environment, [try first.structuredBytes(), try second.structuredBytes()])
            #expect(try await eventually { try await count(environment, "SELECT count(*) FROM intake.referrals") == 2 })
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases") == 1)
            #expect(
                try await count(environment, "SELECT count(*) FROM intake.referrals WHERE joined_existing_case") == 1)
        }
    }

    @Test func brokenReferralIsRejectedNamingEveryProblem() async throws {
        try await withIntake { environment, _ in
            var event = referralEvent(referralId: "VT-BAD")
            guard case .object(var data) = event.data else { return }
            data["framework"] = .string("child-protection")  // and no courtOrder
            data["urgency"] = .string("whenever")
            data["members"] = .array([
                .object([
                    "memberRef": .string("m1"), "role": .string("parent"), "givenName": .string("Eva"),
                    "familyName": .string("de Vries"), "birthDate": .string("2999-01-01"),
                ])
            ])
            event.data = .object(data)
            try await publish(environment, [try event.structuredBytes()])

            // fm-1's manager.registered and the rejection.
            let messages = try await readTopic(Topic.intake, from: environment, atLeast: 2)
            let rejection = try #require(messages.compactMap(\.event).first { $0.type == EventType.referralRejected.rawValue })
            let payload = try rejection.data.decode(ReferralRejected.self)
            #expect(payload.eventId == event.id)
            #expect(payload.referralId == "VT-BAD")
            #expect(
                Set(payload.problems.map(\.rule))
                    == ["court-order-required", "enum", "child-required", "birth-date-future"])
            // Nothing of the family's personal data travels in the rejection.
            let text = String(decoding: try JSONCoding.encoder.encode(rejection.data), as: UTF8.self)
            #expect(!text.contains("Eva") && !text.contains("Vries") && !text.contains("Zorgen"))
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases") == 0)
        }
    }

    @Test func notACloudEventGoesToTheDeadLetterTopicAndTheNextOneIsProcessed() async throws {
        try await withIntake { environment, _ in
            let valid = referralEvent(referralId: "VT-AFTER-DLQ")
            try await publish(
                environment,
                [
                    Array("this is not json".utf8),
                    Array(#"{"hello":"world"}"#.utf8),
                    Array(#"{"specversion":"1.0","id":"x","source":"/s","type":"nl.samenplan.unknown.v1","data":{}}"#.utf8),
                    // A suite type, but not an integrator's: nobody may close a case this way.
                    try CloudEvent(
                        source: EventSource.service("planning"), type: .casePhaseChanged, subject: "c",
                        payload: CasePhaseChanged(
                            caseId: UUID(), phase: .closed, previousPhase: .secure, area: "borsele", managerId: nil,
                            changedAt: Date())
                    ).structuredBytes(),
                    try valid.structuredBytes(),
                ])
            let dead = try await readTopic(Topic.deadLetter(service: "intake"), from: environment, atLeast: 4)
            #expect(
                dead.map { $0.headerString(DeadLetterHeader.reason) }
                    == ["not-json", "not-a-cloudevent", "unknown-type", "misplaced-type"])
            #expect(dead.allSatisfy { $0.headerString(DeadLetterHeader.originalTopic) == Topic.referrals })
            #expect(dead.allSatisfy { $0.headerString(DeadLetterHeader.originalOffset) != nil })
            #expect(dead.first?.value == Array("this is not json".utf8))
            #expect(
                try await eventually {
                    try await count(environment, "SELECT count(*) FROM intake.referrals WHERE referral_id = 'VT-AFTER-DLQ'") == 1
                })
        }
    }

    /// Issue 8, item 5: the DLQ tool lists dead letters with their reasons and re-drives
    /// chosen ones; re-driving twice opens one case, and what still fails comes back.
    @Test func theDeadLetterToolListsAndReDrivesIdempotently() async throws {
        try await withIntake { environment, _ in
            let kafka = ["bootstrap.servers": environment.kafka.bootstrapServers]
            // A real dead letter (not JSON), and a referral set aside while it could not be
            // handled (as a handler bug would), by hand, with the headers intake writes.
            try await publish(environment, [Array("this is not json".utf8)])
            let stuck = referralEvent(referralId: "VT-REDRIVE")
            try await environment.withProducer { producer in
                try await producer.send(
                    topic: Topic.deadLetter(service: "intake"), key: Array("family".utf8), value: try stuck.structuredBytes(),
                    headers: [
                        KafkaHeader(name: DeadLetterHeader.reason, string: "handler-failed"),
                        KafkaHeader(name: DeadLetterHeader.detail, string: "a bug, fixed since"),
                        KafkaHeader(name: DeadLetterHeader.service, string: "intake"),
                        KafkaHeader(name: DeadLetterHeader.originalTopic, string: Topic.referrals),
                        KafkaHeader(name: DeadLetterHeader.originalPartition, string: "0"),
                        KafkaHeader(name: DeadLetterHeader.originalOffset, string: "41"),
                    ])
            }
            let letters = try #require(
                try await eventuallyValue { () -> [DeadLetter]? in
                    let letters = try await DeadLetterQueue.list(service: "intake", kafka: kafka, logger: environment.logger)
                    return letters.count == 2 ? letters : nil
                })
            #expect(Set(letters.map(\.reason)) == ["not-json", "handler-failed"])
            let fixable = try #require(letters.first { $0.reason == "handler-failed" })
            #expect(fixable.eventID == stuck.id && fixable.eventType == EventType.referralSubmitted.rawValue)
            #expect(fixable.originalTopic == Topic.referrals && fixable.originalPosition == "0:41")
            #expect(letters.first { $0.reason == "not-json" }?.eventType == nil)

            // Re-driven twice: one referral, one case.
            let redriven = try await environment.withProducer { producer -> [Int] in
                [try await DeadLetterQueue.redrive([fixable], with: producer), try await DeadLetterQueue.redrive([fixable], with: producer)]
            }
            #expect(redriven == [1, 1])
            #expect(
                try await eventually {
                    try await count(environment, "SELECT count(*) FROM intake.referrals WHERE referral_id = 'VT-REDRIVE'") == 1
                })
            // What still cannot be handled comes back to the dead-letter topic, with its reason.
            let garbage = try #require(letters.first { $0.reason == "not-json" })
            try await environment.withProducer { producer in
                _ = try await DeadLetterQueue.redrive([garbage], with: producer)
            }
            let again = try #require(
                try await eventuallyValue { () -> [DeadLetter]? in
                    let letters = try await DeadLetterQueue.list(service: "intake", kafka: kafka, logger: environment.logger)
                    return letters.count == 3 ? letters : nil
                })
            #expect(again.map(\.reason).filter { $0 == "not-json" }.count == 2)
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases") == 1)
            #expect(try await count(environment, "SELECT count(*) FROM intake.referrals WHERE referral_id = 'VT-REDRIVE'") == 1)
        }
    }

    @Test func binaryModeEventsAreAccepted() async throws {
        try await withIntake { environment, _ in
            let event = referralEvent(referralId: "VT-BINARY")
            try await environment.withProducer { producer in
                try await producer.send(
                    topic: Topic.referrals, key: Array("family".utf8),
                    value: Array(try JSONCoding.encoder.encode(event.data)),
                    headers: [
                        KafkaHeader(name: "ce_specversion", string: "1.0"), KafkaHeader(name: "ce_id", string: event.id),
                        KafkaHeader(name: "ce_source", string: event.source), KafkaHeader(name: "ce_type", string: event.type),
                        KafkaHeader(name: "content-type", string: "application/json"),
                    ])
            }
            #expect(
                try await eventually {
                    try await count(environment, "SELECT count(*) FROM intake.referrals WHERE referral_id = 'VT-BINARY'") == 1
                })
        }
    }

    /// Issue 18, finding 4: referrals to look-alike or unknown areas were accepted and waited
    /// where nobody looks. Areas are a managed list; names are folded (NFKC) and lowercased.
    @Test func referralsGoOnlyToAreasSamenplanServes() async throws {
        try await withIntake { environment, intake in
            let integrator = try await environment.token(role: .integrator, subject: "/integrators/veilig-thuis")
            let admin = try await environment.token(role: .admin)
            @Sendable func refer(_ area: String, _ id: String) async throws -> TestResponse {
                try await intake.execute(
                    uri: "/v1/events", method: .post,
                    headers: [.authorization: "Bearer \(integrator)", .contentType: CloudEvent.structuredContentType],
                    body: ByteBuffer(bytes: try referralEvent(referralId: id, area: area, childGivenName: "Kind\(id.suffix(1))").structuredBytes()))
            }
            // Look-alikes: a Cyrillic "а", a Unicode hyphen, a zero-width space; and an area nobody serves.
            for (index, area) in ["k\u{0430}pelle", "veere\u{2010}zuid", "bor\u{200B}sele", "onbekend"].enumerated() {
                let refused = try await refer(area, "AREA-BAD-\(index)")
                #expect(refused.status == .badRequest, "\(area.unicodeScalars.map { String($0.value, radix: 16) })")
                let problems = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: refused.body))["problems"]?.arrayValue ?? []
                #expect(problems.first?["rule"] == "unknown-area" && problems.first?["pointer"] == "/area")
                #expect(problems.first?["detail"]?.stringValue?.contains("borsele") == true)
            }
            // Compatibility forms are the area itself: full-width letters, a long s.
            #expect(try await refer("\u{FF47}\u{FF4F}\u{FF45}\u{FF53}", "AREA-OK-1").status == .accepted)
            #expect(try await refer("bor\u{017F}ele", "AREA-OK-2").status == .accepted)
            let areas = try await environment.withAdminClient { client in
                try await client.query(
                    "SELECT c.area FROM intake.referrals r JOIN intake.cases c ON c.id = r.case_id WHERE r.referral_id LIKE 'AREA-%' ORDER BY r.referral_id"
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(areas == ["goes", "borsele"])
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases WHERE area NOT IN ('goes', 'borsele')") == 0)

            // An admin adds an area; a team lead may not; a name that is no identifier is refused.
            @Sendable func put(_ area: String, _ token: String) async throws -> HTTPResponse.Status {
                try await intake.execute(
                    uri: "/v1/areas/\(area)", method: .put, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"team":"team-zuid"}"#)
                ).status
            }
            #expect(try await put("nieuw-gebied", admin) == .ok)
            let lead = try await environment.token(role: .teamLead, subject: "tl-1", areas: ["borsele"])
            #expect(try await put("ander-gebied", lead) == .forbidden)
            #expect(try await put("Bad_Area", admin) == .badRequest)
            #expect(try await refer("nieuw-gebied", "AREA-OK-3").status == .accepted)
            let listed = try JSONCoding.decoder.decode(
                JSON.self, from: Data(buffer: try await intake.execute(uri: "/v1/areas", method: .get, headers: [.authorization: "Bearer \(lead)"]).body))
            let names = listed["items"]?.arrayValue?.compactMap { $0["area"]?.stringValue } ?? []
            #expect(names.contains("nieuw-gebied") && names.contains("borsele") && names == names.sorted())
            // A manager's areas are identifiers too.
            let manager: JSON = ["id": "fm-look-alike", "displayName": "X", "areas": ["b\u{043E}rsele"], "maxCaseload": 5]
            let registered = try await intake.execute(
                uri: "/v1/managers", method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: ByteBuffer(bytes: try JSONCoding.encoder.encode(manager)))
            #expect(registered.status == .badRequest)
        }
    }

    @Test func postEventsAnswers202OrProblemJSON() async throws {
        try await withIntake { environment, intake in
            let integrator = try await environment.token(role: .integrator, subject: "/integrators/veilig-thuis")
            let headers: HTTPFields = [.authorization: "Bearer \(integrator)", .contentType: CloudEvent.structuredContentType]

            let valid = referralEvent(referralId: "VT-HTTP-1")
            let accepted = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(bytes: try valid.structuredBytes()))
            #expect(accepted.status == .accepted)
            let answer = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: accepted.body))
            #expect(answer["id"]?.stringValue == valid.id)
            // Accepted, and no more: an integrator is not told the case (issue 18, finding 1).
            #expect(answer["status"] == "accepted" && answer["caseId"] == nil && answer["joinedExistingCase"] == nil)

            // The same event again: accepted, marked as a duplicate.
            let again = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(bytes: try valid.structuredBytes()))
            #expect(again.status == .accepted)
            let againAnswer = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: again.body))
            #expect(againAnswer["caseId"] == nil)
            #expect(againAnswer["duplicate"] == .bool(true))
            // The family data written is audited, with who handed it in.
            #expect(
                try await count(
                    environment,
                    "SELECT count(*) FROM intake.audit_log WHERE actor = '/integrators/veilig-thuis' AND role = 'integrator' AND resource_id = 'VT-HTTP-1'"
                ) == 1)

            var broken = referralEvent(referralId: "VT-HTTP-2")
            guard case .object(var data) = broken.data else { return }
            data.removeValue(forKey: "area")
            broken.data = .object(data)
            let rejected = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(bytes: try broken.structuredBytes()))
            #expect(rejected.status == .badRequest)
            #expect(rejected.headers[.contentType] == "application/problem+json")
            let problem = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: rejected.body))
            #expect(problem["problems"]?.arrayValue?.first?["pointer"]?.stringValue == "/area")
            #expect(problem["problems"]?.arrayValue?.first?["rule"]?.stringValue == "required")

            let garbage = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(string: "{not json"))
            #expect(garbage.status == .badRequest)
            #expect(garbage.headers[.contentType] == "application/problem+json")

            // An integrator speaks for itself only.
            let impostor = try await environment.token(role: .integrator, subject: "/integrators/politie")
            let spoofed = try await intake.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(impostor)", .contentType: CloudEvent.structuredContentType],
                body: ByteBuffer(bytes: try referralEvent(referralId: "VT-SPOOF").structuredBytes()))
            #expect(spoofed.status == .forbidden)

            // A broken signal is answered like a broken referral.
            let signal = CloudEvent(
                source: "/integrators/veilig-thuis", type: EventType.nuisanceReported.rawValue,
                data: ["reportId": "N-1", "area": "borsele", "reportedOn": "2026-13-01", "category": "noise"])
            let badSignal = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers, body: ByteBuffer(bytes: try signal.structuredBytes()))
            #expect(badSignal.status == .badRequest)
            let signalProblem = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: badSignal.body))
            #expect(signalProblem["type"]?.stringValue?.hasSuffix("signal-rejected") == true)
            #expect(signalProblem["problems"]?.arrayValue?.first?["rule"]?.stringValue == "date-format")

            let huge = try await intake.execute(
                uri: "/v1/events", method: .post, headers: headers,
                body: ByteBuffer(bytes: Array(repeating: UInt8(ascii: " "), count: 2_000_000)))
            #expect(huge.status == .contentTooLarge)
            #expect(huge.headers[.contentType] == "application/problem+json")

            let anonymous = try await intake.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(bytes: try valid.structuredBytes()))
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.contentType] == "application/problem+json")

            let analyst = try await environment.token(role: .analyst)
            let forbidden = try await intake.execute(
                uri: "/v1/events", method: .post, headers: [.authorization: "Bearer \(analyst)"],
                body: ByteBuffer(bytes: try valid.structuredBytes()))
            #expect(forbidden.status == .forbidden)
        }
    }

    @Test func newCasesGoToTheManagerWithTheMostRoomInTheArea() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            // fm-1 (50 places) is registered by withIntake; fm-0 has 2, in another area too.
            try await registerManager(intake, token: admin, id: "fm-0", areas: ["goes"], maxCaseload: 2)
            let events = (0..<3).map {
                referralEvent(referralId: "VT-GOES-\($0)", area: "goes", childGivenName: "Kind\($0)")
            }
            try await publish(environment, try events.map { try $0.structuredBytes() })
            #expect(try await eventually { try await count(environment, "SELECT count(*) FROM intake.cases") == 3 })
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases WHERE manager_id = 'fm-0'") == 2)
            // Nobody in goes has room for the third: it waits unassigned.
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases WHERE manager_id IS NULL") == 1)
        }
    }
}
