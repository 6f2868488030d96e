import Foundation
import IntakeService
import SamenplanDomain
import Testing

// MARK: - Fixtures

private let today = CalendarDate("2026-06-01")!

private func parse(_ text: String) -> JSON {
    try! JSONCoding.decoder.decode(JSON.self, from: Data(text.utf8))
}

/// A valid child-protection referral: a parent, a child and another carer without a birth date.
private let validReferral = parse(
    """
    {
      "referralId": "  VT-2026-000123 ",
      "framework": "child-protection",
      "urgency": "urgent",
      "area": " Borsele ",
      "referrer": { "organisation": "Veilig Thuis Zeeland", "contact": " Team Oost, 0113-000000 " },
      "courtOrder": { "decidedOn": "2026-05-01", "endsOn": "2027-05-01" },
      "members": [
        { "memberRef": "m1", "role": "parent", "givenName": "Marieke", "familyName": "de Vries",
          "birthDate": "1988-11-30" },
        { "memberRef": "m2", "role": "child", "givenName": " Sanne ", "familyName": "de Vries",
          "birthDate": "2015-04-02" },
        { "memberRef": "m3", "role": "carer", "givenName": "Joke", "familyName": "Jansen" }
      ],
      "reason": "Zorgen over de veiligheid thuis.",
      "someFutureField": { "nested": [1, 2, 3] }
    }
    """)

/// A change to a JSON document at a JSON pointer: a new value, or nil to remove the field
/// (or array entry).
private struct Edit: Sendable {
    var pointer: String
    var value: JSON?

    static func set(_ pointer: String, _ value: JSON) -> Edit { Edit(pointer: pointer, value: value) }
    static func remove(_ pointer: String) -> Edit { Edit(pointer: pointer, value: nil) }
    static func set(_ pointer: String, _ text: String) -> Edit { Edit(pointer: pointer, value: .string(text)) }
}

private func applying(_ edits: [Edit], to json: JSON) -> JSON {
    edits.reduce(json) { json, edit in
        let path = edit.pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        return replacing(in: json, path: path[...], with: edit.value)
    }
}

private func replacing(in json: JSON, path: ArraySlice<String>, with value: JSON?) -> JSON {
    guard let key = path.first else { return value ?? .null }
    let rest = path.dropFirst()
    switch json {
    case .object(var fields):
        fields[key] = rest.isEmpty ? value : replacing(in: fields[key] ?? .null, path: rest, with: value)
        return .object(fields)
    case .array(var items):
        let index = Int(key)!
        if rest.isEmpty {
            if let value { items[index] = value } else { items.remove(at: index) }
        } else {
            items[index] = replacing(in: items[index], path: rest, with: value)
        }
        return .array(items)
    default:
        preconditionFailure("cannot descend into \(json.typeName) at \(key)")
    }
}

private struct Hit: Hashable, Sendable, CustomStringConvertible {
    var rule: String
    var pointer: String
    var description: String { "\(rule) at \(pointer)" }
}

private func problems(_ data: JSON) -> [ReferralRejected.Problem] {
    switch ReferralValidator.validate(data, today: today) {
    case .success: []
    case .failure(let failure): failure.problems
    }
}

private func hits(_ data: JSON) -> [Hit] {
    problems(data).map { Hit(rule: $0.rule, pointer: $0.pointer) }
}

private func string(ofLength count: Int) -> JSON { .string(String(repeating: "x", count: count)) }

// MARK: - Valid referrals

