import SamenplanDomain

/// Checks the `data` of a `nl.samenplan.referral.submitted.v1` event against the
/// integrators' contract (DESIGN.md, "Inbound events") and turns it into a ``ValidReferral``.
///
/// The validator is pure: no I/O and no clock (the caller passes `today`). It never stops at
/// the first problem: the rejection names every one, so the integrator can correct the
/// referral and resend it in one go. Problems come in the order of the fields
/// (`referralId`, `framework`, `urgency`, `area`, `referrer`, `courtOrder`, `members`,
/// `reason`; inside a member `memberRef`, `role`, `givenName`, `familyName`, `birthDate`).
///
/// Each problem has a stable `rule` code, a JSON pointer (RFC 6901) into `data` (the empty
/// pointer `""` is `data` itself) and a detail sentence. Details name fields, types, allowed
/// values, limits and lengths but never repeat a submitted value, so they carry no names,
/// contact details or reason text and are safe to publish and to log.
///
/// | rule | pointer (example) | when |
/// |---|---|---|
/// | `data-object` | `""` | `data` is not a JSON object (nothing else is checked then) |
/// | `required` | `/referrer/organisation` | a required field is missing, `null`, `""` or only whitespace: `referralId`, `framework`, `urgency`, `area`, `referrer`, `referrer/organisation`, `members`, and per member `memberRef`, `role`, `givenName`, `familyName`, and `birthDate` for a child; `courtOrder/decidedOn` and `courtOrder/endsOn` when a `courtOrder` is given |
/// | `type` | `/members/0` | a field has the wrong JSON type ("must be of type string, got number") |
/// | `enum` | `/framework` | unknown `framework`, `urgency` or member `role`; the detail lists the allowed values (case-sensitive) |
/// | `length` | `/members/1/givenName` | too long or too short, counted in Unicode code points after trimming: `referralId` 1–100, `area` 1–100, `referrer/organisation` 1–200, `referrer/contact` ≤ 200, `givenName` and `familyName` 1–200, `memberRef` 1–50, `reason` ≤ 4000; `members` 1–50 entries |
/// | `child-required` | `/members` | `members` is an array but no entry has role `child` (also for an empty array) |
/// | `member-ref-unique` | `/members/2/memberRef` | a `memberRef` repeats an earlier member's (compared after trimming, case-sensitive); reported at each repetition |
/// | `date-format` | `/members/0/birthDate` | not a calendar date written `yyyy-MM-dd` (`2026-02-30`, `2026-1-5`, a timestamp) |
/// | `birth-date-future` | `/members/0/birthDate` | a birth date after `today` (born today is fine) |
/// | `court-order-required` | `/courtOrder` | `courtOrder` missing or `null` for `child-protection` or `juvenile-probation` |
/// | `court-order-dates` | `/courtOrder/endsOn` | `endsOn` is not after `decidedOn` |
///
/// Choices the contract leaves open:
/// - A `courtOrder` on a `voluntary` referral is allowed and kept: a family can accept
///   voluntary help while an earlier order is known, and dropping given data silently
///   would surprise the integrator. Its dates are checked like any other court order's.
/// - Unknown fields, at any level, are ignored, so integrators can send newer versions of
///   the contract (forward compatible). Only the fields above are read and kept.
/// - Every string is trimmed of surrounding whitespace before it is checked; an optional
///   string that is empty after trimming (`contact`, `reason`) counts as absent, as does an
///   optional field that is `null`. Codes (`framework`, `urgency`, `role`) and dates are
///   compared exactly after trimming.
/// - `area` is kept lowercased (`Borsele` → `borsele`); names keep their case.
/// - A court order's dates are not compared with `today`: a decision may be dated ahead and
///   an order may already have ended; planning acts on the end date.
/// - A member that is not an object is reported (`type`) and its fields are not checked.
public enum ReferralValidator {
    /// The rule codes of ``ReferralRejected/Problem/rule`` for referrals.
    public enum Rule: String, Sendable, CaseIterable {
        case dataObject = "data-object"
        case required = "required"
        case wrongType = "type"
        case unknownValue = "enum"
        case length = "length"
        case childRequired = "child-required"
        case memberRefUnique = "member-ref-unique"
        case dateFormat = "date-format"
        case birthDateFuture = "birth-date-future"
        case courtOrderRequired = "court-order-required"
        case courtOrderDates = "court-order-dates"
        /// Signals only (``SignalValidator``): a report or placement date after today.
        case dateInFuture = "date-in-future"
        /// Signals only: an id that is not a UUID.
        case format = "format"

        /// The rules a referral can break (the others are the signals').
        public static let referralRules = allCases.filter { ![.dateInFuture, .format].contains($0) }
    }

