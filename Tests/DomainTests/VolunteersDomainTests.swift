import Foundation
import SamenplanDomain
import Testing
import VolunteersDomain

// The volunteer centre's rules (issue 5): certificate ages, eligibility, the ranked shortlist
// with its reasons, weekly slots, the consultation rhythm and agenda. Every expected date,
// score and order below is worked out by hand, not by the code under test.

private func date(_ text: String) -> CalendarDate { CalendarDate(text)! }

private let today = date("2026-05-15")
private let policy = CertificatePolicy()
/// Issued 2025-01-10: runs out 2028-01-10, far beyond the warning window on `today`.
private let freshCertificate = date("2025-01-10")
/// Issued 2023-06-20: runs out 2026-06-20, 36 days after `today`, inside the 60-day window.
private let expiringCertificate = date("2023-06-20")
/// Issued 2023-05-01: ran out 2026-05-01.
private let expiredCertificate = date("2023-05-01")

private func slot(_ text: String) -> WeeklySlot { WeeklySlot(text)! }

// MARK: - Calendar arithmetic

@Suite("VolunteersDomain: calendar arithmetic")
struct VolunteersDomainCalendarTests {
    @Test("days and months added by hand")
    func handWorked() {
        #expect(date("2026-05-15").addingDays(-60) == date("2026-03-16"))
        #expect(date("2024-02-28").addingDays(1) == date("2024-02-29"))
        #expect(date("2025-02-28").addingDays(1) == date("2025-03-01"))
        #expect(date("2025-12-31").addingDays(1) == date("2026-01-01"))
        #expect(date("2024-01-31").addingMonths(1) == date("2024-02-29"))
        #expect(date("2024-02-29").addingMonths(12) == date("2025-02-28"))
        #expect(date("2026-03-31").addingMonths(-1) == date("2026-02-28"))
        #expect(date("2026-01-15").addingMonths(-13) == date("2024-12-15"))
        #expect(date("2002-03-29").addingMonths(-25) == date("2000-02-29"))
        #expect(date("2000-03-31").addingMonths(-25) == date("1998-02-28"))
        #expect(date("2026-04-30").days(until: date("2026-05-15")) == 15)
        #expect(date("2026-05-15").days(until: date("2026-04-30")) == -15)
        #expect(date("2024-01-01").days(until: date("2025-01-01")) == 366)
    }

    @Test("the ends of the calendar saturate instead of failing")
    func saturation() {
        #expect(date("9999-12-31").addingDays(1) == date("9999-12-31"))
        #expect(date("0001-01-01").addingDays(-1) == date("0001-01-01"))
        #expect(date("9999-06-15").addingMonths(36) == date("9999-12-31"))
        #expect(date("0001-03-15").addingMonths(-3) == date("0001-01-01"))
    }

    @Test("agrees with Foundation's Gregorian calendar over three decades")
    func agreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func instant(_ day: CalendarDate) -> Date {
            calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))!
        }
        var day = date("1999-01-01")
        while day < date("2030-12-31") {
            for offset in [-400, -61, -1, 1, 29, 365, 1_000] {
                let expected = CalendarDate(calendar.date(byAdding: .day, value: offset, to: instant(day))!, in: calendar.timeZone)
                #expect(day.addingDays(offset) == expected, "\(day) + \(offset) days")
                #expect(day.days(until: expected) == offset)
            }
            // Not over a year backwards: Foundation there steps years and months separately and
            // clamps twice (2002-03-29 - 25 months gives it 2000-02-28, not 2000-02-29).
            for months in [-11, -1, 1, 3, 11, 12, 36] {
                let expected = CalendarDate(
                    calendar.date(byAdding: .month, value: months, to: instant(day))!, in: calendar.timeZone)
                #expect(day.addingMonths(months) == expected, "\(day) + \(months) months")
            }
            day = day.addingDays(13)
        }
    }
}

// MARK: - Certificate of conduct

