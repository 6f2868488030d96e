import Algorithms
import CaseHistories
import Foundation
import SamenplanDomain
import SamenplanEventing
import Testing

@testable import ReportingService

// Reporting merges a batch of events per row before writing it (issue 7: 10,000 events/s).
// The merge must give the same facts whatever order a case's events arrive in, because they
// come from several topics, and a copy of an event must change nothing.

@Suite("Projection batches")
struct ProjectionBatchTests {
    static let caseId = UUID()

    static func event(_ type: EventType, _ payload: some Encodable, time: Date? = nil) throws -> CloudEvent {
        CloudEvent(source: "/samenplan/test", type: type.rawValue, time: time, data: try JSON(encoding: payload))
    }

    static func at(_ text: String) -> Date { Timestamp.parse(text)! }

    /// One case's life: opened, queued, assigned twice (a reassignment), three phases, closed.
    static func lifeOfACase() throws -> [CloudEvent] {
        [
            try event(.caseOpened, CaseOpened(
                caseId: caseId, familyId: UUID(), referralId: "r-1", framework: .childProtection, urgency: .normal, area: "goes",
                courtOrderEndsOn: nil, childCount: 2, openedAt: at("2026-10-01T09:00:00Z"), reReferral: true)),
            try event(.caseQueued, CaseQueued(
                caseId: caseId, area: "goes", urgency: .normal, queuedAt: at("2026-10-01T09:00:01Z"), queueLength: 3)),
            try event(.caseAssigned, CaseAssigned(
                caseId: caseId, managerId: "fm-1", area: "goes", assignedAt: at("2026-10-03T09:00:00Z"), previousManagerId: nil,
                waitedSeconds: 172_799)),
            try event(.caseAssigned, CaseAssigned(
                caseId: caseId, managerId: "fm-2", area: "goes", assignedAt: at("2026-11-03T09:00:00Z"), previousManagerId: "fm-1",
                waitedSeconds: 0)),
            try event(.casePhaseChanged, CasePhaseChanged(
                caseId: caseId, phase: .connect, previousPhase: nil, area: "goes", managerId: "fm-1", changedAt: at("2026-10-03T09:00:00Z"))),
            try event(.casePhaseChanged, CasePhaseChanged(
                caseId: caseId, phase: .support, previousPhase: .connect, area: "goes", managerId: "fm-1",
                changedAt: at("2026-10-20T09:00:00Z"))),
            try event(.casePhaseChanged, CasePhaseChanged(
                caseId: caseId, phase: .closed, previousPhase: .secure, area: "goes", managerId: "fm-2",
                changedAt: at("2026-11-20T09:00:00Z"))),
        ]
    }

    static let expected = CaseFacts(
        area: "goes", framework: "child-protection", openedAt: at("2026-10-01T09:00:00Z"), reReferral: true, managerId: "fm-2",
        managerAssignedAt: at("2026-11-03T09:00:00Z"), assignedAt: at("2026-10-03T09:00:00Z"), waitedSeconds: 172_799,
        queuedAt: at("2026-10-01T09:00:01Z"), phase: "closed", phaseChangedAt: at("2026-11-20T09:00:00Z"),
        closedAt: at("2026-11-20T09:00:00Z"))

    @Test(arguments: TestSeeds.all)
    func aCasesFactsAreTheSameInAnyOrder(seed: UInt64) throws {
        let events = try Self.lifeOfACase()
        var generator = SplitMix64(seed: seed)
        for _ in 0..<50 {
            var batch = ProjectionBatch()
            for event in events.shuffled(using: &generator) { try batch.add(event) }
            #expect(batch.cases[Self.caseId] == Self.expected)
            #expect(batch.phaseEntries.count == 3)
        }
    }

