import SamenplanDomain

/// A volunteer on a help request's shortlist, with the score and every reason behind it.
public struct Candidate: Sendable, Hashable, Codable {
    public var volunteerId: String
    /// The sum of the reasons' points, 0…``Shortlist/maximumScore``.
    public var score: Int
    /// One reason per ``ScoreReason/Factor``, in the factors' order, zero points included, so
    /// the coordinator sees what counted and what did not.
    public var reasons: [ScoreReason]

    public init(volunteerId: String, score: Int, reasons: [ScoreReason]) {
        self.volunteerId = volunteerId
        self.score = score
        self.reasons = reasons
    }

    /// The points one factor contributed.
    public func points(for factor: ScoreReason.Factor) -> Int {
        reasons.first { $0.factor == factor }?.points ?? 0
    }
}

/// What one factor added to a candidate's score, and why.
public struct ScoreReason: Sendable, Hashable, Codable {
    /// The factors of the score, in the order they are reported.
    public enum Factor: String, Sendable, Hashable, Codable, CaseIterable {
        case area, skills, language, availability, load, certificate
    }

    public var factor: Factor
    public var points: Int
    /// Why, in words a volunteer coordinator understands; names only the request's own areas,
    /// skills, languages and slots.
    public var detail: String

    public init(_ factor: Factor, _ points: Int, _ detail: String) {
        self.factor = factor
        self.points = points
        self.detail = detail
    }
}

/// The ranked shortlist for a family's help request (issue 5, item 2): every eligible volunteer
/// (``Eligibility``), best fit first, each with the reasons for their score. Ineligible
/// volunteers never appear, however well they would fit.
///
/// The score is a sum of integer points, one term per ``ScoreReason/Factor``; the weights are
/// in ``Weight``. Candidates are ordered by score, highest first, and equal scores by volunteer
/// id, ascending, so the same data always gives the same list.
public enum Shortlist {
    /// The weights of the score, all in one place. Highest possible score: 130.
    ///
    /// | factor | points |
    /// |---|---|
    /// | area | 30 when the volunteer helps in the request's area, else 0 |
    /// | skills | 10 per wanted skill the volunteer has, at most 30 |
    /// | language | 10 when they share a wanted language, or the request wants none; else 0 |
    /// | availability | 5 per wanted weekly slot they are free in, at most 20 |
    /// | load | 10 with no active assignment, 5 with one, 0 with more |
    /// | certificate | 10 while it runs out after the warning window, 0 inside it |
    ///
    /// Area weighs most because a neighbour is the point of the method (help from the family's
    /// own village); skills next, since they are what the family asked for. A request that
    /// wants no skills or names no slots gives everyone 0 there, which changes no order.
    public enum Weight {
        public static let sameArea = 30
        public static let perSkill = 10
        public static let maxSkills = 30
        public static let sharedLanguage = 10
        public static let perSlot = 5
        public static let maxAvailability = 20
        public static let noAssignment = 10
        public static let oneAssignment = 5
        public static let certificateBeyondWarning = 10
    }

    /// The highest score a candidate can reach.
    public static let maximumScore = Weight.sameArea + Weight.maxSkills + Weight.sharedLanguage
        + Weight.maxAvailability + Weight.noAssignment + Weight.certificateBeyondWarning

    /// The eligible volunteers for `need` on `today`, best fit first; at most `limit` of them
    /// when given. To rank many requests against the same volunteers, build a ``Pool`` once.
    public static func rank(
        _ volunteers: [VolunteerProfile], for need: HelpNeed, on today: CalendarDate,
        policy: CertificatePolicy = .init(), limit: Int? = nil
    ) -> [Candidate] {
        Pool(volunteers, on: today, policy: policy).rank(for: need, limit: limit)
    }