    /// Limits in Unicode code points (`members`: entries).
    public enum Limits {
        public static let referralId = 1...100
        public static let area = 1...100
        public static let organisation = 1...200
        public static let contact = 0...200
        public static let name = 1...200
        public static let memberRef = 1...50
        public static let reason = 0...4000
        public static let members = 1...50
    }

    /// Validates the `data` of a referral event. `today` is the calendar date at the
    /// organisation (Europe/Amsterdam) when the event is handled; no birth date may lie after it.
    public static func validate(_ data: JSON, today: CalendarDate) -> Result<ValidReferral, ReferralProblems> {
        guard case .object(let fields) = data else {
            let problem = ReferralRejected.Problem(
                rule: Rule.dataObject.rawValue, pointer: "",
                detail: "data must be a JSON object, got \(data.typeName)")
            return .failure(ReferralProblems(problems: [problem]))
        }
        var check = Checker()

        let referralId = check.string(fields, "referralId", at: "", limit: Limits.referralId)
        let framework = check.code(fields, "framework", at: "", Framework.self)
        let urgency = check.code(fields, "urgency", at: "", Urgency.self)
        let area = check.string(fields, "area", at: "", limit: Limits.area)?.lowercased()

        var referrer: ValidReferral.Referrer?
        if let object = check.object(fields, "referrer", at: "", required: true) {
            let organisation = check.string(object, "organisation", at: "/referrer", limit: Limits.organisation)
            let contact = check.string(object, "contact", at: "/referrer", limit: Limits.contact)
            if let organisation {
                referrer = ValidReferral.Referrer(organisation: organisation, contact: contact)
            }
        }

        var courtOrder: ValidReferral.CourtOrder?
        if let object = check.object(fields, "courtOrder", at: "", required: false) {
            let decidedOn = check.date(object, "decidedOn", at: "/courtOrder", required: true)
            let endsOn = check.date(object, "endsOn", at: "/courtOrder", required: true)
            if let decidedOn, let endsOn {
                if endsOn > decidedOn {
                    courtOrder = ValidReferral.CourtOrder(decidedOn: decidedOn, endsOn: endsOn)
                } else {
                    let when = endsOn == decidedOn ? "it is the same day" : "it is earlier"
                    check.report(.courtOrderDates, at: "/courtOrder/endsOn", "endsOn must be after decidedOn (\(when))")
                }
            }
        } else if let framework, framework.requiresCourtOrder, fields["courtOrder"].isAbsent {
            check.report(
                .courtOrderRequired, at: "/courtOrder",
                "a \(framework.rawValue) referral requires a courtOrder with decidedOn and endsOn")
        }

        let members = check.members(fields, today: today)
        let reason = check.string(fields, "reason", at: "", limit: Limits.reason)

        guard check.problems.isEmpty, let referralId, let framework, let urgency, let area, let referrer,
            let members
        else {
            var problems = check.problems
            if problems.isEmpty {  // cannot happen: every missing value above was reported
                problems.append(.init(rule: Rule.required.rawValue, pointer: "", detail: "data is incomplete"))
            }
            return .failure(ReferralProblems(problems: problems, referralId: referralId))
        }
        return .success(
            ValidReferral(
                referralId: referralId, framework: framework, urgency: urgency, area: area, referrer: referrer,
                courtOrder: courtOrder, members: members, reason: reason))
    }
}

// MARK: - Checking field by field

extension Optional where Wrapped == JSON {
    /// Missing or `null`.
    fileprivate var isAbsent: Bool {
        switch self {
        case .none, .some(.null): true
        default: false
        }
    }
}

/// Reads fields and collects problems. Each reader returns nil when the value is absent or
/// broken, after reporting whatever is wrong with it.
struct Checker {
    typealias Rule = ReferralValidator.Rule
    typealias Limits = ReferralValidator.Limits

    private(set) var problems: [ReferralRejected.Problem] = []

    mutating func report(_ rule: Rule, at pointer: String, _ detail: String) {
        problems.append(ReferralRejected.Problem(rule: rule.rawValue, pointer: pointer, detail: detail))
    }

    /// The present, non-null value of `object[key]`; reports `required` when it is absent
    /// and required.
    mutating func value(_ object: [String: JSON], _ key: String, at parent: String, required: Bool) -> JSON? {
        let value = object[key]
        if value.isAbsent {
            if required { report(.required, at: "\(parent)/\(key)", "\(key) is required") }
            return nil
        }
        return value
    }

    mutating func object(_ object: [String: JSON], _ key: String, at parent: String, required: Bool)
        -> [String: JSON]?
    {
        guard let value = value(object, key, at: parent, required: required) else { return nil }
        guard case .object(let fields) = value else {
            report(.wrongType, at: "\(parent)/\(key)", "\(key) must be of type object, got \(value.typeName)")
            return nil
        }
        return fields
    }