@Suite("ReferralValidator")
struct ReferralValidatorTests {
    @Test("a valid referral passes and maps every field")
    func validReferralMapsEveryField() throws {
        let referral = try ReferralValidator.validate(validReferral, today: today).get()
        #expect(referral.referralId == "VT-2026-000123")
        #expect(referral.framework == .childProtection)
        #expect(referral.urgency == .urgent)
        #expect(referral.area == "borsele")
        #expect(referral.referrer == .init(organisation: "Veilig Thuis Zeeland", contact: "Team Oost, 0113-000000"))
        #expect(
            referral.courtOrder
                == .init(decidedOn: CalendarDate("2026-05-01")!, endsOn: CalendarDate("2027-05-01")!))
        #expect(
            referral.members == [
                .init(
                    memberRef: "m1", role: .parent, givenName: "Marieke", familyName: "de Vries",
                    birthDate: CalendarDate("1988-11-30")),
                .init(
                    memberRef: "m2", role: .child, givenName: "Sanne", familyName: "de Vries",
                    birthDate: CalendarDate("2015-04-02")),
                .init(memberRef: "m3", role: .carer, givenName: "Joke", familyName: "Jansen", birthDate: nil),
            ])
        #expect(referral.reason == "Zorgen over de veiligheid thuis.")
        #expect(referral.children.map(\.memberRef) == ["m2"])
        #expect(
            referral.childKeys == [
                FamilyIdentity.childKey(
                    givenName: "Sanne", familyName: "de Vries", birthDate: CalendarDate("2015-04-02")!)
            ])
    }

    @Test("optional fields may be absent, null or blank")
    func optionalFields() throws {
        let data = applying(
            [
                .set("/framework", "voluntary"), .remove("/courtOrder"), .set("/referrer/contact", "   "),
                .set("/reason", .null), .remove("/members/0/birthDate"),
            ], to: validReferral)
        let referral = try ReferralValidator.validate(data, today: today).get()
        #expect(referral.framework == .voluntary)
        #expect(referral.courtOrder == nil)
        #expect(referral.referrer.contact == nil)
        #expect(referral.reason == nil)
        #expect(referral.members[0].birthDate == nil)

        let withNullCourtOrder = applying([.set("/framework", "voluntary"), .set("/courtOrder", .null)], to: validReferral)
        #expect(try ReferralValidator.validate(withNullCourtOrder, today: today).get().courtOrder == nil)
    }

    @Test("a court order on a voluntary referral is allowed and kept")
    func voluntaryKeepsCourtOrder() throws {
        let data = applying([.set("/framework", "voluntary")], to: validReferral)
        let referral = try ReferralValidator.validate(data, today: today).get()
        #expect(referral.courtOrder?.endsOn == CalendarDate("2027-05-01"))
        // …and its dates are still checked.
        let broken = applying([.set("/framework", "voluntary"), .set("/courtOrder/endsOn", "2026-05-01")], to: validReferral)
        #expect(hits(broken) == [Hit(rule: "court-order-dates", pointer: "/courtOrder/endsOn")])
    }

    @Test("juvenile probation with its court order passes")
    func juvenileProbation() throws {
        let data = applying([.set("/framework", "juvenile-probation")], to: validReferral)
        #expect(try ReferralValidator.validate(data, today: today).get().framework == .juvenileProbation)
    }

    @Test("limits are inclusive and a child born today is fine")
    func boundaries() throws {
        var members: [JSON] = []
        for index in 0..<50 {
            members.append(
                parse(#"{"memberRef":"c\#(index)","role":"child","givenName":"A","familyName":"B","birthDate":"2026-06-01"}"#))
        }
        let data = applying(
            [
                .set("/referralId", string(ofLength: 100)), .set("/area", string(ofLength: 100)),
                .set("/referrer/organisation", string(ofLength: 200)), .set("/referrer/contact", string(ofLength: 200)),
                .set("/reason", string(ofLength: 4000)), .set("/members", .array(members)),
                .set("/members/0/memberRef", string(ofLength: 50)), .set("/members/0/givenName", string(ofLength: 200)),
                .set("/members/0/familyName", string(ofLength: 200)),
            ], to: validReferral)
        let referral = try ReferralValidator.validate(data, today: today).get()
        #expect(referral.members.count == 50)
        #expect(referral.children.count == 50)
    }

    @Test("lengths count characters (code points), not bytes")
    func lengthCountsCharacters() throws {
        let data = applying([.set("/members/1/givenName", .string(String(repeating: "ë", count: 200)))], to: validReferral)
        #expect(try ReferralValidator.validate(data, today: today).get().members[1].givenName.count == 200)
    }

    // MARK: - One rule at a time

    fileprivate struct RuleCase: Sendable, CustomTestStringConvertible {
        var label: String
        var edits: [Edit]
        var expected: [Hit]
        var testDescription: String { label }

        init(_ label: String, _ edits: [Edit], _ rule: String, _ pointer: String) {
            self.init(label, edits, [Hit(rule: rule, pointer: pointer)])
        }

        init(_ label: String, _ edits: [Edit], _ expected: [Hit]) {
            self.label = label
            self.edits = edits
            self.expected = expected
        }
    }

    fileprivate static let ruleCases: [RuleCase] = [
        // required
        .init("referralId missing", [.remove("/referralId")], "required", "/referralId"),
        .init("referralId null", [.set("/referralId", .null)], "required", "/referralId"),
        .init("referralId blank", [.set("/referralId", " \t\n ")], "required", "/referralId"),
        .init("framework missing", [.remove("/framework")], "required", "/framework"),
        .init("urgency missing", [.remove("/urgency")], "required", "/urgency"),
        .init("area missing", [.remove("/area")], "required", "/area"),
        .init("area empty", [.set("/area", "")], "required", "/area"),
        .init("referrer missing", [.remove("/referrer")], "required", "/referrer"),
        .init("organisation missing", [.remove("/referrer/organisation")], "required", "/referrer/organisation"),
        .init("members missing", [.remove("/members")], "required", "/members"),
        .init("memberRef missing", [.remove("/members/0/memberRef")], "required", "/members/0/memberRef"),
        .init("role missing", [.remove("/members/0/role")], "required", "/members/0/role"),
        .init("givenName missing", [.remove("/members/2/givenName")], "required", "/members/2/givenName"),
        .init("familyName blank", [.set("/members/2/familyName", "  ")], "required", "/members/2/familyName"),
        .init("child's birthDate missing", [.remove("/members/1/birthDate")], "required", "/members/1/birthDate"),
        .init("child's birthDate null", [.set("/members/1/birthDate", .null)], "required", "/members/1/birthDate"),
        .init("decidedOn missing", [.remove("/courtOrder/decidedOn")], "required", "/courtOrder/decidedOn"),
        .init("endsOn missing", [.remove("/courtOrder/endsOn")], "required", "/courtOrder/endsOn"),
        // type
        .init("referralId a number", [.set("/referralId", .number(42))], "type", "/referralId"),
        .init("framework a boolean", [.set("/framework", .bool(true))], "type", "/framework"),
        .init("area an array", [.set("/area", .array([]))], "type", "/area"),
        .init("referrer a string", [.set("/referrer", "Veilig Thuis")], "type", "/referrer"),
        .init("contact a number", [.set("/referrer/contact", .number(1))], "type", "/referrer/contact"),
        .init("courtOrder an array", [.set("/courtOrder", .array([]))], "type", "/courtOrder"),
        .init("members an object", [.set("/members", .object([:]))], "type", "/members"),
        .init("a member is a string", [.set("/members/0", "m1")], "type", "/members/0"),
        .init("a member is null", [.set("/members/2", .null)], "type", "/members/2"),
        .init("birthDate a number", [.set("/members/1/birthDate", .number(20_150_402))], "type", "/members/1/birthDate"),
        .init("reason an object", [.set("/reason", .object([:]))], "type", "/reason"),
        // enum
        .init("unknown framework", [.set("/framework", "preventive")], "enum", "/framework"),
        .init("framework in capitals", [.set("/framework", "Voluntary")], "enum", "/framework"),
        .init("unknown urgency", [.set("/urgency", "high")], "enum", "/urgency"),
        .init("unknown role", [.set("/members/2/role", "grandparent")], "enum", "/members/2/role"),
        // length
        .init("referralId too long", [.set("/referralId", string(ofLength: 101))], "length", "/referralId"),
        .init("area too long", [.set("/area", string(ofLength: 101))], "length", "/area"),
        .init(
            "organisation too long", [.set("/referrer/organisation", string(ofLength: 201))], "length",
            "/referrer/organisation"),
        .init("contact too long", [.set("/referrer/contact", string(ofLength: 201))], "length", "/referrer/contact"),
        .init("givenName too long", [.set("/members/1/givenName", string(ofLength: 201))], "length", "/members/1/givenName"),
        .init(
            "familyName too long", [.set("/members/1/familyName", string(ofLength: 201))], "length",
            "/members/1/familyName"),
        .init("memberRef too long", [.set("/members/0/memberRef", string(ofLength: 51))], "length", "/members/0/memberRef"),
        .init("reason too long", [.set("/reason", string(ofLength: 4001))], "length", "/reason"),
        .init(
            "no members at all", [.set("/members", .array([]))],
            [Hit(rule: "length", pointer: "/members"), Hit(rule: "child-required", pointer: "/members")]),
        .init(
            "51 members",
            [
                .set(
                    "/members",
                    .array(
                        (0..<51).map { index in
                            parse(
                                #"{"memberRef":"c\#(index)","role":"child","givenName":"A","familyName":"B","birthDate":"2020-01-01"}"#
                            )
                        }))
            ], "length", "/members"),
        // child-required
        .init("no child", [.set("/members/1/role", "parent")], "child-required", "/members"),
        // member-ref-unique
        .init("memberRef repeated", [.set("/members/2/memberRef", " m1 ")], "member-ref-unique", "/members/2/memberRef"),
        // date-format
        .init("30 February", [.set("/members/1/birthDate", "2015-02-30")], "date-format", "/members/1/birthDate"),
        .init("29 February of a common year", [.set("/members/1/birthDate", "2015-02-29")], "date-format", "/members/1/birthDate"),
        .init("unpadded date", [.set("/members/1/birthDate", "2015-4-2")], "date-format", "/members/1/birthDate"),
        .init("day first", [.set("/members/1/birthDate", "02-04-2015")], "date-format", "/members/1/birthDate"),
        .init("a timestamp", [.set("/members/0/birthDate", "1988-11-30T00:00:00Z")], "date-format", "/members/0/birthDate"),
        .init("month 13", [.set("/courtOrder/decidedOn", "2026-13-01")], "date-format", "/courtOrder/decidedOn"),
        .init("endsOn not a date", [.set("/courtOrder/endsOn", "next year")], "date-format", "/courtOrder/endsOn"),
        // birth-date-future
        .init("child born tomorrow", [.set("/members/1/birthDate", "2026-06-02")], "birth-date-future", "/members/1/birthDate"),
        .init("parent born in the future", [.set("/members/0/birthDate", "2099-01-01")], "birth-date-future", "/members/0/birthDate"),
        // court-order-required
        .init("child protection without court order", [.remove("/courtOrder")], "court-order-required", "/courtOrder"),
        .init(
            "juvenile probation with a null court order", [.set("/framework", "juvenile-probation"), .set("/courtOrder", .null)],
            "court-order-required", "/courtOrder"),
        // court-order-dates
        .init("court order ends the day it was decided", [.set("/courtOrder/endsOn", "2026-05-01")], "court-order-dates", "/courtOrder/endsOn"),
        .init("court order ends before it was decided", [.set("/courtOrder/endsOn", "2025-05-01")], "court-order-dates", "/courtOrder/endsOn"),
    ]

    @Test("each broken rule is reported with its code and pointer", arguments: ruleCases)
    fileprivate func eachRule(_ ruleCase: RuleCase) {
        let data = applying(ruleCase.edits, to: validReferral)
        #expect(hits(data) == ruleCase.expected)
        for problem in problems(data) {
            #expect(!problem.detail.isEmpty)
        }
    }

    @Test("data that is not an object is data-object", arguments: [JSON.null, .array([]), .string("{}"), .number(1), .bool(true)])
    func dataObject(_ data: JSON) {
        #expect(hits(data) == [Hit(rule: "data-object", pointer: "")])
        #expect(problems(data).first?.detail == "data must be a JSON object, got \(data.typeName)")
    }

    @Test("type and enum details say what was expected")
    func typeAndEnumDetails() {
        let data = applying([.set("/referralId", .number(42)), .set("/framework", "preventive")], to: validReferral)
        #expect(
            problems(data).map(\.detail) == [
                "referralId must be of type string, got number",
                "framework must be one of: voluntary, child-protection, juvenile-probation",
            ])
        let roles = applying([.set("/members/0/role", "grandparent")], to: validReferral)
        #expect(problems(roles).map(\.detail) == ["role must be one of: parent, child, carer, other"])
    }

    @Test("every rule code is covered by a test case")
    func everyRuleIsTested() {
        let tested = Set(Self.ruleCases.flatMap { $0.expected.map(\.rule) }).union(["data-object"])
        #expect(tested == Set(ReferralValidator.Rule.referralRules.map(\.rawValue)))
    }

    // MARK: - Many problems at once

    @Test("a referral breaking several rules gets all of them, in field order")
    func collectsEveryProblem() {
        let data = applying(
            [
                .set("/referralId", .number(7)),
                .set("/framework", "juvenile-probation"),
                .remove("/courtOrder"),
                .set("/urgency", "whenever"),
                .remove("/area"),
                .set("/referrer/organisation", ""),
                .set("/members/0/role", "child"), .set("/members/0/birthDate", "2030-01-01"),
                .set("/members/1/memberRef", "m1"), .set("/members/1/birthDate", "2015-02-30"),
                .set("/members/2/givenName", .bool(false)), .set("/members/2/familyName", string(ofLength: 300)),
                .set("/reason", string(ofLength: 5000)),
            ], to: validReferral)
        let result = ReferralValidator.validate(data, today: today)
        guard case .failure(let failure) = result else {
            Issue.record("expected a rejection")
            return
        }
        #expect(failure.referralId == nil)
        #expect(
            failure.problems.map { Hit(rule: $0.rule, pointer: $0.pointer) } == [
                Hit(rule: "type", pointer: "/referralId"),
                Hit(rule: "enum", pointer: "/urgency"),
                Hit(rule: "required", pointer: "/area"),
                Hit(rule: "required", pointer: "/referrer/organisation"),
                Hit(rule: "court-order-required", pointer: "/courtOrder"),
                Hit(rule: "birth-date-future", pointer: "/members/0/birthDate"),
                Hit(rule: "member-ref-unique", pointer: "/members/1/memberRef"),
                Hit(rule: "date-format", pointer: "/members/1/birthDate"),
                Hit(rule: "type", pointer: "/members/2/givenName"),
                Hit(rule: "length", pointer: "/members/2/familyName"),
                Hit(rule: "length", pointer: "/reason"),
            ])
    }

    @Test("the rejection names the referral when its id was readable")
    func rejectionCarriesReferralId() throws {
        let data = applying([.remove("/courtOrder")], to: validReferral)
        guard case .failure(let failure) = ReferralValidator.validate(data, today: today) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(failure.referralId == "VT-2026-000123")
        let rejected = failure.rejection(eventSource: "/veilig-thuis/zeeland", eventId: "e-1")
        #expect(rejected.eventSource == "/veilig-thuis/zeeland")
        #expect(rejected.eventId == "e-1")
        #expect(rejected.referralId == "VT-2026-000123")
        #expect(rejected.problems == failure.problems)
        // The answer's data encodes as the rejected event's payload.
        let json = try JSON(encoding: rejected)
        #expect(json["problems"]?.arrayValue?.first?["rule"] == .string("court-order-required"))
    }

    // MARK: - Privacy

    @Test("no detail repeats names, contact, reason or other submitted values")
    func detailsCarryNoPersonalData() {
        let personal = [
            "Zwaantje", "Oosterwijk-Hoedemaker", "Kwartelmaan", "Bouwdewijntje", "Grietje", "Zorgenkind",
            "0612345678", "Heel geheime reden", "PERSONAL-REF",
        ]
        let variants: [[Edit]] = [
            // names too long, a repeated personal memberRef, a bad role, a bad date, a long reason
            [
                .set("/members/0/givenName", .string(String(repeating: "Zwaantje", count: 30))),
                .set("/members/0/familyName", .string(String(repeating: "Oosterwijk-Hoedemaker", count: 10))),
                .set("/members/0/memberRef", "PERSONAL-REF"), .set("/members/1/memberRef", "PERSONAL-REF"),
                .set("/members/2/role", "Kwartelmaan"), .set("/members/2/birthDate", "Bouwdewijntje"),
                .set("/referrer/contact", .string(String(repeating: "0612345678", count: 30))),
                .set("/reason", .string(String(repeating: "Heel geheime reden. ", count: 300))),
                .set("/framework", "Grietje"), .set("/urgency", "Zorgenkind"),
            ],
            // valid names and reason, other rules broken
            [
                .set("/members/1/givenName", "Zwaantje"), .set("/members/1/familyName", "Oosterwijk-Hoedemaker"),
                .set("/members/1/birthDate", "2099-12-31"), .set("/reason", "Heel geheime reden"),
                .set("/courtOrder/endsOn", "2020-01-01"), .set("/members/0/role", "child"),
                .remove("/members/0/birthDate"), .remove("/area"), .set("/members/2/memberRef", "m2"),
            ],
        ]
        for edits in variants {
            let found = problems(applying(edits, to: validReferral))
            #expect(found.count >= 5)
            for problem in found {
                for value in personal {
                    #expect(!problem.detail.contains(value), "\(problem.rule) at \(problem.pointer) repeats a value")
                }
            }
        }
    }
}

