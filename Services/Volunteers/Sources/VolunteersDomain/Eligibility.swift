import SamenplanDomain

/// Where a volunteer stands with the volunteer centre. Only `active` volunteers are matched: an
/// applicant is still being screened, a paused one (for instance because their certificate ran
/// out) or a stopped one is not available.
public enum VolunteerStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case applicant, active, paused, stopped
}

/// The kind of help a volunteer offers and a help request asks for: short practical help (a
/// lift, a form, a hand with the garden) or long personal contact (a buddy for a child).
public enum HelpKind: String, Sendable, Hashable, Codable, CaseIterable {
    case practical
    case longTerm = "long-term"
}

/// What the matching rules know about a volunteer: no name, no contact details, only what
/// decides whether and how well they fit a family's help request.
public struct VolunteerProfile: Sendable, Hashable, Codable {
    public var id: String
    public var status: VolunteerStatus
    /// The volunteer consented to the volunteer centre storing their data; without it they are
    /// not matched.
    public var consentGiven: Bool
    /// Issue date of their certificate of conduct (VOG); nil when none is on record.
    public var certificateIssuedOn: CalendarDate?
    /// The villages or neighbourhoods they help in.
    public var areas: Set<String>
    /// Skills from the volunteer centre's managed list.
    public var skills: Set<String>
    /// Languages from the managed list.
    public var languages: Set<String>
    public var helpKinds: Set<HelpKind>
    public var availability: Set<WeeklySlot>
    /// Assignments started and not ended.
    public var activeAssignments: Int
    /// How many assignments at once they take on.
    public var maxAssignments: Int

    public init(
        id: String, status: VolunteerStatus, consentGiven: Bool, certificateIssuedOn: CalendarDate?,
        areas: Set<String> = [], skills: Set<String> = [], languages: Set<String> = [],
        helpKinds: Set<HelpKind> = [], availability: Set<WeeklySlot> = [], activeAssignments: Int = 0,
        maxAssignments: Int = 2
    ) {
        self.id = id
        self.status = status
        self.consentGiven = consentGiven
        self.certificateIssuedOn = certificateIssuedOn
        self.areas = areas
        self.skills = skills
        self.languages = languages
        self.helpKinds = helpKinds
        self.availability = availability
        self.activeAssignments = activeAssignments
        self.maxAssignments = maxAssignments
    }
}

/// What a family's help request asks of a volunteer. An empty set of skills, languages or
/// slots means the family has no wish there.
public struct HelpNeed: Sendable, Hashable, Codable {
    public var helpRequestId: String
    /// The family's village or neighbourhood.
    public var area: String
    public var kind: HelpKind
    public var skills: Set<String>
    public var languages: Set<String>
    public var availability: Set<WeeklySlot>

    public init(
        helpRequestId: String, area: String, kind: HelpKind, skills: Set<String> = [],
        languages: Set<String> = [], availability: Set<WeeklySlot> = []
    ) {
        self.helpRequestId = helpRequestId
        self.area = area
        self.kind = kind
        self.skills = skills
        self.languages = languages
        self.availability = availability
    }
}

/// One hard rule a volunteer does not meet.
public struct Ineligibility: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The stable codes of the rules, in the order they are checked and reported.
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        case status
        case consent
        case certificateMissing = "certificate-missing"
        case certificateExpired = "certificate-expired"
        case certificateTooOldToStart = "certificate-too-old-to-start"
        case helpKind = "help-kind"
        case load
    }

    /// Stable code for clients (`certificate-expired`); one of ``Rule``'s raw values.
    public var rule: String
    /// What is wrong, in words a volunteer coordinator understands.
    public var detail: String

    public init(_ rule: Rule, _ detail: String) {
        self.rule = rule.rawValue
        self.detail = detail
    }

    public var description: String { "\(rule): \(detail)" }
}