@Suite("VolunteersDomain: certificate of conduct")
struct VolunteersDomainCertificateTests {
    @Test("a certificate counts up to the day before its third anniversary")
    func threeYears() {
        let issued = date("2023-05-15")
        #expect(policy.expiresOn(issuedOn: issued) == date("2026-05-15"))
        #expect(policy.standing(issuedOn: issued, on: date("2023-05-15")) == .valid(expiresOn: date("2026-05-15")))
        #expect(
            policy.standing(issuedOn: issued, on: date("2026-05-14"))
                == .expiringSoon(expiresOn: date("2026-05-15"), daysLeft: 1))
        #expect(policy.standing(issuedOn: issued, on: date("2026-05-15")) == .expired(expiredOn: date("2026-05-15")))
        #expect(policy.standing(issuedOn: issued, on: date("2027-01-01")) == .expired(expiredOn: date("2026-05-15")))
        #expect(policy.allowsMatching(issuedOn: issued, on: date("2026-05-14")))
        #expect(!policy.allowsMatching(issuedOn: issued, on: date("2026-05-15")))
    }

    @Test("the warning window opens 60 days before the certificate runs out")
    func warningWindow() {
        let issued = date("2023-05-15")
        #expect(policy.warnOn(issuedOn: issued) == date("2026-03-16"))
        #expect(policy.standing(issuedOn: issued, on: date("2026-03-15")) == .valid(expiresOn: date("2026-05-15")))
        #expect(
            policy.standing(issuedOn: issued, on: date("2026-03-16"))
                == .expiringSoon(expiresOn: date("2026-05-15"), daysLeft: 60))
        #expect(policy.allowsMatching(issuedOn: issued, on: date("2026-03-16")), "the warning window still counts")
        #expect(CertificateStanding.expiringSoon(expiresOn: date("2026-05-15"), daysLeft: 60).code == "expiring-soon")
    }

    @Test("a certificate issued on a leap day runs out on the last day of February")
    func leapDay() {
        let issued = date("2024-02-29")
        #expect(policy.expiresOn(issuedOn: issued) == date("2027-02-28"))
        #expect(policy.warnOn(issuedOn: issued) == date("2026-12-30"))
    }

    @Test("a missing certificate, or one dated after today, does not count")
    func missing() {
        #expect(policy.standing(issuedOn: nil, on: today) == .missing)
        #expect(policy.standing(issuedOn: date("2026-05-16"), on: today) == .missing)
        #expect(!policy.allowsMatching(issuedOn: nil, on: today))
        #expect(!policy.allowsStart(issuedOn: nil, on: today))
        #expect(!policy.allowsStart(issuedOn: date("2026-05-16"), on: today))
    }

    @Test("to start, the certificate must have been issued in the last three months")
    func start() {
        let issued = date("2026-02-15")
        #expect(policy.allowsStart(issuedOn: issued, on: issued))
        #expect(policy.allowsStart(issuedOn: issued, on: date("2026-05-14")))
        #expect(!policy.allowsStart(issuedOn: issued, on: date("2026-05-15")))
        #expect(policy.allowsMatching(issuedOn: issued, on: date("2026-05-15")), "too old to start is not too old to match")
        // Three months from the end of November end on the last day of February.
        #expect(policy.allowsStart(issuedOn: date("2025-11-30"), on: date("2026-02-27")))
        #expect(!policy.allowsStart(issuedOn: date("2025-11-30"), on: date("2026-02-28")))
    }

    @Test("a configured policy moves every boundary, and an expired certificate never starts")
    func configured() {
        let yearly = CertificatePolicy(maxAgeMonths: 12, maxAgeAtStartMonths: 2, warningDays: 30)
        #expect(yearly.expiresOn(issuedOn: date("2026-01-01")) == date("2027-01-01"))
        #expect(yearly.warnOn(issuedOn: date("2026-01-01")) == date("2026-12-02"))
        #expect(yearly.standing(issuedOn: date("2026-01-01"), on: date("2026-12-01")) == .valid(expiresOn: date("2027-01-01")))
        let odd = CertificatePolicy(maxAgeMonths: 1, maxAgeAtStartMonths: 3)
        #expect(!odd.allowsStart(issuedOn: date("2026-01-01"), on: date("2026-02-01")), "expired, though within the start window")
        #expect(odd.allowsStart(issuedOn: date("2026-01-01"), on: date("2026-01-31")))
    }
}