// MARK: - Family identity

@Suite("FamilyIdentity")
struct FamilyIdentityTests {
    let birthDate = CalendarDate("2015-04-02")!

    @Test("the same child despite case, accents and whitespace")
    func sameChild() {
        let plain = FamilyIdentity.childKey(givenName: "Sanne", familyName: "de Vries", birthDate: birthDate)
        let messy = FamilyIdentity.childKey(givenName: " SANNE ", familyName: " De  Vriës ", birthDate: birthDate)
        #expect(plain == messy)
        #expect(plain == "sanne|de vries|2015-04-02")
    }

    @Test("another birth date is another child")
    func otherBirthDate() {
        let one = FamilyIdentity.childKey(givenName: "Sanne", familyName: "de Vries", birthDate: birthDate)
        let other = FamilyIdentity.childKey(
            givenName: "Sanne", familyName: "de Vries", birthDate: CalendarDate("2015-04-03")!)
        #expect(one != other)
    }

    @Test("another name is another child, and the parts cannot run into each other")
    func otherNames() {
        let key = { (given: String, family: String) in
            FamilyIdentity.childKey(givenName: given, familyName: family, birthDate: CalendarDate("2015-04-02")!)
        }
        #expect(key("Sanne", "de Vries") != key("Sanna", "de Vries"))
        #expect(key("Sanne de", "Vries") != key("Sanne", "de Vries"))
        #expect(key("a|b", "c") != key("a", "b|c"))
    }

