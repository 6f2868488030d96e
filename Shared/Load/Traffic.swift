import Foundation
import SamenplanDomain

/// The traffic of one load run, decided from a seed before anything is sent: which families
/// are referred in which area, which referrals join a family already referred, which messages
/// are sent twice, which nuisance reports arrive and which cases get plan work over HTTP.
///
/// Pure: the generator asks it for the next step and sends it; the reconciler gets the same
/// record (the ``LoadManifest``) and derives every expected effect from it, never from what
/// the suite did.
public struct Traffic: Sendable {
    /// How the steps are mixed, in percent of all steps; the rest are new families.
    public struct Mix: Sendable, Codable, Equatable {
        /// A second referral (another desk, another referral id) for a family referred before.
        public var joins = 10
        /// An exact copy of a referral message sent before (a redelivery; must change nothing).
        public var redeliveries = 10
        /// A nuisance report about a family referred before, naming its referral.
        public var nuisanceReports = 10
        /// Of the new families: the share whose case also gets plan work over HTTP.
        public var planWork = 25

        public init() {}
    }

    /// What to send next.
    public enum Step: Sendable, Equatable {
        /// A referral message; `family` is the family's index in the manifest.
        case referral(topic: String, key: String, event: CloudEvent, family: Int, newFamily: Bool)
        /// The exact bytes of an earlier message again.
        case redelivery(topic: String, key: String, event: CloudEvent)
        case nuisanceReport(topic: String, key: String, event: CloudEvent)
    }

    /// The record so far; the generator adds what only it knows (times, outcomes).
    public var manifest: LoadManifest
    private var random: SplitMix64
    private let mix: Mix
    /// Every referral message sent, so a redelivery can repeat one exactly.
    private var sentReferrals: [(key: String, event: CloudEvent)] = []

    public init(runId: String, seed: UInt64, areaCount: Int, mix: Mix = Mix()) {
        precondition(areaCount >= 1, "a run needs at least one area")
        random = SplitMix64(seed: seed)
        self.mix = mix
        manifest = LoadManifest(
            runId: runId, seed: seed, mix: mix,
            areas: (1...areaCount).map { "\(runId)-area-\($0)" })
    }

    /// The next step; `now` is the events' `time` and the nuisance reports' day.
    public mutating func next(now: Date) -> Step {
        let roll = random.next(upTo: 100)
        let referred = manifest.families.count
        if referred > 0 && roll < mix.joins {
            return referral(family: random.next(upTo: referred), now: now, newFamily: false)
        }
        if !sentReferrals.isEmpty && roll < mix.joins + mix.redeliveries {
            let earlier = sentReferrals[random.next(upTo: sentReferrals.count)]
            manifest.redeliveries += 1
            return .redelivery(topic: Topic.referrals, key: earlier.key, event: earlier.event)
        }
        if referred > 0 && roll < mix.joins + mix.redeliveries + mix.nuisanceReports {
            return nuisanceReport(family: random.next(upTo: referred), now: now)
        }
        return newFamily(now: now)
    }

    private mutating func newFamily(now: Date) -> Step {
        let index = manifest.families.count
        let area = manifest.areas[random.next(upTo: manifest.areas.count)]
        // Unique per family within the run, and per run through the run id's letters: the
        // child's name and birth date are what intake recognises a family by.
        let family = LoadManifest.Family(
            area: area, childName: "Kind" + Self.letters(index) + Self.letters(Self.hash(manifest.runId)),
            birthDate: Self.birthDate(index), referralIds: [], planWork: random.chance(percent: mix.planWork))
        manifest.families.append(family)
        return referral(family: index, now: now, newFamily: true)
    }

    private mutating func referral(family index: Int, now: Date, newFamily: Bool) -> Step {
        let number = manifest.referralCount
        manifest.referralCount += 1
        let referralId = "\(manifest.runId)-ref-\(number)"
        manifest.families[index].referralIds.append(referralId)
        let family = manifest.families[index]
        let data: JSON = [
            "referralId": .string(referralId),
            "framework": "voluntary",
            "urgency": number % 7 == 0 ? "urgent" : "normal",
            "area": .string(family.area),
            "referrer": ["organisation": newFamily ? "Veilig Thuis Zeeland" : "Politie Zeeland"],
            "members": [
                ["memberRef": "p1", "role": "parent", "givenName": "Eva", "familyName": "Load"],
                [
                    "memberRef": "c1", "role": "child", "givenName": .string(family.childName), "familyName": "Load",
                    "birthDate": .string(family.birthDate),
                ],
            ],
            "reason": "Load run.",
        ]
        let event = CloudEvent(
            id: "\(manifest.runId)-event-\(number)", source: LoadManifest.source,
            type: EventType.referralSubmitted.rawValue, time: now, data: data)
        sentReferrals.append((referralId, event))
        return .referral(topic: Topic.referrals, key: referralId, event: event, family: index, newFamily: newFamily)
    }

    private mutating func nuisanceReport(family index: Int, now: Date) -> Step {
        let family = manifest.families[index]
        let reportId = "\(manifest.runId)-nuisance-\(manifest.nuisanceReports.count)"
        manifest.nuisanceReports.append(.init(reportId: reportId, area: family.area, family: index))
        let data: JSON = [
            "reportId": .string(reportId), "area": .string(family.area),
            "reportedOn": .string(Timestamp.format(now).prefix(10).description), "category": "noise",
            "referralId": .string(family.referralIds[0]),
        ]
        let event = CloudEvent(
            id: reportId, source: LoadManifest.source, type: EventType.nuisanceReported.rawValue, time: now, data: data)
        return .nuisanceReport(topic: Topic.signals, key: reportId, event: event)
    }

    /// `0` → "a", `25` → "z", `26` → "ba": a number as lower-case letters, since names are letters.
    static func letters(_ number: Int) -> String {
        var number = number
        var result = ""
        repeat {
            result = String(UnicodeScalar(UInt8(97 + number % 26))) + result
            number /= 26
        } while number > 0
        return result
    }

    /// A stable small hash of the run id (Swift's `hashValue` differs per process).
    static func hash(_ text: String) -> Int {
        Int(text.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % 1_000_000)
    }

    /// Birth dates spread over 2008–2021, so children are of every age band.
    static func birthDate(_ index: Int) -> String {
        let day = Calendar.netherlands.date(
            byAdding: .day, value: index % 5_000, to: Calendar.netherlands.date(from: DateComponents(year: 2008, month: 1, day: 1))!)!
        let parts = Calendar.netherlands.dateComponents([.year, .month, .day], from: day)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
