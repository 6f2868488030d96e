import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import SamenplanTesting
import Testing

/// Intake's caseload: the area queue, re-referrals, reassignment, court-order warnings,
/// signals and what may travel in events.
@Suite(.serialized) struct IntakeCaseloadTests {
    func withIntake(
        clock: ManualWallClock = ManualWallClock(),
        _ body: @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"), clock: clock)
            try await withRunningApplications([app]) { clients in try await body(environment, clients[0]) }
        }
    }

    func publish(_ environment: TestEnvironment, _ events: [CloudEvent], topic: String = Topic.referrals) async throws {
        try await environment.withProducer { producer in
            for event in events {
                try await producer.send(topic: topic, key: Array((event.subject ?? "k").utf8), value: try event.structuredBytes())
            }
        }
    }

    func count(_ environment: TestEnvironment, _ query: PostgresQuery) async throws -> Int {
        try await environment.withAdminClient { try await $0.count(query) }
    }

    func caseOf(_ environment: TestEnvironment, _ referralId: String, timeout: Duration = .seconds(60)) async throws -> UUID {
        let id = try await openedCaseId(environment, referralId: referralId, timeout: timeout)
        return try #require(id.flatMap(UUID.init(uuidString:)))
    }

    func managerOf(_ environment: TestEnvironment, _ caseId: UUID) async throws -> String? {
        try await environment.withAdminClient { client in
            try await client.query("SELECT manager_id FROM intake.cases WHERE id = \(caseId)").collect().first?
                .decode(String?.self) ?? nil
        }
    }

    /// The counts the caseload is decided by (managers' open cases, areas' waiting cases,
    /// kept by triggers) agree with the cases themselves: how many disagree (0 when right).
    func countsDisagreeingWithCases(_ environment: TestEnvironment) async throws -> Int {
        try await count(
            environment,
            """
            SELECT (SELECT count(*) FROM intake.managers m
                    WHERE m.open_cases <> (SELECT count(*) FROM intake.cases c WHERE c.manager_id = m.id AND c.status = 'open'))
                 + (SELECT count(*)
                    FROM (SELECT area, count(*) AS n FROM intake.cases WHERE status = 'open' AND manager_id IS NULL
                          GROUP BY area) AS w
                    FULL JOIN intake.area_queues q USING (area)
                    WHERE coalesce(w.n, 0) <> coalesce(q.waiting, 0))
            """)
    }

    /// Planning closing a case, as intake sees it on `samenplan.planning.v1`.
    func closed(_ caseId: UUID, area: String, at date: Date) throws -> CloudEvent {
        try CloudEvent(
            source: EventSource.service("planning"), type: .casePhaseChanged, subject: caseId.uuidString.lowercased(),
            payload: CasePhaseChanged(
                caseId: caseId, phase: .closed, previousPhase: .secure, area: area, managerId: nil, changedAt: date))
    }

    @Test func aFullAreaQueuesUrgentFirstAndServesTheQueueWhenAPlaceFrees() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["veere"], maxCaseload: 1)
            try await publish(environment, [referralEvent(referralId: "R-1", area: "veere", childGivenName: "Een")])
            let first = try await caseOf(environment, "R-1")
            #expect(try await managerOf(environment, first) == "fm-a")

            // fm-a is full: the next two wait, the urgent one first in line.
            try await publish(
                environment,
                [
                    referralEvent(referralId: "R-2", area: "veere", childGivenName: "Twee"),
                    referralEvent(referralId: "R-3", area: "veere", childGivenName: "Drie", urgency: "urgent"),
                ])
            let second = try await caseOf(environment, "R-2")
            let third = try await caseOf(environment, "R-3")
            #expect(try await managerOf(environment, second) == nil)
            #expect(try await managerOf(environment, third) == nil)
            let lead = try await environment.token(role: .teamLead, subject: "tl", areas: ["veere"])
            let queue = try await intake.execute(
                uri: "/v1/areas/veere/queue", method: .get, headers: [.authorization: "Bearer \(lead)"])
            let items = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: queue.body))["items"]?.arrayValue ?? []
            #expect(items.compactMap { $0["caseId"]?.stringValue } == [third, second].map { $0.uuidString.lowercased() })
            let otherLead = try await environment.token(role: .teamLead, areas: ["goes"])
            #expect(
                try await intake.execute(
                    uri: "/v1/areas/veere/queue", method: .get, headers: [.authorization: "Bearer \(otherLead)"]
                ).status == .forbidden)

            // The team lead is told through events.
            // (and fm-a's manager.registered)
            let events = try await readTopic(Topic.intake, from: environment, atLeast: 10)
            let queued = try events.compactMap(\.event).filter { $0.type == EventType.caseQueued.rawValue }
                .map { try $0.data.decode(CaseQueued.self) }
            #expect(Set(queued.map(\.caseId)) == [second, third])
            #expect(Set(queued.map(\.queueLength)) == [1, 2])
            #expect(try await count(environment, "SELECT waiting FROM intake.area_queues WHERE area = 'veere'") == 2)
            #expect(try await count(environment, "SELECT open_cases FROM intake.managers WHERE id = 'fm-a'") == 1)
            #expect(try await countsDisagreeingWithCases(environment) == 0)

            // Closing fm-a's case frees a place: the urgent family gets it.
            try await publish(environment, [try closed(first, area: "veere", at: Date())], topic: Topic.planning)
            #expect(try await eventually { try await managerOf(environment, third) == "fm-a" })
            #expect(try await managerOf(environment, second) == nil)

            // More room for fm-a serves the rest of the queue.
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["veere"], maxCaseload: 3)
            #expect(try await managerOf(environment, second) == "fm-a")
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases WHERE manager_id IS NULL") == 0)
            #expect(try await count(environment, "SELECT waiting FROM intake.area_queues WHERE area = 'veere'") == 0)
            #expect(try await count(environment, "SELECT open_cases FROM intake.managers WHERE id = 'fm-a'") == 2)
            #expect(try await countsDisagreeingWithCases(environment) == 0)
        }
    }

    @Test func aFamilyBackWithinAYearIsAReReferralToItsOwnManager() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            try await registerManager(intake, token: admin, id: "fm-b", areas: ["goes"], maxCaseload: 5)
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["goes"], maxCaseload: 9)
            try await publish(environment, [referralEvent(referralId: "FIRST", area: "goes")])
            let first = try await caseOf(environment, "FIRST")
            #expect(try await managerOf(environment, first) == "fm-a")
            try await publish(environment, [try closed(first, area: "goes", at: Date())], topic: Topic.planning)
            #expect(
                try await eventually {
                    try await count(environment, "SELECT count(*) FROM intake.cases WHERE status = 'closed'") == 1
                })

            // fm-b now has more room, but the family goes back to the manager it knows.
            try await publish(environment, [referralEvent(referralId: "AGAIN", area: "goes")])
            let again = try await caseOf(environment, "AGAIN")
            #expect(again != first)
            #expect(try await managerOf(environment, again) == "fm-a")
            let row = try await environment.withAdminClient { client in
                try await client.query(
                    "SELECT re_referral, previous_case_id, family_id = (SELECT family_id FROM intake.cases WHERE id = \(first)) FROM intake.cases WHERE id = \(again)"
                ).collect().first?.decode((Bool, UUID?, Bool).self)
            }
            #expect(row?.0 == true)
            #expect(row?.1 == first)
            #expect(row?.2 == true)
            // (two of them are fm-b's and fm-a's manager.registered)
            let opened = try await readTopic(Topic.intake, from: environment, atLeast: 8).compactMap(\.event)
                .filter { $0.type == EventType.caseOpened.rawValue }.map { try $0.data.decode(CaseOpened.self) }
            #expect(opened.first { $0.caseId == first }?.reReferral == false)
            #expect(opened.first { $0.caseId == again }?.reReferral == true)
            #expect(opened.first { $0.caseId == again }?.previousCaseId == first)
            #expect(try await countsDisagreeingWithCases(environment) == 0)
        }
    }

    @Test func reassignmentIsExplicitAuditedAndFreesThePlace() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["tholen"], maxCaseload: 1)
            try await registerManager(intake, token: admin, id: "fm-b", areas: ["tholen"], maxCaseload: 1)
            // One after the other (different keys may be read in any order): X-1 goes to fm-a,
            // X-2 to fm-b, and X-3 waits.
            try await publish(environment, [referralEvent(referralId: "X-1", area: "tholen", childGivenName: "A")])
            let first = try await caseOf(environment, "X-1")
            try await publish(environment, [referralEvent(referralId: "X-2", area: "tholen", childGivenName: "B")])
            _ = try await caseOf(environment, "X-2")
            try await publish(environment, [referralEvent(referralId: "X-3", area: "tholen", childGivenName: "C")])
            let waiting = try await caseOf(environment, "X-3")
            #expect(try await managerOf(environment, first) == "fm-a")
            #expect(try await managerOf(environment, waiting) == nil)
            let lead = try await environment.token(role: .teamLead, subject: "tl-tholen", areas: ["tholen"])
            func reassign(_ body: String) async throws -> TestResponse {
                try await intake.execute(
                    uri: "/v1/cases/\(first)/reassignment", method: .post,
                    headers: [.authorization: "Bearer \(lead)", .contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }
            // fm-b is full: refused, nothing changes.
            let full = try await reassign(#"{"managerId":"fm-b","reason":"Taal: de familie spreekt Pools"}"#)
            #expect(full.status == .conflict)
            #expect(try await reassign(#"{"managerId":"fm-b","reason":"  "}"#).status == .badRequest)
            try await registerManager(intake, token: admin, id: "fm-b", areas: ["tholen"], maxCaseload: 2)
            // fm-b's new place went to the waiting family first; give fm-b one more.
            try await registerManager(intake, token: admin, id: "fm-b", areas: ["tholen"], maxCaseload: 3)
            let moved = try await reassign(#"{"managerId":"fm-b","reason":"Taal: de familie spreekt Pools"}"#)
            #expect(moved.status == .ok, "\(String(buffer: moved.body))")
            #expect(try await managerOf(environment, first) == "fm-b")
            #expect(
                try await count(
                    environment,
                    "SELECT count(*) FROM intake.assignments WHERE case_id = \(first) AND previous_manager_id = 'fm-a' AND assigned_by = 'tl-tholen'"
                ) == 1)
            #expect(
                try await count(
                    environment, "SELECT count(*) FROM intake.audit_log WHERE action = 'reassign' AND actor = 'tl-tholen'") == 1)
            let otherLead = try await environment.token(role: .teamLead, areas: ["goes"])
            let refused = try await intake.execute(
                uri: "/v1/cases/\(first)/reassignment", method: .post,
                headers: [.authorization: "Bearer \(otherLead)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"managerId":"fm-a","reason":"x"}"#))
            #expect(refused.status == .notFound)
            #expect(
                try await count(
                    environment, "SELECT count(*) FROM intake.audit_log WHERE action = 'reassign' AND outcome = 'denied'") == 1)
            // fm-a's freed place went to nobody (the queue is empty); fm-b has all three.
            #expect(try await count(environment, "SELECT open_cases FROM intake.managers WHERE id = 'fm-a'") == 0)
            #expect(try await count(environment, "SELECT open_cases FROM intake.managers WHERE id = 'fm-b'") == 3)
            #expect(try await countsDisagreeingWithCases(environment) == 0)
        }
    }

    /// The consumer validates a referral when it fetches it (``ReferralDesk/prepare(_:)``),
    /// before its transaction; the desk uses that only for the same event on the same day.
    /// A child born the next day is not valid yet; handled after midnight, the desk checks
    /// the referral again against its own day and accepts it.
    @Test func aPreparationHoldsForItsOwnEventOnItsOwnDay() async throws {
        let clock = ManualWallClock(Timestamp.parse("2026-11-23T22:59:00Z")!)
        try await withIntake(clock: clock) { environment, _ in
            let desk = ReferralDesk(clock: clock, servedAreas: ["veere": "veere"])
            let event = referralEvent(referralId: "PREP-1", area: "veere", childBirthDate: "2026-11-24")
            let prepared = desk.prepare(event)
            let intakeURL = try DatabaseURL(environment.databaseURL(for: "intake"))
            func submit(_ event: CloudEvent, _ prepared: ReferralDesk.Prepared) async throws -> ReferralOutcome {
                try await DatabaseSetup.withClient(intakeURL, logger: environment.logger) { client in
                    try await client.withTransaction(logger: environment.logger) { connection in
                        try await desk.submit(
                            [ReferralDesk.Submission(event: event, prepared: prepared)],
                            in: EventContext(connection: connection, logger: environment.logger, source: EventSource.service("intake"))
                        )[0]
                    }
                }
            }
            // The same Dutch day (23:59 in Amsterdam): the preparation stands, and so does its verdict.
            guard case .rejected(let problems) = try await submit(event, prepared) else {
                Issue.record("a child born tomorrow was accepted")
                return
            }
            #expect(problems.map(\.rule) == ["birth-date-future"])
            clock.set(Timestamp.parse("2026-11-23T23:01:00Z")!)
            guard case .accepted(let caseId, joined: false) = try await submit(event, prepared) else {
                Issue.record("the referral prepared yesterday was not checked again today")
                return
            }
            #expect(try await count(environment, "SELECT count(*) FROM intake.cases WHERE id = \(caseId)") == 1)

            // A preparation made from another event is not used for this one: a valid
            // referral handed in with the refused referral's preparation is accepted.
            let stale = desk.prepare(referralEvent(referralId: "PREP-2", area: "veere", childBirthDate: "2026-12-25"))
            let other = referralEvent(referralId: "PREP-3", area: "veere", childGivenName: "Ander")
            let outcome = try await submit(other, stale)
            guard case .accepted(_, joined: false) = outcome else {
                Issue.record("another event's preparation was used: \(outcome)")
                return
            }
        }
    }

    @Test func theCourtOrderWarningFiresOnceAcrossTwoIntakeProcesses() async throws {
        let clock = ManualWallClock(Timestamp.parse("2026-11-23T09:00:00Z")!)
        try await TestEnvironment.with { environment in
            let apps: [any ApplicationProtocol] = try await (0..<2).asyncMap { _ in
                try await ServiceRuntime.buildApplication(
                    try Intake.definition(), configuration: try environment.configuration(for: "intake"), clock: clock)
            }
            try await withRunningApplications(apps) { _ in
                var event = referralEvent(referralId: "OTS-1")
                guard case .object(var data) = event.data else { return }
                data["framework"] = .string("child-protection")
                data["courtOrder"] = .object(["decidedOn": .string("2026-10-01"), "endsOn": .string("2027-10-01")])
                event.data = .object(data)
                try await publish(environment, [event])
                // Two members of one group: the first message waits for their rebalance.
                let caseId = try await caseOf(environment, "OTS-1", timeout: .seconds(90))
                // Not yet: the warning is due on 2027-07-01, three months before the end.
                try await Task.sleep(for: .seconds(2))
                #expect(try await count(environment, "SELECT count(*) FROM intake.timers WHERE fired_at IS NOT NULL") == 0)
                clock.set(Timestamp.parse("2027-07-01T08:00:00Z")!)
                #expect(
                    try await eventually {
                        try await count(environment, "SELECT count(*) FROM intake.timers WHERE fired_at IS NOT NULL") == 1
                    })
                // Both processes poll their timers every second: give the other a few rounds
                // to fire it again, then count what was written (the outbox, not the timer
                // row, which is unique per kind and subject and so can never say "twice") and
                // read every event intake published, not just the first few.
                try await Task.sleep(for: .seconds(3))
                #expect(try await count(environment, "SELECT count(*) FROM intake.outbox WHERE event LIKE '%court-order.ending%'") == 1)
                let warnings = try await publishedEvents(.courtOrderEnding, by: "intake", on: Topic.intake, from: environment)
                #expect(warnings.count == 1)
                let warning = try #require(warnings.first).data.decode(CourtOrderEnding.self)
                #expect(warning.caseId == caseId)
                #expect(warning.endsOn == "2027-10-01")
            }
        }
    }

    @Test func signalsAreValidatedLinkedAndReEmitted() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["borsele"], maxCaseload: 5)
            try await publish(environment, [referralEvent(referralId: "SIG-1")])
            let caseId = try await caseOf(environment, "SIG-1")
            func signal(_ type: EventType, _ data: JSON) -> CloudEvent {
                // The desk that referred the family reports about it too: its referralId links.
                CloudEvent(source: "/integrators/veilig-thuis", type: type.rawValue, subject: "s", data: data)
            }
            try await publish(
                environment,
                [
                    signal(
                        .nuisanceReported,
                        [
                            "reportId": "N-1", "area": "Borsele", "reportedOn": "2026-01-10", "category": "noise",
                            "referralId": "SIG-1",
                        ]),
                    signal(
                        .nuisanceReported,
                        ["reportId": "N-2", "area": "borsele", "reportedOn": "2026-02-10", "category": "vandalism"]),
                    signal(.nuisanceReported, ["reportId": "N-3", "area": "borsele", "reportedOn": "2999-01-01"]),
                    signal(
                        .placementStarted,
                        [
                            "caseId": .string(caseId.uuidString), "memberRef": "m2", "on": "2026-03-01",
                            "kind": "foster-care",
                        ]),
                    signal(
                        .placementEnded,
                        [
                            "caseId": .string(UUID().uuidString), "memberRef": "m2", "on": "2026-03-01",
                            "kind": "foster-care",
                        ]),
                ], topic: Topic.signals)
            #expect(
                try await eventually {
                    try await count(environment, "SELECT count(*) FROM intake.signal_rejections") == 2
                })
            #expect(try await count(environment, "SELECT count(*) FROM intake.nuisance_reports WHERE case_id = \(caseId)") == 1)
            #expect(try await count(environment, "SELECT count(*) FROM intake.nuisance_reports") == 2)
            #expect(try await count(environment, "SELECT count(*) FROM intake.placements WHERE case_id = \(caseId)") == 1)
            // (one of them is fm-a's manager.registered)
            let events = try await readTopic(Topic.intake, from: environment, atLeast: 9).compactMap(\.event)
            #expect(events.filter { $0.type == EventType.nuisanceRecorded.rawValue }.count == 2)
            #expect(events.filter { $0.type == EventType.placementRecorded.rawValue }.count == 1)
            let rejections = try events.filter { $0.type == EventType.signalRejected.rawValue }
                .map { try $0.data.decode(SignalRejected.self) }
            #expect(Set(rejections.flatMap { $0.problems.map(\.rule) }) == ["required", "date-in-future", "unknown-case"])

            let lead = try await environment.token(role: .teamLead, areas: ["borsele"])
            let list = try await intake.execute(
                uri: "/v1/signals/nuisance?area=borsele&limit=1", method: .get, headers: [.authorization: "Bearer \(lead)"])
            let page = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: list.body))
            #expect(page["items"]?.arrayValue?.count == 1)
            #expect(page["next"]?.stringValue == "N-1")
        }
    }

    @Test func noEventCarriesANameOrTheReason() async throws {
        try await withIntake { environment, intake in
            let admin = try await environment.token(role: .admin)
            try await registerManager(intake, token: admin, id: "fm-a", areas: ["borsele"], maxCaseload: 5)
            var broken = referralEvent(referralId: "P-3", childGivenName: "Ongeldig")
            guard case .object(var data) = broken.data else { return }
            data["urgency"] = .string("soon")
            broken.data = .object(data)
            try await publish(
                environment,
                [
                    referralEvent(referralId: "P-1", childGivenName: "Annelies", childFamilyName: "Verhoeven"),
                    referralEvent(referralId: "P-2", childGivenName: "Bartholomeus", childFamilyName: "Zwanenburg"),
                    broken,
                ])
            // (one of them is fm-a's manager.registered)
            let messages = try await readTopic(Topic.intake, from: environment, atLeast: 7)
            #expect(messages.count >= 6)
            for message in messages {
                let text = String(decoding: message.value, as: UTF8.self)
                for personal in ["Annelies", "Verhoeven", "Bartholomeus", "Zwanenburg", "Ongeldig", "Eva", "Zorgen", "Veilig Thuis"] {
                    #expect(!text.contains(personal), "an event carries \(personal)")
                }
            }
            // The family data is there for whom may see it.
            let caseId = try await caseOf(environment, "P-1")
            let manager = try await environment.token(role: .familyManager, subject: "fm-a")
            let family = try await intake.execute(
                uri: "/v1/cases/\(caseId)/family", method: .get, headers: [.authorization: "Bearer \(manager)"])
            #expect(family.status == .ok)
            #expect(String(buffer: family.body).contains("Annelies"))
            let stranger = try await environment.token(role: .familyManager, subject: "fm-z")
            #expect(
                try await intake.execute(
                    uri: "/v1/cases/\(caseId)/family", method: .get, headers: [.authorization: "Bearer \(stranger)"]
                ).status == .notFound)
            #expect(
                try await count(
                    environment, "SELECT count(*) FROM intake.audit_log WHERE resource_type = 'family' AND outcome = 'denied'") == 1)

            // The integrator can ask what became of its referrals.
            let integrator = try await environment.token(role: .integrator, subject: "/integrators/veilig-thuis")
            let status = try await intake.execute(
                uri: "/v1/referrals?source=/integrators/veilig-thuis&referralId=P-3", method: .get,
                headers: [.authorization: "Bearer \(integrator)"])
            let answer = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: status.body))
            #expect(answer["status"]?.stringValue == "rejected")
            #expect(answer["problems"]?.arrayValue?.first?["pointer"]?.stringValue == "/urgency")
            let other = try await environment.token(role: .integrator, subject: "/integrators/politie")
            #expect(
                try await intake.execute(
                    uri: "/v1/referrals?source=/integrators/veilig-thuis&referralId=P-3", method: .get,
                    headers: [.authorization: "Bearer \(other)"]
                ).status == .forbidden)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