/// The hard rules of matching (issue 5, item 1): who may be put on a shortlist at all. Area is
/// not among them; a volunteer from the next village is still a candidate, just a weaker one
/// (see ``Shortlist``). A refusal names every rule that is not met, so the coordinator sees at
/// once what to sort out.
public enum Eligibility {
    /// Every rule that keeps `volunteer` from being matched to `need` on `today`; empty when
    /// they are eligible. Checked in this order: status, consent, certificate (missing or
    /// expired), kind of help, load.
    public static func unmet(
        volunteer: VolunteerProfile, need: HelpNeed, on today: CalendarDate, policy: CertificatePolicy = .init()
    ) -> [Ineligibility] {
        var unmet = personalRules(volunteer, on: today, policy: policy)
        if !volunteer.helpKinds.contains(need.kind) {
            unmet.append(Ineligibility(.helpKind, "The volunteer does not offer \(need.kind.rawValue) help."))
        }
        if let load = loadRule(volunteer) { unmet.append(load) }
        return unmet
    }

    /// Every rule that keeps `volunteer` from starting to work with a family on `today`: the
    /// matching rules that do not depend on the request (status, consent, certificate, load)
    /// and, on top, a certificate issued less than ``CertificatePolicy/maxAgeAtStartMonths`` ago
    /// (`certificate-too-old-to-start`). The caller decides when a volunteer "starts" (their
    /// first assignment); `activeAssignments` must not yet count the assignment being started.
    public static func unmetToStart(
        volunteer: VolunteerProfile, on today: CalendarDate, policy: CertificatePolicy = .init()
    ) -> [Ineligibility] {
        var unmet = personalRules(volunteer, on: today, policy: policy)
        if let issuedOn = volunteer.certificateIssuedOn,
            policy.allowsMatching(issuedOn: issuedOn, on: today),
            !policy.allowsStart(issuedOn: issuedOn, on: today)
        {
            // Missing and expired certificates are reported above already.
            unmet.append(
                Ineligibility(
                    .certificateTooOldToStart,
                    "The certificate of conduct was issued on \(issuedOn); to start, it must have been issued in the last \(policy.maxAgeAtStartMonths) months."))
        }
        if let load = loadRule(volunteer) { unmet.append(load) }
        return unmet
    }

    /// Whether `volunteer` meets every rule that does not depend on the request (status,
    /// consent, certificate, load): what the shortlist checks once per volunteer.
    static func meetsPersonalRules(_ volunteer: VolunteerProfile, on today: CalendarDate, policy: CertificatePolicy) -> Bool {
        volunteer.status == .active && volunteer.consentGiven
            && policy.allowsMatching(issuedOn: volunteer.certificateIssuedOn, on: today)
            && volunteer.activeAssignments < volunteer.maxAssignments
    }

    /// Status, consent and certificate.
    private static func personalRules(
        _ volunteer: VolunteerProfile, on today: CalendarDate, policy: CertificatePolicy
    ) -> [Ineligibility] {
        var unmet: [Ineligibility] = []
        if volunteer.status != .active {
            unmet.append(
                Ineligibility(.status, "The volunteer is \(volunteer.status.rawValue); only active volunteers are matched."))
        }
        if !volunteer.consentGiven {
            unmet.append(Ineligibility(.consent, "The volunteer has not consented to the storage of their data."))
        }
        switch policy.standing(issuedOn: volunteer.certificateIssuedOn, on: today) {
        case .missing:
            unmet.append(Ineligibility(.certificateMissing, "No certificate of conduct (VOG) is on record."))
        case .expired(let expiredOn):
            unmet.append(Ineligibility(.certificateExpired, "The certificate of conduct (VOG) ran out on \(expiredOn)."))
        case .valid, .expiringSoon:
            break
        }
        return unmet
    }

    private static func loadRule(_ volunteer: VolunteerProfile) -> Ineligibility? {
        guard volunteer.activeAssignments >= volunteer.maxAssignments else { return nil }
        return Ineligibility(
            .load,
            "The volunteer has \(volunteer.activeAssignments) active assignments and takes on at most \(volunteer.maxAssignments).")
    }
}