    /// A trimmed string. Required when `limit` starts at 1; an optional string that is empty
    /// after trimming is absent.
    mutating func string(_ object: [String: JSON], _ key: String, at parent: String, limit: ClosedRange<Int>)
        -> String?
    {
        let required = limit.lowerBound > 0
        let pointer = "\(parent)/\(key)"
        guard let value = value(object, key, at: parent, required: required) else { return nil }
        guard case .string(let raw) = value else {
            report(.wrongType, at: pointer, "\(key) must be of type string, got \(value.typeName)")
            return nil
        }
        let text = Self.trimmed(raw)
        if text.isEmpty {
            if required {
                report(.required, at: pointer, "\(key) is required and must not be empty or only whitespace")
            }
            return nil
        }
        let length = text.unicodeScalars.count
        guard limit.contains(length) else {
            let allowed =
                limit.lowerBound > 0
                ? "\(limit.lowerBound) to \(limit.upperBound) characters" : "at most \(limit.upperBound) characters"
            report(.length, at: pointer, "\(key) must be \(allowed) long, got \(length)")
            return nil
        }
        return text
    }

    mutating func code<Code: RawRepresentable & CaseIterable>(
        _ object: [String: JSON], _ key: String, at parent: String, _: Code.Type, required: Bool = true
    ) -> Code? where Code.RawValue == String {
        guard let text = string(object, key, at: parent, limit: (required ? 1 : 0)...Int.max) else { return nil }
        guard let code = Code(rawValue: text) else {
            let allowed = Code.allCases.map(\.rawValue).joined(separator: ", ")
            report(.unknownValue, at: "\(parent)/\(key)", "\(key) must be one of: \(allowed)")
            return nil
        }
        return code
    }

    mutating func date(_ object: [String: JSON], _ key: String, at parent: String, required: Bool)
        -> CalendarDate?
    {
        guard let text = string(object, key, at: parent, limit: (required ? 1 : 0)...Int.max) else { return nil }
        guard let date = CalendarDate(text) else {
            report(.dateFormat, at: "\(parent)/\(key)", "\(key) must be a calendar date written yyyy-MM-dd")
            return nil
        }
        return date
    }

    /// `members`, with every rule about members and children.
    mutating func members(_ fields: [String: JSON], today: CalendarDate) -> [ValidReferral.Member]? {
        guard let value = value(fields, "members", at: "", required: true) else { return nil }
        guard case .array(let entries) = value else {
            report(.wrongType, at: "/members", "members must be of type array, got \(value.typeName)")
            return nil
        }
        var complete = true
        if !Limits.members.contains(entries.count) {
            let (least, most) = (Limits.members.lowerBound, Limits.members.upperBound)
            report(.length, at: "/members", "members must have \(least) to \(most) entries, got \(entries.count)")
            complete = false
        }

        var members: [ValidReferral.Member] = []
        var firstIndexOfRef: [String: Int] = [:]
        var hasChild = false
        for (index, entry) in entries.enumerated() {
            let pointer = "/members/\(index)"
            guard case .object(let member) = entry else {
                report(.wrongType, at: pointer, "each member must be of type object, got \(entry.typeName)")
                complete = false
                continue
            }
            let memberRef = string(member, "memberRef", at: pointer, limit: Limits.memberRef)
            if let memberRef {
                if let first = firstIndexOfRef[memberRef] {
                    report(
                        .memberRefUnique, at: "\(pointer)/memberRef",
                        "memberRef must be unique within the referral; member \(first) has the same one")
                } else {
                    firstIndexOfRef[memberRef] = index
                }
            }
            let role = code(member, "role", at: pointer, MemberRole.self)
            if role == .child { hasChild = true }
            let givenName = string(member, "givenName", at: pointer, limit: Limits.name)
            let familyName = string(member, "familyName", at: pointer, limit: Limits.name)
            let birthDate = date(member, "birthDate", at: pointer, required: role == .child)
            if let birthDate, birthDate > today {
                report(.birthDateFuture, at: "\(pointer)/birthDate", "birthDate must not be after today (\(today))")
            }
            if let memberRef, let role, let givenName, let familyName {
                members.append(
                    ValidReferral.Member(
                        memberRef: memberRef, role: role, givenName: givenName, familyName: familyName,
                        birthDate: birthDate))
            } else {
                complete = false
            }
        }
        if !hasChild {
            report(.childRequired, at: "/members", "at least one member must have role child")
        }
        return complete ? members : nil
    }

    /// Without surrounding whitespace (Unicode White_Space, line breaks included).
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
