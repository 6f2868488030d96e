import Foundation
import IntakeService
import SamenplanDomain
import Testing

// The in-memory rules the referral desk decides a batch with: the caseload book (who gets a
// new or waiting case) and the triage (duplicate, join, new case, re-referral). The database
// tests (IntakeCaseloadTests, IntakeTests) show the same rules end to end.

private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func id(_ n: Int) -> UUID {
    UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))!
}

private func waiting(_ n: Int, urgent: Bool = false, minutesAgo: Double = 0, preferred: String? = nil)
    -> CaseloadBook.WaitingCase
{
    .init(caseId: id(n), urgent: urgent, queuedAt: now.addingTimeInterval(-minutesAgo * 60), preferredManagerId: preferred)
}

@Suite("Caseload book")
struct CaseloadBookTests {
    @Test("a new case goes to the manager with the most free places")
    func mostFreePlaces() {
        var book = CaseloadBook(freePlaces: ["fm-a": 2, "fm-b": 5, "fm-c": 4], areasOfManager: ["fm-a": ["x"], "fm-b": ["x"], "fm-c": ["x"]])
        book.enqueue(waiting(1), in: "x")
        #expect(book.serve("x", now: now).map(\.managerId) == ["fm-b"])
        #expect(book.freePlaces["fm-b"] == 4)
    }

    @Test("equal free places: the lowest id, every time")
    func tiesAreDeterministic() {
        var book = CaseloadBook(freePlaces: ["fm-c": 3, "fm-a": 3, "fm-b": 3], areasOfManager: ["fm-c": ["x"], "fm-a": ["x"], "fm-b": ["x"]])
        var order: [String] = []
        for n in 1...6 {
            book.enqueue(waiting(n), in: "x")
            order += book.serve("x", now: now).map(\.managerId)
        }
        #expect(order == ["fm-a", "fm-b", "fm-c", "fm-a", "fm-b", "fm-c"])
    }

    @Test("only managers of the case's area count")
    func otherAreasDoNotCount() {
        var book = CaseloadBook(freePlaces: ["fm-a": 1, "fm-b": 9], areasOfManager: ["fm-a": ["x"], "fm-b": ["y"]])
        book.enqueue(waiting(1), in: "x")
        book.enqueue(waiting(2), in: "x")
        #expect(book.serve("x", now: now).map(\.managerId) == ["fm-a"])
        #expect(book.queueLength(of: "x") == 1)
        #expect(book.freePlaces["fm-b"] == 9)
    }

    @Test("a manager of two areas has one set of places")
    func placesAreSharedAcrossAreas() {
        var book = CaseloadBook(freePlaces: ["fm-a": 1], areasOfManager: ["fm-a": ["x", "y"]])
        book.enqueue(waiting(1), in: "x")
        book.enqueue(waiting(2), in: "y")
        #expect(book.serve("x", now: now).count == 1)
        #expect(book.serve("y", now: now).isEmpty)
        #expect(!book.hasRoom(in: "y"))
        #expect(book.queueLength(of: "y") == 1)
    }

    @Test("nobody has room: the case waits and the queue grows")
    func fullAreaQueues() {
        var book = CaseloadBook(freePlaces: ["fm-a": 0], areasOfManager: ["fm-a": ["x"]], queueLengths: ["x": 3])
        book.enqueue(waiting(1), in: "x")
        #expect(book.serve("x", now: now).isEmpty)
        #expect(book.queueLength(of: "x") == 4)
    }

    @Test("a capacity lowered below the open cases is no room, not a debt")
    func negativeFreePlacesAreZero() {
        let book = CaseloadBook(freePlaces: ["fm-a": -2], areasOfManager: ["fm-a": ["x"]])
        #expect(book.freePlaces["fm-a"] == 0)
        #expect(!book.hasRoom(in: "x"))
    }