    /// The score of `volunteer` for `need` on `today`, one reason per factor, whether or not
    /// the volunteer is eligible (ask ``Eligibility`` for that).
    public static func reasons(
        volunteer: VolunteerProfile, need: HelpNeed, on today: CalendarDate, policy: CertificatePolicy = .init()
    ) -> [ScoreReason] {
        let sameArea = volunteer.areas.contains(need.area)
        let sharedSkills = need.skills.intersection(volunteer.skills).sorted()
        let sharedLanguages = need.languages.intersection(volunteer.languages).sorted()
        let sharedSlots = need.availability.intersection(volunteer.availability).sorted()
        let standing = policy.standing(issuedOn: volunteer.certificateIssuedOn, on: today)

        let area = sameArea
            ? "Helps in \(need.area), the family's area." : "Does not help in \(need.area), the family's area."
        let skills =
            need.skills.isEmpty
            ? "The request asks for no particular skill."
            : "Has \(sharedSkills.count) of the \(need.skills.count) wanted skills"
                + (sharedSkills.isEmpty ? "." : ": \(sharedSkills.joined(separator: ", ")).")
        let language =
            if need.languages.isEmpty {
                "The request asks for no particular language."
            } else if sharedLanguages.isEmpty {
                "Speaks none of the wanted languages (\(need.languages.sorted().joined(separator: ", ")))."
            } else {
                "Speaks \(sharedLanguages.joined(separator: ", ")), as wanted."
            }
        let availability =
            need.availability.isEmpty
            ? "The request names no times."
            : "Is free in \(sharedSlots.count) of the \(need.availability.count) wanted slots"
                + (sharedSlots.isEmpty ? "." : ": \(sharedSlots.map(\.description).joined(separator: ", ")).")
        let load =
            switch volunteer.activeAssignments {
            case ...0: "Has no active assignment."
            case 1: "Has 1 active assignment."
            default: "Has \(volunteer.activeAssignments) active assignments."
            }
        let certificate =
            switch standing {
            case .missing: "No certificate of conduct (VOG) is on record."
            case .valid(let expiresOn): "The certificate of conduct runs out on \(expiresOn)."
            case .expiringSoon(let expiresOn, let daysLeft):
                "The certificate of conduct runs out in \(daysLeft) day\(daysLeft == 1 ? "" : "s"), on \(expiresOn)."
            case .expired(let expiredOn): "The certificate of conduct ran out on \(expiredOn)."
            }
        return [
            ScoreReason(.area, areaPoints(sameArea), area),
            ScoreReason(.skills, skillPoints(matched: sharedSkills.count), skills),
            ScoreReason(.language, languagePoints(wanted: need.languages.count, shared: sharedLanguages.count), language),
            ScoreReason(.availability, availabilityPoints(overlap: sharedSlots.count), availability),
            ScoreReason(.load, loadPoints(activeAssignments: volunteer.activeAssignments), load),
            ScoreReason(.certificate, certificatePoints(standing), certificate),
        ]
    }

    // MARK: The weights applied (shared by the single score above and the pool below)

    static func areaPoints(_ sameArea: Bool) -> Int { sameArea ? Weight.sameArea : 0 }

    static func skillPoints(matched: Int) -> Int { min(matched * Weight.perSkill, Weight.maxSkills) }

    static func languagePoints(wanted: Int, shared: Int) -> Int {
        wanted == 0 || shared > 0 ? Weight.sharedLanguage : 0
    }

    static func availabilityPoints(overlap: Int) -> Int { min(overlap * Weight.perSlot, Weight.maxAvailability) }

    static func loadPoints(activeAssignments: Int) -> Int {
        switch activeAssignments {
        case ...0: Weight.noAssignment
        case 1: Weight.oneAssignment
        default: 0
        }
    }

    static func certificatePoints(_ standing: CertificateStanding) -> Int {
        if case .valid = standing { Weight.certificateBeyondWarning } else { 0 }
    }
}

extension Shortlist {
    /// Volunteers prepared once for ranking many help requests on one day: the rules that do
    /// not depend on the request are checked once per volunteer, and areas, skills, languages
    /// and slots become bit sets, so a request is compared with each volunteer in a few machine
    /// instructions instead of a dozen string hashes (issue 5 asks for 1,000 requests against
    /// 5,000 volunteers in under a second). Gives exactly what ``Shortlist/rank(_:for:on:policy:limit:)``
    /// gives.
    public struct Pool: Sendable {
        public let day: CalendarDate
        public let policy: CertificatePolicy
        /// The volunteers who meet every rule but the kind of help, sorted by id: a row's
        /// position is its place among equal scores.
        private let profiles: [VolunteerProfile]
        private let kinds: [UInt8]
        private let slots: [SlotMask]
        /// Load and certificate points: the same for every request.
        private let fixedPoints: [Int]
        private let areas: TermTable
        private let skills: TermTable
        private let languages: TermTable

        public init(_ volunteers: [VolunteerProfile], on today: CalendarDate, policy: CertificatePolicy = .init()) {
            let eligible = volunteers.indices
                .filter { Eligibility.meetsPersonalRules(volunteers[$0], on: today, policy: policy) }
                .sorted { (volunteers[$0].id, $0) < (volunteers[$1].id, $1) }
                .map { volunteers[$0] }
            day = today
            self.policy = policy
            profiles = eligible
            kinds = eligible.map { $0.helpKinds.reduce(0) { $0 | Self.bit($1) } }
            slots = eligible.map { SlotMask($0.availability) }
            fixedPoints = eligible.map {
                Shortlist.loadPoints(activeAssignments: $0.activeAssignments)
                    + Shortlist.certificatePoints(policy.standing(issuedOn: $0.certificateIssuedOn, on: today))
            }
            areas = TermTable(eligible.map(\.areas))
            skills = TermTable(eligible.map(\.skills))
            languages = TermTable(eligible.map(\.languages))
        }