// MARK: - Eligibility

/// Meets every rule on `today` for `practicalNeed`.
private let ready = VolunteerProfile(
    id: "v-ready", status: .active, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Baarland"],
    helpKinds: [.practical], activeAssignments: 1)
private let practicalNeed = HelpNeed(helpRequestId: "hr-1", area: "Baarland", kind: .practical)

private func unmet(_ change: (inout VolunteerProfile) -> Void, need: HelpNeed = practicalNeed) -> [String] {
    var volunteer = ready
    change(&volunteer)
    return Eligibility.unmet(volunteer: volunteer, need: need, on: today, policy: policy).map(\.rule)
}

private func unmetToStart(_ change: (inout VolunteerProfile) -> Void) -> [String] {
    var volunteer = ready
    change(&volunteer)
    return Eligibility.unmetToStart(volunteer: volunteer, on: today, policy: policy).map(\.rule)
}

@Suite("VolunteersDomain: eligibility")
struct VolunteersDomainEligibilityTests {
    @Test("an active, consenting, certified volunteer with room who offers the help is eligible")
    func eligible() {
        #expect(unmet { _ in }.isEmpty)
        #expect(unmet { $0.areas = ["Kwadendamme"] }.isEmpty, "area is a score, not a rule")
        #expect(unmet { $0.certificateIssuedOn = expiringCertificate }.isEmpty, "the warning window still counts")
    }

    @Test("only active volunteers are matched")
    func status() {
        for status in [VolunteerStatus.applicant, .paused, .stopped] {
            #expect(unmet { $0.status = status } == ["status"])
            var volunteer = ready
            volunteer.status = status
            let detail = Eligibility.unmet(volunteer: volunteer, need: practicalNeed, on: today, policy: policy)[0].detail
            #expect(detail.contains(status.rawValue))
        }
    }

    @Test("no consent to store their data, no match")
    func consent() {
        #expect(unmet { $0.consentGiven = false } == ["consent"])
    }

    @Test("a missing or expired certificate rules the volunteer out")
    func certificate() {
        #expect(unmet { $0.certificateIssuedOn = nil } == ["certificate-missing"])
        #expect(unmet { $0.certificateIssuedOn = expiredCertificate } == ["certificate-expired"])
        #expect(unmet { $0.certificateIssuedOn = date("2023-05-16") }.isEmpty, "runs out tomorrow")
        #expect(unmet { $0.certificateIssuedOn = date("2023-05-15") } == ["certificate-expired"], "ran out today")
        var volunteer = ready
        volunteer.certificateIssuedOn = expiredCertificate
        let detail = Eligibility.unmet(volunteer: volunteer, need: practicalNeed, on: today, policy: policy)[0].detail
        #expect(detail.contains("2026-05-01"))
    }

    @Test("the volunteer must offer the kind of help asked for")
    func helpKind() {
        #expect(unmet { $0.helpKinds = [.longTerm] } == ["help-kind"])
        #expect(unmet { $0.helpKinds = [] } == ["help-kind"])
        var longTerm = practicalNeed
        longTerm.kind = .longTerm
        #expect(unmet({ _ in }, need: longTerm) == ["help-kind"])
        #expect(unmet({ $0.helpKinds = [.practical, .longTerm] }, need: longTerm).isEmpty)
    }

    @Test("a volunteer at their maximum of assignments takes on no more")
    func load() {
        #expect(unmet { $0.activeAssignments = 2 } == ["load"])
        #expect(unmet { $0.activeAssignments = 5 } == ["load"])
        #expect(unmet { $0.activeAssignments = 2; $0.maxAssignments = 3 }.isEmpty)
        #expect(unmet { $0.activeAssignments = 0; $0.maxAssignments = 0 } == ["load"])
    }

    @Test("every unmet rule is named, in a fixed order")
    func allAtOnce() {
        let rules = unmet {
            $0.status = .applicant
            $0.consentGiven = false
            $0.certificateIssuedOn = nil
            $0.helpKinds = []
            $0.activeAssignments = 2
        }
        #expect(rules == ["status", "consent", "certificate-missing", "help-kind", "load"])
        #expect(Set(Ineligibility.Rule.allCases.map(\.rawValue)).isSuperset(of: rules))
    }

