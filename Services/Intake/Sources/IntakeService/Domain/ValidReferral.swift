import SamenplanDomain

/// A referral (`nl.samenplan.referral.submitted.v1` `data`) that passed
/// ``ReferralValidator``: typed, trimmed, and true to every rule of the integrators' contract.
///
/// It holds personal data (names, birth dates, contact, reason): it stays inside intake and
/// never goes into an event.
public struct ValidReferral: Sendable, Hashable, Codable {
    /// Who referred the family.
    public struct Referrer: Sendable, Hashable, Codable {
        public var organisation: String
        public var contact: String?

        public init(organisation: String, contact: String? = nil) {
            self.organisation = organisation
            self.contact = contact
        }
    }

    /// The court order of a `child-protection` or `juvenile-probation` referral (and kept
    /// as given when a `voluntary` referral carries one). `endsOn` is after `decidedOn`.
    public struct CourtOrder: Sendable, Hashable, Codable {
        public var decidedOn: CalendarDate
        public var endsOn: CalendarDate

        public init(decidedOn: CalendarDate, endsOn: CalendarDate) {
            self.decidedOn = decidedOn
            self.endsOn = endsOn
        }
    }

    /// One member of the family. `memberRef` is the integrator's reference, unique within
    /// the referral. Children always have a birth date; others may.
    public struct Member: Sendable, Hashable, Codable {
        public var memberRef: String
        public var role: MemberRole
        public var givenName: String
        public var familyName: String
        public var birthDate: CalendarDate?

        public init(
            memberRef: String, role: MemberRole, givenName: String, familyName: String, birthDate: CalendarDate? = nil
        ) {
            self.memberRef = memberRef
            self.role = role
            self.givenName = givenName
            self.familyName = familyName
            self.birthDate = birthDate
        }

        /// ``FamilyIdentity/childKey(givenName:familyName:birthDate:)`` for a child with a
        /// birth date; nil for every other member.
        public var childKey: String? {
            guard role == .child, let birthDate else { return nil }
            return FamilyIdentity.childKey(givenName: givenName, familyName: familyName, birthDate: birthDate)
        }
    }

    /// The integrator's id of the referral, trimmed. With the event's `source` it makes a
    /// referral unique: the same pair twice opens one case, not two.
    public var referralId: String
    public var framework: Framework
    public var urgency: Urgency
    /// The area (gebied) the family lives in, trimmed and lowercased (`borsele`).
    public var area: String
    public var referrer: Referrer
    public var courtOrder: CourtOrder?
    /// In the order the referral listed them.
    public var members: [Member]
    /// Free text: personal data that never leaves intake.
    public var reason: String?

    public init(
        referralId: String, framework: Framework, urgency: Urgency, area: String, referrer: Referrer,
        courtOrder: CourtOrder? = nil, members: [Member], reason: String? = nil
    ) {
        self.referralId = referralId
        self.framework = framework
        self.urgency = urgency
        self.area = area
        self.referrer = referrer
        self.courtOrder = courtOrder
        self.members = members
        self.reason = reason
    }

    /// The members with role `child` (at least one in a valid referral).
    public var children: [Member] { members.filter { $0.role == .child } }

    /// The identity keys of the children, used to find a family's open case.
    public var childKeys: [String] { children.compactMap(\.childKey) }
}

/// Why a referral was rejected: every problem found, in the order of the fields.
public struct ReferralProblems: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [ReferralRejected.Problem]
    /// The referral's id when it could be read (a string of 1–100 characters), so the answer
    /// can name it.
    public var referralId: String?

    public init(problems: [ReferralRejected.Problem], referralId: String? = nil) {
        self.problems = problems
        self.referralId = referralId
    }

    /// The `data` of the `nl.samenplan.referral.rejected.v1` answer to the event that
    /// carried the referral.
    public func rejection(eventSource: String, eventId: String) -> ReferralRejected {
        ReferralRejected(eventSource: eventSource, eventId: eventId, referralId: referralId, problems: problems)
    }

    /// One line per problem; safe to log (details never repeat personal data).
    public var description: String {
        problems.map { "\($0.rule) at \($0.pointer.isEmpty ? "(data)" : $0.pointer): \($0.detail)" }
            .joined(separator: "; ")
    }
}