        /// How many volunteers meet the rules that do not depend on the request.
        public var count: Int { profiles.count }

        /// The eligible volunteers for `need`, best fit first; at most `limit` when given.
        /// Scoring is cheap; writing the reasons' sentences is not, and happens only for the
        /// candidates returned, so bulk matching should pass a shortlist-sized `limit` (1,000
        /// requests against 5,000 volunteers take about 0.1 s optimised with `limit: 10`,
        /// seconds without one).
        public func rank(for need: HelpNeed, limit: Int? = nil) -> [Candidate] {
            let kind = Self.bit(need.kind)
            let area = areas.query([need.area])
            let wantedSkills = skills.query(need.skills)
            let wantedLanguages = languages.query(need.languages)
            let wantedSlots = SlotMask(need.availability)
            var ranked = RankedRows(limit: limit)
            for row in profiles.indices where kinds[row] & kind != 0 {
                let score = fixedPoints[row]
                    + Shortlist.areaPoints(areas.shared(row: row, with: area) > 0)
                    + Shortlist.skillPoints(matched: skills.shared(row: row, with: wantedSkills))
                    + Shortlist.languagePoints(
                        wanted: need.languages.count, shared: languages.shared(row: row, with: wantedLanguages))
                    + Shortlist.availabilityPoints(overlap: slots[row].overlap(with: wantedSlots))
                ranked.offer(score: score, row: row)
            }
            return ranked.rows.map { entry in
                let volunteer = profiles[entry.row]
                let reasons = Shortlist.reasons(volunteer: volunteer, need: need, on: day, policy: policy)
                let score = reasons.reduce(0) { $0 + $1.points }
                assert(score == entry.score, "the pool and the single score disagree for \(volunteer.id)")
                return Candidate(volunteerId: volunteer.id, score: score, reasons: reasons)
            }
        }

        private static func bit(_ kind: HelpKind) -> UInt8 {
            switch kind {
            case .practical: 1
            case .longTerm: 2
            }
        }
    }
}

/// The best rows seen so far, highest score first and equal scores by row (that is, by
/// volunteer id): all of them, or only the best `limit`, kept sorted by insertion as they
/// arrive, which is cheap for a shortlist's length.
private struct RankedRows {
    struct Entry {
        var score: Int
        var row: Int
    }

    private let limit: Int?
    private var entries: [Entry] = []

    init(limit: Int?) { self.limit = limit.map { max(0, $0) } }

    /// Offers the rows in ascending order.
    mutating func offer(score: Int, row: Int) {
        let entry = Entry(score: score, row: row)
        guard let limit else {
            entries.append(entry)
            return
        }
        if entries.count == limit {
            // Rows arrive ascending, so an equal score never beats the last one kept.
            guard let last = entries.last, score > last.score else { return }
            entries.removeLast()
        }
        // After every entry with a score at least as high: ties stay in row order.
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].score >= score { low = middle + 1 } else { high = middle }
        }
        entries.insert(entry, at: low)
    }

    /// The entries, best first.
    var rows: [Entry] {
        guard limit == nil else { return entries }
        return entries.sorted { ($1.score, $0.row) < ($0.score, $1.row) }
    }
}

/// Sets of terms (areas, skills, languages) of many volunteers as rows of bits over one
/// vocabulary, so that two sets are compared with `&` and a population count.
private struct TermTable: Sendable {
    private let index: [String: Int]
    private let stride: Int
    private let words: [UInt64]

    init(_ rows: [Set<String>]) {
        var index: [String: Int] = [:]
        for row in rows {
            for term in row where index[term] == nil { index[term] = index.count }
        }
        let stride = max(1, (index.count + 63) / 64)
        var words = [UInt64](repeating: 0, count: rows.count * stride)
        for (number, row) in rows.enumerated() {
            for term in row {
                let bit = index[term]!
                words[number * stride + bit / 64] |= 1 << UInt64(bit % 64)
            }
        }
        self.index = index
        self.stride = stride
        self.words = words
    }

    /// `terms` as a row over this vocabulary; a term no volunteer has matches no one.
    func query(_ terms: Set<String>) -> [UInt64] {
        var query = [UInt64](repeating: 0, count: stride)
        for term in terms {
            guard let bit = index[term] else { continue }
            query[bit / 64] |= 1 << UInt64(bit % 64)
        }
        return query
    }

    /// How many terms of `query` row `row` has.
    func shared(row: Int, with query: [UInt64]) -> Int {
        var count = 0
        let start = row * stride
        for word in 0..<stride { count += (words[start + word] & query[word]).nonzeroBitCount }
        return count
    }
}