    @Test("decomposed accents, typographic apostrophes and tabs compare equal")
    func unicodeVariants() {
        let key = { (given: String, family: String) in
            FamilyIdentity.childKey(givenName: given, familyName: family, birthDate: CalendarDate("2015-04-02")!)
        }
        #expect(key("Zoë", "D’Hondt") == key("Zoe\u{308}", "d'hondt"))
        #expect(key("Jan\tWillem", "Straße") == key("jan willem", "STRASSE"))
    }

    @Test("a valid referral's child key matches a messy resubmission")
    func referralChildKeys() throws {
        let resubmitted = applying(
            [.set("/members/1/givenName", " SANNE "), .set("/members/1/familyName", " De  Vriës ")], to: validReferral)
        let first = try ReferralValidator.validate(validReferral, today: today).get()
        let second = try ReferralValidator.validate(resubmitted, today: today).get()
        #expect(first.childKeys == second.childKeys)
        #expect(first.members[0].childKey == nil)  // a parent has no child key
    }
}

// MARK: - Calendar dates

@Suite("CalendarDate")
struct CalendarDateTests {
    @Test("rejects what is not a yyyy-MM-dd calendar date",
        arguments: [
            "2026-02-30", "2025-02-29", "1900-02-29", "2026-1-5", "", "2026-04-31", "2026-00-10", "2026-01-00",
            "0000-01-01", "2026/01/05", " 2026-01-05", "2026-01-05 ", "2026-01-05T00:00:00Z", "２０２６-01-05",
            "+2026-01-5", "20260105",
        ])
    func rejects(_ text: String) {
        #expect(CalendarDate(text) == nil)
    }

