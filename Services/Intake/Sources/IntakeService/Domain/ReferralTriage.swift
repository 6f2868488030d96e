import Foundation
import SamenplanDomain

/// Decides what the referral desk does with each of a batch of valid referrals, exactly as
/// if they had arrived one after another: one referral per `source` + `referralId`, one open
/// case per family (children recognised by ``FamilyIdentity``), and a family whose case
/// closed less than 12 months ago coming back as a re-referral. Pure: the desk loads what
/// the database knows about the batch's referrals and children (``Snapshot``), and writes
/// the decisions afterwards.
public struct ReferralTriage: Sendable {
    /// An open case, as found by one of its children's keys.
    public struct OpenCase: Sendable, Equatable {
        public var caseId: UUID
        public var familyId: UUID
        public var openedAt: Date
        /// The court order's dates on the case (`decidedOn`, `endsOn`), if any.
        public var courtOrder: ValidReferral.CourtOrder?

        public init(caseId: UUID, familyId: UUID, openedAt: Date, courtOrder: ValidReferral.CourtOrder? = nil) {
            self.caseId = caseId
            self.familyId = familyId
            self.openedAt = openedAt
            self.courtOrder = courtOrder
        }
    }

    /// A case closed within the re-referral window.
    public struct ClosedCase: Sendable, Equatable {
        public var caseId: UUID
        public var familyId: UUID
        public var managerId: String?
        public var closedAt: Date

        public init(caseId: UUID, familyId: UUID, managerId: String?, closedAt: Date) {
            self.caseId = caseId
            self.familyId = familyId
            self.managerId = managerId
            self.closedAt = closedAt
        }
    }

    public struct ReferralKey: Sendable, Hashable {
        public var source: String
        public var referralId: String

        public init(source: String, referralId: String) {
            self.source = source
            self.referralId = referralId
        }
    }

    /// What the database knows about a batch's referrals and children.
    public struct Snapshot: Sendable {
        /// Referrals accepted before, with their case.
        public var referrals: [ReferralKey: UUID] = [:]
        /// Open cases by child key (a child key belongs to at most one open case's family,
        /// but a referral naming several children may find several cases).
        public var openCases: [String: [OpenCase]] = [:]
        /// Cases closed within the re-referral window, by child key.
        public var closedCases: [String: [ClosedCase]] = [:]

        public init() {}
    }

    public enum Decision: Sendable, Equatable {
        /// The same `source` + `referralId` was accepted before: nothing changes.
        case alreadyReceived(caseId: UUID)
        /// The family has an open case: the referral joins it. `newCourtOrder` when the
        /// referral brings court-order dates the case did not have.
        case join(caseId: UUID, familyId: UUID, newCourtOrder: Bool)
        /// A new case; `newFamily` unless the family was known from a case closed within the
        /// window, which `previous` names (a re-referral).
        case open(caseId: UUID, familyId: UUID, newFamily: Bool, previous: ClosedCase?)
    }

    private var snapshot: Snapshot
    /// Orders cases opened in this batch after every existing one, in the order opened.
    private var opened = 0
    private let makeId: @Sendable () -> UUID

    public init(snapshot: Snapshot, makeId: @escaping @Sendable () -> UUID = { UUID.random() }) {
        self.snapshot = snapshot
        self.makeId = makeId
    }

    /// The decision for the next referral; later referrals see its effect. `childKeys` are
    /// the referral's (`referral.childKeys` when not given: a caller that has them already
    /// saves normalising every name again).
    public mutating func decide(_ referral: ValidReferral, childKeys: [String]? = nil, source: String, now: Date)
        -> Decision
    {
        let key = ReferralKey(source: source, referralId: referral.referralId)
        if let caseId = snapshot.referrals[key] { return .alreadyReceived(caseId: caseId) }
        let childKeys = childKeys ?? referral.childKeys
        let decision: Decision
        if let open = childKeys.flatMap({ snapshot.openCases[$0] ?? [] }).min(by: Self.openedEarlier) {
            let newCourtOrder = referral.courtOrder.map { $0 != open.courtOrder } ?? false
            decision = .join(caseId: open.caseId, familyId: open.familyId, newCourtOrder: newCourtOrder)
            // The children of this referral are members of that family from now on.
            var updated = open
            if newCourtOrder { updated.courtOrder = referral.courtOrder }
            remember(updated, for: Set(childKeys).union(knownKeys(of: open.caseId)))
        } else {
            let previous = childKeys.flatMap { snapshot.closedCases[$0] ?? [] }.max { $0.closedAt < $1.closedAt }
            let caseId = makeId()
            let familyId = previous?.familyId ?? makeId()
            decision = .open(caseId: caseId, familyId: familyId, newFamily: previous == nil, previous: previous)
            opened += 1
            // Opened "now", after every existing case; `opened` keeps the batch's own order.
            let open = OpenCase(
                caseId: caseId, familyId: familyId, openedAt: now.addingTimeInterval(Double(opened) * 1e-6),
                courtOrder: referral.courtOrder)
            remember(open, for: Set(childKeys))
        }
        if case .join(let caseId, _, _) = decision {
            snapshot.referrals[key] = caseId
        } else if case .open(let caseId, _, _, _) = decision {
            snapshot.referrals[key] = caseId
        }
        return decision
    }

    private static func openedEarlier(_ lhs: OpenCase, _ rhs: OpenCase) -> Bool {
        lhs.openedAt != rhs.openedAt ? lhs.openedAt < rhs.openedAt : lhs.caseId.uuidString < rhs.caseId.uuidString
    }

    private func knownKeys(of caseId: UUID) -> [String] {
        snapshot.openCases.compactMap { key, cases in cases.contains { $0.caseId == caseId } ? key : nil }
    }

    private mutating func remember(_ open: OpenCase, for childKeys: Set<String>) {
        for key in childKeys {
            var cases = snapshot.openCases[key, default: []].filter { $0.caseId != open.caseId }
            cases.append(open)
            snapshot.openCases[key] = cases
        }
    }
}