    @Test("to start, the certificate must also be at most three months old")
    func start() {
        #expect(unmetToStart { $0.certificateIssuedOn = date("2026-03-01") }.isEmpty)
        #expect(unmetToStart { $0.certificateIssuedOn = date("2026-02-16") }.isEmpty)
        #expect(unmetToStart { $0.certificateIssuedOn = date("2026-02-15") } == ["certificate-too-old-to-start"])
        #expect(unmetToStart { _ in } == ["certificate-too-old-to-start"], "a certificate from 2025")
        #expect(unmetToStart { $0.certificateIssuedOn = expiredCertificate } == ["certificate-expired"])
        #expect(unmetToStart { $0.certificateIssuedOn = nil } == ["certificate-missing"])
        #expect(
            unmetToStart {
                $0.status = .paused
                $0.certificateIssuedOn = date("2026-05-01")
                $0.activeAssignments = 2
            } == ["status", "load"])
        #expect(unmetToStart { $0.certificateIssuedOn = date("2026-05-01"); $0.helpKinds = [] }.isEmpty, "no request, no kind")
    }
}

// MARK: - Weekly slots

@Suite("VolunteersDomain: weekly slots")
struct VolunteersDomainSlotTests {
    @Test("the text form is <weekday>-<part>, exactly")
    func parsing() {
        #expect(WeeklySlot("monday-morning") == WeeklySlot(.monday, .morning))
        #expect(WeeklySlot("sunday-evening") == WeeklySlot(day: .sunday, part: .evening))
        for text in [
            "", "monday", "Monday-morning", "monday-Morning", " monday-morning", "monday-morning ", "monday-morning-x",
            "monday--morning", "funday-morning", "monday-night", "morning-monday", "monday_morning",
        ] {
            #expect(WeeklySlot(text) == nil, "\(text)")
        }
    }

    @Test("all 21 slots round-trip through text and JSON, in week order")
    func roundTrip() throws {
        #expect(WeeklySlot.allCases.count == 21)
        for slot in WeeklySlot.allCases {
            #expect(WeeklySlot(slot.description) == slot)
        }
        #expect(WeeklySlot.allCases.map(\.description).prefix(4) == ["monday-morning", "monday-afternoon", "monday-evening", "tuesday-morning"])
        #expect(WeeklySlot.allCases.sorted() == WeeklySlot.allCases)
        #expect(slot("monday-evening") < slot("tuesday-morning"))
        #expect(slot("friday-morning") < slot("friday-afternoon"))
        let json = try JSONEncoder().encode([slot("tuesday-evening"), slot("saturday-morning")])
        #expect(String(decoding: json, as: UTF8.self) == #"["tuesday-evening","saturday-morning"]"#)
        #expect(try JSONDecoder().decode([WeeklySlot].self, from: json) == [slot("tuesday-evening"), slot("saturday-morning")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([WeeklySlot].self, from: Data(#"["monday"]"#.utf8)) }
    }

    @Test("overlap counts the shared slots")
    func overlap() {
        let volunteer: Set = [slot("monday-morning"), slot("wednesday-afternoon"), slot("sunday-evening")]
        let family: Set = [slot("monday-morning"), slot("sunday-evening"), slot("friday-evening")]
        #expect(WeeklySlot.overlap(volunteer, family) == 2)
        #expect(volunteer.overlapCount(with: family) == 2)
        #expect(volunteer.overlapCount(with: []) == 0)
        #expect(Set(WeeklySlot.allCases).overlapCount(with: Set(WeeklySlot.allCases)) == 21)
    }
}

// MARK: - Shortlist

private let need = HelpNeed(
    helpRequestId: "hr-1", area: "Baarland", kind: .practical, skills: ["cooking", "driving", "homework", "reading"],
    languages: ["nl", "ar"],
    availability: [
        slot("monday-morning"), slot("wednesday-afternoon"), slot("saturday-morning"), slot("saturday-afternoon"),
        slot("sunday-evening"),
    ])