    @Test func factsMergedAcrossBatchesEqualOneBatch() throws {
        // What the SQL does with the stored row is this merge: two halves give the whole.
        let events = try Self.lifeOfACase()
        for split in 0...events.count {
            var first = ProjectionBatch()
            var second = ProjectionBatch()
            for event in events[..<split] { try first.add(event) }
            for event in events[split...] { try second.add(event) }
            let merged: CaseFacts? =
                switch (first.cases[Self.caseId], second.cases[Self.caseId]) {
                case (let a?, let b?): a.merged(with: b)
                case (let a, let b): a ?? b
                }
            #expect(merged == Self.expected, "split at \(split)")
        }
    }

    @Test func aRedeliveredEventChangesNothing() throws {
        var once = ProjectionBatch()
        var twice = ProjectionBatch()
        // Reporting's seeded fixture: every kind of event the read models are built from.
        let history = try CaseHistories(
            seed: 3, families: 16, now: Self.at("2026-12-15T12:00:00Z"), start: CalendarDate("2025-07-01")!.start()
        ).events().map(\.event)
        for event in try Self.lifeOfACase() + history {
            try once.add(event)
            try twice.add(event)
            try twice.add(event)
        }
        // Every read model, not just the cases (issue 19): a row list may hold a copy (the
        // SQL inserts it once), so each model is compared as the set of its rows.
        let models = try Self.models(once)
        #expect(models.count == ProjectionWriter.tables.count)
        #expect(models == (try Self.models(twice)))
        let empty = models.filter { $0.value.isEmpty }.map(\.key).sorted()
        #expect(empty.isEmpty, "the fixture fills every model; empty: \(empty)")
    }

