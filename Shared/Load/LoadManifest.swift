import Foundation

/// The record of one load run: everything the generator sent and had accepted, written to a
/// file when the run ends. The reconciler derives every expected effect from it.
public struct LoadManifest: Codable, Sendable, Equatable {
    /// The CloudEvent `source` of everything the generator sends: an integrator of its own.
    public static let source = "/integrators/samenplan-load"

    public struct Family: Codable, Sendable, Equatable {
        public var area: String
        public var childName: String
        public var birthDate: String
        /// Every referral of the family, the first one opening its case, the others joining it.
        public var referralIds: [String]
        /// Whether the generator works on the case's plan over HTTP (propose, approve, support).
        public var planWork: Bool
        /// Set when that work was done and confirmed; nil while it is not (or was given up).
        public var planWorkDone: Bool?
    }

    public struct NuisanceReport: Codable, Sendable, Equatable {
        public var reportId: String
        public var area: String
        /// The family (index into `families`) whose first referral the report names.
        public var family: Int
    }

    public var runId: String
    public var seed: UInt64
    public var mix: Traffic.Mix
    public var areas: [String]
    public var families: [Family] = []
    public var nuisanceReports: [NuisanceReport] = []
    /// Referral messages sent again, byte for byte.
    public var redeliveries = 0
    /// Referral messages with a referral id of their own (first and joining referrals).
    public var referralCount = 0
    /// Messages librdkafka could not deliver (the run fails when there are any).
    public var undelivered = 0
    public var startedAt: Date?
    public var endedAt: Date?

    /// Every message the generator published, redeliveries included.
    public var messagesSent: Int { referralCount + redeliveries + nuisanceReports.count }

    /// Family managers per area: together they have room for every case the run can make.
    public var managersPerArea = 1

    /// The most cases intake lets one family manager have.
    public static let maxCaseload = 500

    /// The family managers the generator registers for each area.
    public var managers: [(id: String, area: String)] {
        areas.flatMap { area in (1...managersPerArea).map { ("fm-\(area)-\($0)", area) } }
    }
}