/// The fixed data set. Scores by hand, factors in the order area, skills, language,
/// availability, load, certificate:
/// - v-anna: 30 + 20 (cooking, driving) + 10 (nl) + 10 (2 slots) + 10 (none) + 10 = 90
/// - v-bram: 30 + 30 (4 skills, capped) + 0 (en only) + 20 (all 5 slots, capped) + 5 (one) + 0 (expiring) = 85
/// - v-cor: 0 (Kwadendamme) + 10 (homework) + 10 + 20 (4 slots) + 10 + 10 = 60
/// - v-eva: 30 + 0 + 10 + 10 (2 slots) + 0 (2 of at most 3) + 10 = 60, after v-cor by id
/// - v-finn (paused), v-gijs (expired certificate), v-hans (long-term help only) would score
///   high but are not eligible for this practical request.
private let volunteers: [VolunteerProfile] = [
    VolunteerProfile(
        id: "v-eva", status: .active, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Baarland"],
        languages: ["nl"], helpKinds: [.practical, .longTerm], availability: [slot("monday-morning"), slot("saturday-morning")],
        activeAssignments: 2, maxAssignments: 3),
    VolunteerProfile(
        id: "v-finn", status: .paused, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Baarland"],
        skills: ["cooking", "driving", "homework", "reading"], languages: ["nl"], helpKinds: [.practical],
        availability: Set(WeeklySlot.allCases)),
    VolunteerProfile(
        id: "v-cor", status: .active, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Kwadendamme"],
        skills: ["homework"], languages: ["ar", "nl"], helpKinds: [.practical],
        availability: [slot("monday-morning"), slot("saturday-morning"), slot("saturday-afternoon"), slot("sunday-evening")]),
    VolunteerProfile(
        id: "v-gijs", status: .active, consentGiven: true, certificateIssuedOn: expiredCertificate, areas: ["Baarland"],
        skills: ["cooking", "driving"], languages: ["nl"], helpKinds: [.practical],
        availability: [slot("monday-morning"), slot("wednesday-afternoon")]),
    VolunteerProfile(
        id: "v-bram", status: .active, consentGiven: true, certificateIssuedOn: expiringCertificate,
        areas: ["Ellewoutsdijk", "Baarland"], skills: ["cooking", "driving", "homework", "reading", "gardening"],
        languages: ["en"], helpKinds: [.practical, .longTerm], availability: Set(WeeklySlot.allCases), activeAssignments: 1),
    VolunteerProfile(
        id: "v-hans", status: .active, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Baarland"],
        skills: ["reading"], languages: ["nl"], helpKinds: [.longTerm]),
    VolunteerProfile(
        id: "v-anna", status: .active, consentGiven: true, certificateIssuedOn: freshCertificate, areas: ["Baarland"],
        skills: ["cooking", "driving", "knitting"], languages: ["nl"], helpKinds: [.practical],
        availability: [slot("monday-morning"), slot("wednesday-afternoon"), slot("friday-evening")]),
]

private func breakdown(_ candidate: Candidate) -> [Int] {
    ScoreReason.Factor.allCases.map { candidate.points(for: $0) }
}