    @Test("the queue is served urgent first, then longest waiting, and says how long each waited")
    func queueOrder() {
        let queue = [
            waiting(1, minutesAgo: 30), waiting(2, urgent: true, minutesAgo: 5), waiting(3, minutesAgo: 60),
            waiting(4, urgent: true, minutesAgo: 10),
        ]
        var book = CaseloadBook(freePlaces: ["fm-a": 3], areasOfManager: ["fm-a": ["x"]], waiting: ["x": queue])
        let served = book.serve("x", now: now)
        #expect(served.map(\.caseId) == [id(4), id(2), id(3)])
        #expect(served.map(\.waitedSeconds) == [600, 300, 3600])
        #expect(book.queueLength(of: "x") == 1)
    }

    @Test("a re-referred family goes to its previous manager when they have room, else to the most free")
    func preferredManager() {
        var book = CaseloadBook(freePlaces: ["fm-a": 1, "fm-b": 5], areasOfManager: ["fm-a": ["x"], "fm-b": ["x"]])
        book.enqueue(waiting(1, preferred: "fm-a"), in: "x")
        #expect(book.serve("x", now: now).map(\.managerId) == ["fm-a"])
        book.enqueue(waiting(2, preferred: "fm-a"), in: "x")
        #expect(book.serve("x", now: now).map(\.managerId) == ["fm-b"])
        // A preferred manager who no longer works in the area does not count.
        book.enqueue(waiting(3, preferred: "fm-z"), in: "x")
        #expect(book.serve("x", now: now).map(\.managerId) == ["fm-b"])
    }
}

private func referral(_ id: String, children: [(String, String)], area: String = "borsele", order: ValidReferral.CourtOrder? = nil)
    -> ValidReferral
{
    ValidReferral(
        referralId: id, framework: order == nil ? .voluntary : .childProtection, urgency: .normal, area: area,
        referrer: .init(organisation: "Veilig Thuis"), courtOrder: order,
        members: children.map { name, born in
            .init(memberRef: name, role: .child, givenName: name, familyName: "Jansen", birthDate: CalendarDate(born))
        })
}

private func key(_ name: String, _ born: String) -> String {
    FamilyIdentity.childKey(givenName: name, familyName: "Jansen", birthDate: CalendarDate(born)!)
}

/// Case ids 1, 2, 3 … in the order the triage asks for them.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 100
    func make() -> UUID {
        lock.withLock {
            next += 1
            return id(next)
        }
    }
}

