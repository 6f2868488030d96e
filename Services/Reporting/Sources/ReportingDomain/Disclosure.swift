/// Statistical disclosure control for figures that leave the organisation (`scope=external`
/// and the public dashboard).
///
/// Hiding every cell about fewer than `threshold` families is not enough on its own: an
/// outsider can ask for the whole organisation and for each area, or read the phases of an
/// area next to its frameworks, and subtract. So external figures are published only on a
/// fixed grid (the whole organisation and each area, for one period) and this type decides,
/// for the whole grid at once, which cells to hide:
///
/// 1. *primary*: a count about fewer than `threshold` families, a share whose complement is
///    (say 9 of 10 evaluations on time: one was late), a statistic over too few families;
/// 2. *complementary*: wherever hidden cells add up to a published figure (the areas to the
///    organisation, the phases of an area to its open cases, a part and its complement to the
///    whole), their sum must be 0 or at least `threshold`, so more cells are hidden, the
///    smallest first, until it is;
/// 3. a statistic computed from a hidden count is hidden with it.
///
/// Pure: no I/O, so every rule has a fast test (DomainTests/DisclosureTests).
public struct DisclosureGrid: Sendable {
    /// One figure of one unit (the organisation or an area).
    public struct Figure: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// A number of families (or of their cases): the organisation's is the sum of the areas'.
            case count
            /// A count that is part of the count `of` (a key of the same unit): its complement,
            /// `of − this`, can be worked out, so it is protected like a count as well.
            case part(of: String)
            /// A count that does not add up across areas (a volunteer serves several areas).
            case overlappingCount
            /// A median, a share or a total of hours over `families` families, computed from the
            /// counts `basis` (keys of the same unit).
            case statistic(basis: [String])
        }

        public var key: String
        /// The number of families the figure is about; for a count, the count itself.
        public var families: Int
        public var kind: Kind
        /// Cells of one partition of the same unit add up to a figure that can be worked out
        /// elsewhere (open cases by phase, and by framework, both sum to the area's open cases).
        public var partition: String?

        public init(key: String, families: Int, kind: Kind = .count, partition: String? = nil) {
            self.key = key
            self.families = families
            self.kind = kind
            self.partition = partition
        }
    }

    public var threshold: Int
    /// The organisation's figures (every area together).
    public var whole: [Figure]
    /// Each area's figures, by area.
    public var areas: [String: [Figure]]

    public init(threshold: Int, whole: [Figure], areas: [String: [Figure]]) {
        self.threshold = threshold
        self.whole = whole
        self.areas = areas
    }

    /// The keys hidden in each unit: `nil` for the organisation, else the area.
    public func hidden() -> [String?: Set<String>] {
        var solver = Solver(grid: self)
        solver.run()
        var result: [String?: Set<String>] = [:]
        for (unit, keys) in solver.hidden {
            result[unit] = keys.filter { !$0.hasPrefix(Solver.complementPrefix) }
        }
        for unit in solver.units where result[unit] == nil { result[unit] = [] }
        return result
    }

    /// The working state: per unit, each protected cell's families and whether it is hidden.
    /// Complements of parts are cells of their own (`~key`), never published.
    private struct Solver {
        static let complementPrefix = "~"
        let threshold: Int
        let units: [String?]
        var families: [String?: [String: Int]] = [:]
        var figures: [String?: [String: Figure]] = [:]
        var hidden: [String?: Set<String>] = [:]

        init(grid: DisclosureGrid) {
            threshold = grid.threshold
            units = [nil] + grid.areas.keys.sorted().map(Optional.some)
            for unit in units {
                let list = unit.map { grid.areas[$0] ?? [] } ?? grid.whole
                var byKey: [String: Figure] = [:]
                var counts: [String: Int] = [:]
                for figure in list {
                    byKey[figure.key] = figure
                    counts[figure.key] = figure.families
                }
                for figure in list {
                    if case .part(let whole) = figure.kind {
                        counts[Self.complementPrefix + figure.key] = max(0, (counts[whole] ?? 0) - figure.families)
                    }
                }
                figures[unit] = byKey
                families[unit] = counts
                hidden[unit] = []
            }
        }

        mutating func run() {
            for unit in units { primary(unit) }
            // Each round only hides more cells, so this ends; the bound is a safety net.
            for _ in 0..<1_000 {
                var changed = false
                for key in additiveKeys() { changed = acrossAreas(key) || changed }
                for unit in units {
                    changed = partitions(unit) || changed
                    changed = partsAndWholes(unit) || changed
                }
                if !changed { break }
            }
            for unit in units { statistics(unit) }
        }

        private func value(_ unit: String?, _ key: String) -> Int { families[unit]?[key] ?? 0 }
        private func isHidden(_ unit: String?, _ key: String) -> Bool { hidden[unit]?.contains(key) == true }
        private mutating func hide(_ unit: String?, _ key: String) -> Bool { hidden[unit, default: []].insert(key).inserted }

        /// A count below the threshold (0 included: the existing reports hide a zero as well);
        /// a complement between 1 and the threshold (none of the rest is no family's figure).
        private mutating func primary(_ unit: String?) {
            for (key, figure) in figures[unit] ?? [:] {
                switch figure.kind {
                case .count, .overlappingCount, .statistic:
                    if figure.families < threshold { _ = hide(unit, key) }
                case .part:
                    if figure.families < threshold { _ = hide(unit, key) }
                    let complement = Self.complementPrefix + key
                    if (1..<threshold).contains(value(unit, complement)) { _ = hide(unit, complement) }
                }
            }
        }

        /// The keys whose organisation figure is the sum of the areas' figures.
        private func additiveKeys() -> [String] {
            var keys = Set<String>()
            for unit in units {
                for (key, figure) in figures[unit] ?? [:] {
                    switch figure.kind {
                    case .count: keys.insert(key)
                    case .part:
                        keys.insert(key)
                        keys.insert(Self.complementPrefix + key)
                    case .overlappingCount, .statistic: break
                    }
                }
            }
            return keys.sorted()
        }

        /// The areas' hidden cells of `key` may not add up to fewer than `threshold` families
        /// while the organisation's figure is shown: hide the smallest shown area (or, with none
        /// left to hide, the organisation's figure).
        private mutating func acrossAreas(_ key: String) -> Bool {
            let areas = units.dropFirst()
            guard !isHidden(nil, key) else { return false }
            let hiddenSum = areas.filter { isHidden($0, key) }.reduce(0) { $0 + value($1, key) }
            guard (1..<threshold).contains(hiddenSum) else { return false }
            let shown = areas.filter { !isHidden($0, key) && value($0, key) > 0 }
                .sorted { (value($0, key), $0 ?? "") < (value($1, key), $1 ?? "") }
            if let smallest = shown.first { return hide(smallest, key) }
            return hide(nil, key)
        }

        /// Within one unit, the hidden cells of a partition may not add up to fewer than
        /// `threshold` families: hide the smallest shown cell of it.
        private mutating func partitions(_ unit: String?) -> Bool {
            var groups: [String: [String]] = [:]
            for (key, figure) in figures[unit] ?? [:] {
                if let partition = figure.partition { groups[partition, default: []].append(key) }
            }
            var changed = false
            for (_, keys) in groups.sorted(by: { $0.key < $1.key }) {
                let hiddenSum = keys.filter { isHidden(unit, $0) }.reduce(0) { $0 + value(unit, $1) }
                guard (1..<threshold).contains(hiddenSum) else { continue }
                let shown = keys.filter { !isHidden(unit, $0) && value(unit, $0) > 0 }
                    .sorted { (value(unit, $0), $0) < (value(unit, $1), $1) }
                if let smallest = shown.first { changed = hide(unit, smallest) || changed }
            }
            return changed
        }

        /// A part and its complement add up to the whole: with the whole shown, one of them
        /// hidden alone could be worked out, so both are hidden.
        private mutating func partsAndWholes(_ unit: String?) -> Bool {
            var changed = false
            for (key, figure) in (figures[unit] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .part(let whole) = figure.kind, !isHidden(unit, whole) else { continue }
                let complement = Self.complementPrefix + key
                if isHidden(unit, key) != isHidden(unit, complement) {
                    changed = hide(unit, key) || changed
                    changed = hide(unit, complement) || changed
                }
            }
            return changed
        }

        private mutating func statistics(_ unit: String?) {
            for (key, figure) in figures[unit] ?? [:] {
                if case .statistic(let basis) = figure.kind, basis.contains(where: { isHidden(unit, $0) }) {
                    _ = hide(unit, key)
                }
            }
        }
    }
}