@Suite("VolunteersDomain: shortlist")
struct VolunteersDomainShortlistTests {
    @Test("the fixed data set ranks as worked out by hand")
    func fixedDataSet() {
        let shortlist = Shortlist.rank(volunteers, for: need, on: today, policy: policy)
        #expect(shortlist.map(\.volunteerId) == ["v-anna", "v-bram", "v-cor", "v-eva"])
        #expect(shortlist.map(\.score) == [90, 85, 60, 60])
        #expect(shortlist.map(breakdown) == [
            [30, 20, 10, 10, 10, 10],
            [30, 30, 0, 20, 5, 0],
            [0, 10, 10, 20, 10, 10],
            [30, 0, 10, 10, 0, 10],
        ])
    }

    @Test("ineligible volunteers never appear, however well they fit")
    func ineligibleAbsent() {
        let ids = Set(Shortlist.rank(volunteers, for: need, on: today, policy: policy).map(\.volunteerId))
        #expect(ids.isDisjoint(with: ["v-finn", "v-gijs", "v-hans"]))
        // The same volunteers, made eligible, would lead the list.
        var fixed = volunteers
        for index in fixed.indices {
            fixed[index].status = .active
            fixed[index].certificateIssuedOn = freshCertificate
            fixed[index].helpKinds.insert(.practical)
        }
        let all = Shortlist.rank(fixed, for: need, on: today, policy: policy)
        #expect(all.first?.volunteerId == "v-finn")
        #expect(all.count == 7)
    }

    @Test("equal scores are ordered by volunteer id, whatever the input order")
    func tieBrokenById() {
        for input in [volunteers, Array(volunteers.reversed())] {
            let shortlist = Shortlist.rank(input, for: need, on: today, policy: policy)
            #expect(shortlist.suffix(2).map(\.volunteerId) == ["v-cor", "v-eva"])
            #expect(shortlist.suffix(2).map(\.score) == [60, 60])
        }
        // A limit that cuts between the two keeps the lower id.
        #expect(Shortlist.rank(volunteers, for: need, on: today, policy: policy, limit: 3).map(\.volunteerId) == ["v-anna", "v-bram", "v-cor"])
        #expect(Shortlist.rank(volunteers, for: need, on: today, policy: policy, limit: 0).isEmpty)
        #expect(Shortlist.rank(volunteers, for: need, on: today, policy: policy, limit: 10).count == 4)
    }

    @Test("every candidate has one reason per factor, zero points included, summing to the score")
    func reasonsForEveryFactor() {
        let shortlist = Shortlist.rank(volunteers, for: need, on: today, policy: policy)
        #expect(!shortlist.isEmpty)
        for candidate in shortlist {
            #expect(candidate.reasons.map(\.factor) == ScoreReason.Factor.allCases)
            #expect(candidate.reasons.reduce(0) { $0 + $1.points } == candidate.score)
            #expect(candidate.reasons.allSatisfy { !$0.detail.isEmpty })
        }
        let bram = shortlist[1].reasons
        #expect(bram[1].detail == "Has 4 of the 4 wanted skills: cooking, driving, homework, reading.")
        #expect(bram[2].points == 0 && bram[2].detail == "Speaks none of the wanted languages (ar, nl).")
        #expect(bram[4].detail == "Has 1 active assignment.")
        #expect(bram[5].detail == "The certificate of conduct runs out in 36 days, on 2026-06-20.")
        let cor = shortlist[2].reasons
        #expect(cor[0].points == 0 && cor[0].detail == "Does not help in Baarland, the family's area.")
        #expect(cor[3].detail == "Is free in 4 of the 5 wanted slots: monday-morning, saturday-morning, saturday-afternoon, sunday-evening.")
        #expect(shortlist[0].reasons[0].detail == "Helps in Baarland, the family's area.")
    }

    @Test("the kind of help asked for decides who is on the list")
    func longTermRequest() {
        var longTerm = need
        longTerm.kind = .longTerm
        // v-hans: 30 + 10 (reading) + 10 (nl) + 0 (no slots) + 10 + 10 = 70.
        let shortlist = Shortlist.rank(volunteers, for: longTerm, on: today, policy: policy)
        #expect(shortlist.map(\.volunteerId) == ["v-bram", "v-hans", "v-eva"])
        #expect(shortlist.map(\.score) == [85, 70, 60])
    }

    @Test("a request that wants nothing in particular scores language for everyone and skills and times for no one")
    func emptyWishes() {
        let plain = HelpNeed(helpRequestId: "hr-2", area: "Baarland", kind: .practical)
        let shortlist = Shortlist.rank(volunteers, for: plain, on: today, policy: policy)
        // anna 30+0+10+0+10+10, bram 30+0+10+0+5+0, cor 0+0+10+0+10+10, eva 30+0+10+0+0+10.
        #expect(shortlist.map(\.volunteerId) == ["v-anna", "v-eva", "v-bram", "v-cor"])
        #expect(shortlist.map(\.score) == [60, 50, 45, 30])
        #expect(shortlist[0].reasons[1].detail == "The request asks for no particular skill.")
        #expect(shortlist[0].reasons[3].detail == "The request names no times.")
    }

    @Test("a pool gives exactly the straightforward ranking on generated data")
    func poolMatchesReference() {
        var random = SplitMix(seed: 5)
        let areas = ["Baarland", "Borssele", "Ellewoutsdijk", "Heinkenszand", "Kwadendamme", "Nisse"]
        let skills = (0..<100).map { "skill-\($0)" }  // more than 64: several words per row
        let languages = ["nl", "en", "ar", "tr", "pl", "uk"]
        func pick<T: Hashable>(_ pool: [T], upTo count: Int) -> Set<T> {
            Set((0..<random.next(count + 1)).map { _ in pool[random.next(pool.count)] })
        }
        let people = (0..<400).map { number in
            VolunteerProfile(
                id: "v-\(random.next(150))",  // duplicate ids on purpose
                status: [.active, .active, .active, .paused, .applicant][random.next(5)],
                consentGiven: random.next(10) > 0,
                certificateIssuedOn: random.next(12) == 0 ? nil : today.addingDays(-random.next(1_200)),
                areas: pick(areas, upTo: 2), skills: pick(skills, upTo: 6), languages: pick(languages, upTo: 2),
                helpKinds: pick(HelpKind.allCases, upTo: 2), availability: pick(WeeklySlot.allCases, upTo: 8),
                activeAssignments: random.next(3), maxAssignments: 2 + number % 2)
        }
        let pool = Shortlist.Pool(people, on: today, policy: policy)
        for number in 0..<40 {
            let request = HelpNeed(
                helpRequestId: "hr-\(number)", area: areas[random.next(areas.count)],
                kind: HelpKind.allCases[random.next(2)], skills: pick(skills + ["unknown"], upTo: 4),
                languages: pick(languages, upTo: 2), availability: pick(WeeklySlot.allCases, upTo: 6))
            let reference = people.enumerated()
                .filter { Eligibility.unmet(volunteer: $0.element, need: request, on: today, policy: policy).isEmpty }
                .map { entry in
                    let reasons = Shortlist.reasons(volunteer: entry.element, need: request, on: today, policy: policy)
                    return (offset: entry.offset, candidate: Candidate(
                        volunteerId: entry.element.id, score: reasons.reduce(0) { $0 + $1.points }, reasons: reasons))
                }
                .sorted {
                    ($1.candidate.score, $0.candidate.volunteerId, $0.offset)
                        < ($0.candidate.score, $1.candidate.volunteerId, $1.offset)
                }
                .map(\.candidate)
            #expect(!reference.isEmpty)
            #expect(pool.rank(for: request) == reference, "\(request.helpRequestId)")
            #expect(pool.rank(for: request, limit: 7) == Array(reference.prefix(7)), "\(request.helpRequestId)")
            #expect(Shortlist.rank(people, for: request, on: today, policy: policy) == reference)
        }
    }
}