@Suite("Referral triage")
struct ReferralTriageTests {
    @Test("the same source and referral id twice, in one batch or after an earlier one, is one referral")
    func sameReferralIsOne() {
        var snapshot = ReferralTriage.Snapshot()
        snapshot.referrals[.init(source: "/vt", referralId: "old")] = id(1)
        let counter = Counter()
        var triage = ReferralTriage(snapshot: snapshot, makeId: counter.make)
        #expect(triage.decide(referral("old", children: [("Sanne", "2015-04-02")]), source: "/vt", now: now) == .alreadyReceived(caseId: id(1)))
        guard case .open(let caseId, _, true, nil) = triage.decide(referral("new", children: [("Tim", "2016-01-01")]), source: "/vt", now: now) else {
            Issue.record("a new family opens a case")
            return
        }
        #expect(triage.decide(referral("new", children: [("Tim", "2016-01-01")]), source: "/vt", now: now) == .alreadyReceived(caseId: caseId))
        // Another integrator's referral with the same id is another referral (of the same family: it joins).
        #expect(
            triage.decide(referral("new", children: [("Tim", "2016-01-01")]), source: "/gemeente", now: now)
                == .join(caseId: caseId, familyId: id(102), newCourtOrder: false))
    }

    @Test("a child of an open case, in the database or earlier in the batch, joins that case")
    func joinsOpenCase() {
        var snapshot = ReferralTriage.Snapshot()
        snapshot.openCases[key("Sanne", "2015-04-02")] = [.init(caseId: id(1), familyId: id(2), openedAt: now.addingTimeInterval(-99))]
        var triage = ReferralTriage(snapshot: snapshot, makeId: Counter().make)
        #expect(
            triage.decide(referral("a", children: [("Sanne", "2015-04-02"), ("Bram", "2017-03-03")]), source: "/vt", now: now)
                == .join(caseId: id(1), familyId: id(2), newCourtOrder: false))
        // Bram is a member of that family now: a referral naming only him joins it too.
        #expect(
            triage.decide(referral("b", children: [("Bram", "2017-03-03")]), source: "/vt", now: now)
                == .join(caseId: id(1), familyId: id(2), newCourtOrder: false))
    }

    @Test("children of two open cases: the earliest opened case is joined")
    func earliestOpenCaseWins() {
        var snapshot = ReferralTriage.Snapshot()
        snapshot.openCases[key("Sanne", "2015-04-02")] = [.init(caseId: id(1), familyId: id(2), openedAt: now.addingTimeInterval(-10))]
        snapshot.openCases[key("Bram", "2017-03-03")] = [.init(caseId: id(3), familyId: id(4), openedAt: now.addingTimeInterval(-20))]
        var triage = ReferralTriage(snapshot: snapshot, makeId: Counter().make)
        #expect(
            triage.decide(referral("a", children: [("Sanne", "2015-04-02"), ("Bram", "2017-03-03")]), source: "/vt", now: now)
                == .join(caseId: id(3), familyId: id(4), newCourtOrder: false))
    }

    @Test("a family whose case closed within the window reopens as a re-referral of its latest case")
    func reReferral() {
        var snapshot = ReferralTriage.Snapshot()
        let older = ReferralTriage.ClosedCase(caseId: id(1), familyId: id(9), managerId: "fm-a", closedAt: now.addingTimeInterval(-300 * 86400))
        let latest = ReferralTriage.ClosedCase(caseId: id(2), familyId: id(9), managerId: "fm-b", closedAt: now.addingTimeInterval(-30 * 86400))
        snapshot.closedCases[key("Sanne", "2015-04-02")] = [older, latest]
        var triage = ReferralTriage(snapshot: snapshot, makeId: Counter().make)
        #expect(
            triage.decide(referral("a", children: [("Sanne", "2015-04-02")]), source: "/vt", now: now)
                == .open(caseId: id(101), familyId: id(9), newFamily: false, previous: latest))
        // Its new case is open now: the next referral joins it.
        #expect(
            triage.decide(referral("b", children: [("Sanne", "2015-04-02")]), source: "/vt", now: now)
                == .join(caseId: id(101), familyId: id(9), newCourtOrder: false))
    }

    @Test("a court order is new to a case once; the same order again changes nothing")
    func courtOrderOnce() {
        let order = ValidReferral.CourtOrder(decidedOn: CalendarDate("2026-01-01")!, endsOn: CalendarDate("2027-01-01")!)
        let extended = ValidReferral.CourtOrder(decidedOn: CalendarDate("2026-01-01")!, endsOn: CalendarDate("2027-07-01")!)
        var snapshot = ReferralTriage.Snapshot()
        snapshot.openCases[key("Sanne", "2015-04-02")] = [.init(caseId: id(1), familyId: id(2), openedAt: now)]
        var triage = ReferralTriage(snapshot: snapshot, makeId: Counter().make)
        let sanne = [("Sanne", "2015-04-02")]
        #expect(triage.decide(referral("a", children: sanne, order: order), source: "/vt", now: now) == .join(caseId: id(1), familyId: id(2), newCourtOrder: true))
        #expect(triage.decide(referral("b", children: sanne, order: order), source: "/vt", now: now) == .join(caseId: id(1), familyId: id(2), newCourtOrder: false))
        #expect(triage.decide(referral("c", children: sanne, order: extended), source: "/vt", now: now) == .join(caseId: id(1), familyId: id(2), newCourtOrder: true))
        #expect(triage.decide(referral("d", children: sanne), source: "/vt", now: now) == .join(caseId: id(1), familyId: id(2), newCourtOrder: false))
    }
}