    /// Each of a batch's read models (its stored properties) as the set of its rows, a row
    /// as its JSON (keys sorted; a dictionary's key beside its value).
    static func models(_ batch: ProjectionBatch) throws -> [String: Set<String>] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func text(_ value: Any) throws -> String {
            if let encodable = value as? any Encodable { return String(decoding: try encoder.encode(encodable), as: UTF8.self) }
            return String(describing: value)
        }
        var models: [String: Set<String>] = [:]
        for model in Mirror(reflecting: batch).children {
            guard let name = model.label else { continue }
            var rows = Set<String>()
            for row in Mirror(reflecting: model.value).children {
                let entry = Mirror(reflecting: row.value)
                let parts = entry.displayStyle == .tuple ? entry.children.map(\.value) : [row.value]
                rows.insert(try parts.map(text).joined(separator: " => "))
            }
            models[name] = rows
        }
        return models
    }

    @Test func theLatestVolunteerStatusCountsAndAMatchIsTheFirstStart() throws {
        var batch = ProjectionBatch()
        try batch.add(Self.event(.volunteerStatusChanged, VolunteerChanged(
            volunteerId: "v-1", status: "stopped", areas: ["Goes"], guideId: nil, reason: nil, at: Self.at("2026-11-02T00:00:00Z"))))
        try batch.add(Self.event(.volunteerRegistered, VolunteerChanged(
            volunteerId: "v-1", status: "active", areas: ["Goes"], guideId: nil, reason: nil, at: Self.at("2026-10-02T00:00:00Z"))))
        #expect(batch.volunteers["v-1"]?.status == "stopped")
        #expect(batch.volunteers["v-1"]?.areas == ["goes"])

        let (request, first, second) = (UUID(), UUID(), UUID())
        for (assignment, day) in [(second, "2026-11-10"), (first, "2026-11-01")] {
            try batch.add(Self.event(.volunteerAssignmentStarted, VolunteerAssignmentChanged(
                assignmentId: assignment, helpRequestId: request, caseId: Self.caseId, volunteerId: "v-1",
                at: Self.at("\(day)T10:00:00Z"))))
        }
        try batch.add(Self.event(.helpRequestRaised, HelpRequestRaised(
            helpRequestId: request, caseId: Self.caseId, area: "goes", managerId: "fm-1", kind: "practical", goalId: nil, need: "x"),
            time: Self.at("2026-10-25T10:00:00Z")))
        #expect(batch.helpRequests[request]?.matchedAt == Self.at("2026-11-01T10:00:00Z"))
        #expect(batch.helpRequests[request]?.raisedAt == Self.at("2026-10-25T10:00:00Z"))
        #expect(batch.assignments.count == 2)
    }

    /// Issue 17: a volunteer registered today whose certificate ran out last month is paused
    /// as of last month. The pause comes second in the registry, so it is the status, although
    /// its `at` is the earlier one.
    @Test func aStatusThatTookEffectBeforeTheRegistrationStillComesAfterIt() throws {
        var batch = ProjectionBatch()
        try batch.add(Self.event(.volunteerRegistered, VolunteerChanged(
            volunteerId: "v-2", status: "active", areas: ["goes"], guideId: nil, reason: nil, at: Self.at("2026-12-06T10:00:00Z"),
            sequence: 1)))
        try batch.add(Self.event(.volunteerStatusChanged, VolunteerChanged(
            volunteerId: "v-2", status: "paused", areas: ["goes"], guideId: nil, reason: "certificate-expired",
            at: Self.at("2026-11-01T00:00:00Z"), sequence: 2)))
        #expect(batch.volunteers["v-2"]?.status == "paused")
    }

    /// The registry's rule, as a property: whatever order the events arrive in and whatever
    /// their `at`, the projection keeps the status with the highest sequence. Every order of
    /// up to five records, on seeded draws (the seed is the test's argument).
    @Test(arguments: TestSeeds.all)
    func aVolunteersStatusIsTheRegistrysInEveryOrder(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let statuses = ["applicant", "active", "paused", "stopped"]
        let base = Self.at("2026-11-01T00:00:00Z")
        for round in 0..<40 {
            let records = (1...(random.next(upTo: 5) + 1)).map { sequence in
                VolunteerChanged(
                    volunteerId: "v", status: statuses[random.next(upTo: statuses.count)], areas: ["goes"], guideId: nil, reason: nil,
                    at: base.addingTimeInterval(Double(random.next(upTo: 120) - 60) * 86_400), sequence: sequence)
            }
            let registry = records.max { $0.sequence! < $1.sequence! }!.status
            for order in records.permutations() {
                var batch = ProjectionBatch()
                for record in order { try batch.add(Self.event(.volunteerStatusChanged, record)) }
                #expect(batch.volunteers["v"]?.status == registry, "seed \(seed), round \(round): \(order.map { ($0.sequence!, $0.status) })")
            }
        }
    }

    @Test func aDayThatIsNoCalendarDayBreaksTheSchema() throws {
        var batch = ProjectionBatch()
        let event = try Self.event(.nuisanceRecorded, NuisanceRecorded(
            reportId: "n-1", area: "goes", reportedOn: "2026-02-30", category: "noise", caseId: nil))
        #expect(throws: PermanentEventFailure.self) { try batch.add(event) }
        #expect(batch.isEmpty)
    }

    @Test func eventsReportingDoesNotProjectAreIgnored() throws {
        var batch = ProjectionBatch()
        try batch.add(CloudEvent(source: "/samenplan/test", type: EventType.notificationDelivered.rawValue, data: [:]))
        #expect(batch.isEmpty)
    }
}

// Hostile input (issue 8): PostgreSQL cannot store U+0000 in any text, so an event holding
// it anywhere is refused as it is read, and dead-lettered at once instead of failing in the
// database until it is given up.
@Suite("Events holding U+0000")
struct NULEventTests {
    @Test func anEventWithUPlus0000AnywhereIsRefused() throws {
        let texts = [
            #"{"specversion":"1.0","id":"a\u0000b","source":"/s","type":"t","data":{}}"#,
            #"{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"referralId":"x\u0000"}}"#,
            #"{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"members":[{"given\u0000Name":"x"}]}}"#,
        ]
        for text in texts {
            #expect(throws: EnvelopeError.self) { try CloudEvent.decode(value: Array(text.utf8), headers: []) }
            do {
                _ = try CloudEvent.decode(value: Array(text.utf8), headers: [])
            } catch {
                #expect(error.reason == .nulCharacter)
            }
        }
        let clean = #"{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"text":"\\u0000 is only written here"}}"#
        #expect(try CloudEvent.decode(value: Array(clean.utf8), headers: []).id == "a")
    }
}