/// A small deterministic generator, so the generated data set is the same on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    /// A number in 0..<bound.
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}

// MARK: - Case consultation

@Suite("VolunteersDomain: case consultation")
struct VolunteersDomainConsultationTests {
    @Test("a consultation meets every 3 to 6 weeks")
    func rhythmBounds() throws {
        #expect(ConsultationRhythm(weeks: 2) == nil)
        #expect(ConsultationRhythm(weeks: 7) == nil)
        #expect(ConsultationRhythm(weeks: 0) == nil)
        #expect(ConsultationRhythm(weeks: 3)?.weeks == 3)
        #expect(ConsultationRhythm(weeks: 6)?.weeks == 6)
        #expect(ConsultationRhythm(weeks: 4)?.next(after: today) == date("2026-06-12"))
        #expect(ConsultationRhythm(weeks: 3)?.next(after: date("2026-12-17")) == date("2027-01-07"))
        #expect(try JSONDecoder().decode(ConsultationRhythm.self, from: Data("5".utf8)).weeks == 5)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ConsultationRhythm.self, from: Data("8".utf8)) }
    }

    @Test("the agenda lists families with volunteers, open concerns and requests waiting more than two weeks")
    func agenda() {
        let assignments = [
            AgendaAssignment(assignmentId: "a3", caseId: "case-b", volunteerId: "v-1", helpRequestId: "r-3", startedOn: date("2026-03-01")),
            AgendaAssignment(assignmentId: "a1", caseId: "case-b", volunteerId: "v-2", helpRequestId: "r-1", startedOn: date("2026-01-10")),
            AgendaAssignment(assignmentId: "a2", caseId: "case-a", volunteerId: "v-1", helpRequestId: "r-2", startedOn: date("2026-02-01")),
            AgendaAssignment(assignmentId: "a0", caseId: "case-b", volunteerId: "v-3", helpRequestId: "r-0", startedOn: date("2026-01-10")),
        ]
        let concerns = [
            AgendaConcern(concernId: "c2", assignmentId: "a3", caseId: "case-b", raisedOn: date("2026-05-01")),
            AgendaConcern(concernId: "c1", assignmentId: "a2", caseId: "case-a", raisedOn: date("2026-05-01")),
            AgendaConcern(concernId: "c3", assignmentId: "a1", caseId: "case-b", raisedOn: date("2026-04-20")),
        ]
        let requests = [
            AgendaRequest(helpRequestId: "r-13", caseId: "case-c", raisedOn: date("2026-05-02")),  // 13 days
            AgendaRequest(helpRequestId: "r-15", caseId: "case-c", raisedOn: date("2026-04-30")),  // 15 days
            AgendaRequest(helpRequestId: "r-14", caseId: "case-d", raisedOn: date("2026-05-01")),  // exactly 14
            AgendaRequest(helpRequestId: "r-matched", caseId: "case-a", raisedOn: date("2026-03-01"), hasAssignment: true),
            AgendaRequest(helpRequestId: "r-75", caseId: "case-e", raisedOn: date("2026-03-01")),  // 75 days
        ]
        let agenda = ConsultationAgenda.build(
            area: "Baarland", on: today, activeAssignments: assignments, openConcerns: concerns, openRequests: requests)
        #expect(agenda.area == "Baarland" && agenda.date == today)
        #expect(agenda.families.map(\.caseId) == ["case-a", "case-b"])
        #expect(agenda.families.map { $0.assignments.map(\.assignmentId) } == [["a2"], ["a0", "a1", "a3"]])
        #expect(agenda.openConcerns.map(\.concernId) == ["c3", "c1", "c2"])
        #expect(agenda.unmatchedRequests.map(\.helpRequestId) == ["r-75", "r-15"])
        #expect(agenda.unmatchedRequests.map(\.daysWaiting) == [75, 15])
        #expect(!agenda.isEmpty)

        let sooner = ConsultationAgenda.build(
            area: "Baarland", on: today, activeAssignments: [], openConcerns: [], openRequests: requests, unmatchedAfterDays: 12)
        #expect(sooner.unmatchedRequests.map(\.helpRequestId) == ["r-75", "r-15", "r-14", "r-13"])
        #expect(sooner.families.isEmpty && sooner.openConcerns.isEmpty)
    }