    @Test("accepts real dates, leap days included", arguments: ["2024-02-29", "2000-02-29", "2026-01-05", "0001-01-01", "9999-12-31"])
    func accepts(_ text: String) throws {
        let date = try #require(CalendarDate(text))
        #expect(date.description == text)
    }

    @Test("parts, order and text form")
    func partsAndOrder() throws {
        let date = try #require(CalendarDate("2024-02-29"))
        #expect((date.year, date.month, date.day) == (2024, 2, 29))
        #expect(CalendarDate(year: 2026, month: 2, day: 30) == nil)
        #expect(CalendarDate(year: 7, month: 3, day: 9)?.description == "0007-03-09")
        #expect(CalendarDate("2024-02-29")! < CalendarDate("2024-03-01")!)
        #expect(CalendarDate("2023-12-31")! < CalendarDate("2024-01-01")!)
        #expect(CalendarDate("2024-01-10")! > CalendarDate("2024-01-09")!)
        #expect(!(CalendarDate("2024-01-10")! < CalendarDate("2024-01-10")!))
    }

    @Test("encodes as its string and decodes only valid dates")
    func codable() throws {
        let date = try #require(CalendarDate("2015-04-02"))
        #expect(try JSON(encoding: date) == .string("2015-04-02"))
        #expect(try JSON.string("2015-04-02").decode(CalendarDate.self) == date)
        #expect(throws: DecodingError.self) { try JSON.string("2015-02-30").decode(CalendarDate.self) }
        let member = ValidReferral.Member(
            memberRef: "m1", role: .child, givenName: "A", familyName: "B", birthDate: date)
        #expect(try JSON(encoding: member)["birthDate"] == .string("2015-04-02"))
    }

    @Test("the date of an instant depends on the time zone")
    func fromInstant() throws {
        let instant = try #require(Timestamp.parse("2026-03-31T22:30:00Z"))
        #expect(CalendarDate(instant, in: try #require(TimeZone(identifier: "Europe/Amsterdam"))) == CalendarDate("2026-04-01"))
        #expect(CalendarDate(instant, in: try #require(TimeZone(identifier: "UTC"))) == CalendarDate("2026-03-31"))
    }
}