    @Test("the same facts in any order give the same agenda; no facts give an empty one")
    func deterministic() {
        let assignments = (0..<6).map {
            AgendaAssignment(
                assignmentId: "a\($0)", caseId: "case-\($0 % 3)", volunteerId: "v-\($0)", helpRequestId: "r-\($0)",
                startedOn: date("2026-01-01").addingDays($0 % 2))
        }
        let requests = (0..<6).map {
            AgendaRequest(helpRequestId: "r-\($0)", caseId: "case-\($0)", raisedOn: date("2026-04-01").addingDays($0 % 2))
        }
        let forward = ConsultationAgenda.build(
            area: "Nisse", on: today, activeAssignments: assignments, openConcerns: [], openRequests: requests)
        let backward = ConsultationAgenda.build(
            area: "Nisse", on: today, activeAssignments: assignments.reversed(), openConcerns: [],
            openRequests: requests.reversed())
        #expect(forward == backward)
        #expect(forward.unmatchedRequests.map(\.helpRequestId) == ["r-0", "r-2", "r-4", "r-1", "r-3", "r-5"])
        #expect(forward.families.first?.assignments.map(\.assignmentId) == ["a0", "a3"])
        #expect(
            ConsultationAgenda.build(area: "Nisse", on: today, activeAssignments: [], openConcerns: [], openRequests: []).isEmpty)
    }
}
