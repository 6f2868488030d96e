import ReportingDomain
import SamenplanDomain
import Testing

// Which external figures are hidden (issue 17, "look once"; issue 18, finding 2): every rule
// of DisclosureGrid, and the subtraction attacks themselves, worked out by hand. A figure an
// attacker could work out is checked by doing the subtraction the attack would do.

@Suite("Disclosure control")
struct DisclosureTests {
    typealias Figure = DisclosureGrid.Figure

    static func counts(_ pairs: [(String, Int)]) -> [Figure] { pairs.map { Figure(key: $0.0, families: $0.1) } }

    @Test func aCountBelowTheThresholdIsHiddenAndZeroToo() {
        let grid = DisclosureGrid(threshold: 5, whole: Self.counts([("referrals", 4), ("closures", 0), ("evaluations", 5)]), areas: [:])
        #expect(grid.hidden()[nil] == ["referrals", "closures"])
    }

    /// The attack of issue 18: the organisation's figure minus every shown area's gives the
    /// hidden area's. With one small area hidden, a second area is hidden with it.
    @Test func theOrganisationMinusTheShownAreasRevealsNothingSmall() {
        let areas = ["borsele": 33, "goes": 12, "small": 1]
        let grid = DisclosureGrid(
            threshold: 5, whole: Self.counts([("referrals", 46)]),
            areas: areas.mapValues { Self.counts([("referrals", $0)]) })
        let hidden = grid.hidden()
        #expect(hidden["small"] == ["referrals"])
        // The next smallest area is hidden as well, so the difference is 13 families, never 1.
        #expect(hidden["goes"] == ["referrals"])
        #expect(hidden["borsele"] == [])
        #expect(hidden[nil] == [])
        let shown = areas.filter { hidden[$0.key]?.contains("referrals") == false }.values.reduce(0, +)
        let workedOut = 46 - shown
        #expect(workedOut == 0 || workedOut >= 5)
    }

    @Test func whenEveryOtherAreaIsTooSmallTheOrganisationsFigureIsHidden() {
        let grid = DisclosureGrid(
            threshold: 5, whole: Self.counts([("referrals", 3)]),
            areas: ["a": Self.counts([("referrals", 2)]), "b": Self.counts([("referrals", 1)])])
        #expect(grid.hidden()[nil] == ["referrals"])
    }

    @Test func hiddenAreasThatAddUpToEnoughNeedNoMore() {
        let grid = DisclosureGrid(
            threshold: 5, whole: Self.counts([("referrals", 16)]),
            areas: ["a": Self.counts([("referrals", 3)]), "b": Self.counts([("referrals", 3)]), "c": Self.counts([("referrals", 10)])])
        let hidden = grid.hidden()
        #expect(hidden["a"] == ["referrals"] && hidden["b"] == ["referrals"])
        #expect(hidden["c"] == [] && hidden[nil] == [])
    }

    /// An area's phases add up to its open cases, and so do its frameworks: reading one
    /// partition next to the other must not reveal a hidden phase.
    @Test func aPartitionsHiddenCellsNeverAddUpToASmallFigure() {
        let borsele = [
            Figure(key: "open-cases/connect", families: 10, partition: "phase"),
            Figure(key: "open-cases/support", families: 3, partition: "phase"),
            Figure(key: "open-cases/secure", families: 7, partition: "phase"),
            Figure(key: "open-cases-by-framework/voluntary", families: 20, partition: "framework"),
        ]
        let hidden = DisclosureGrid(threshold: 5, whole: borsele, areas: ["borsele": borsele]).hidden()
        // support (3) is hidden, and secure (7), the smallest shown phase, with it.
        #expect(hidden["borsele"] == ["open-cases/support", "open-cases/secure"])
        let workedOut = 20 - 10
        #expect(workedOut >= 5)
    }

    /// Nine of ten evaluations on time says the tenth was late: a figure about one family.
    @Test func aPartWhoseComplementIsSmallIsHidden() {
        let figures = [
            Figure(key: "evaluations", families: 10),
            Figure(key: "evaluations-on-time", families: 9, kind: .part(of: "evaluations")),
            Figure(key: "on-time-percent", families: 10, kind: .statistic(basis: ["evaluations", "evaluations-on-time"])),
        ]
        let hidden = DisclosureGrid(threshold: 5, whole: figures, areas: [:]).hidden()[nil]
        #expect(hidden == ["evaluations-on-time", "on-time-percent"])
        // All ten on time, or five of ten: nothing about fewer than five families.
        for onTime in [10, 5] {
            var shown = figures
            shown[1].families = onTime
            #expect(DisclosureGrid(threshold: 5, whole: shown, areas: [:]).hidden()[nil] == [])
        }
    }

    @Test func aPartsComplementIsProtectedAcrossAreasToo() {
        // Late evaluations: 0 in a, 2 in b; the organisation's 2 late are b's.
        func unit(_ held: Int, _ onTime: Int) -> [Figure] {
            [Figure(key: "evaluations", families: held), Figure(key: "on-time", families: onTime, kind: .part(of: "evaluations"))]
        }
        let hidden = DisclosureGrid(threshold: 5, whole: unit(30, 28), areas: ["a": unit(20, 20), "b": unit(10, 8)]).hidden()
        #expect(hidden["b"]?.contains("on-time") == true)
        #expect(hidden[nil]?.contains("on-time") == true)
    }

    @Test func aStatisticFollowsItsBasis() {
        let figures = [
            Figure(key: "cases-leaving/connect", families: 6),
            Figure(key: "days-median/connect", families: 6, kind: .statistic(basis: ["cases-leaving/connect"])),
        ]
        // The organisation shows 6, one area 6 of them, the other 0: nothing hidden.
        #expect(DisclosureGrid(threshold: 5, whole: figures, areas: ["a": figures]).hidden()["a"] == [])
        // Two areas of 3: each area's median goes with its hidden count.
        var half = figures
        half[0].families = 3
        half[1].families = 3
        let hidden = DisclosureGrid(threshold: 5, whole: figures, areas: ["a": half, "b": half]).hidden()
        #expect(hidden["a"] == ["cases-leaving/connect", "days-median/connect"])
        #expect(hidden[nil] == [])
    }

    @Test func volunteersServingSeveralAreasAreNotSubtractedAcrossThem() {
        let grid = DisclosureGrid(
            threshold: 5, whole: [Figure(key: "active-volunteers", families: 9, kind: .overlappingCount)],
            areas: [
                "a": [Figure(key: "active-volunteers", families: 7, kind: .overlappingCount)],
                "b": [Figure(key: "active-volunteers", families: 4, kind: .overlappingCount)],
            ])
        let hidden = grid.hidden()
        #expect(hidden["b"] == ["active-volunteers"] && hidden["a"] == [] && hidden[nil] == [])
    }

    /// Whatever the grid, no figure an outsider can work out by subtracting shown figures
    /// along the grid's sums is about 1 to threshold − 1 families. Checked on seeded grids.
    @Test(arguments: TestSeeds.all)
    func noSubtractionAlongTheGridRevealsASmallFigure(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let names = (0..<random.next(upTo: 5) + 1).map { "area-\($0)" }
            var areas: [String: [Figure]] = [:]
            var totals: [String: Int] = [:]
            for name in names {
                var figures: [Figure] = []
                for phase in ["connect", "support", "secure"] {
                    let value = random.next(upTo: 3) == 0 ? random.next(upTo: 5) : random.next(upTo: 30)
                    figures.append(Figure(key: phase, families: value, partition: "phase"))
                    totals[phase, default: 0] += value
                }
                areas[name] = figures
            }
            let whole = ["connect", "support", "secure"].map { Figure(key: $0, families: totals[$0] ?? 0, partition: "phase") }
            let grid = DisclosureGrid(threshold: 5, whole: whole, areas: areas)
            let hidden = grid.hidden()
            // Along a column: the organisation's figure minus the shown areas'.
            for phase in ["connect", "support", "secure"] where hidden[nil]?.contains(phase) == false {
                let rest = names.filter { hidden[$0]?.contains(phase) == true }
                    .reduce(0) { sum, name in sum + (areas[name]!.first { $0.key == phase }!.families) }
                #expect(rest == 0 || rest >= 5, "seed \(seed): \(phase) \(areas)")
            }
            // Along a partition: with any phase of an area shown, the hidden ones never add up
            // to a small figure (the area's total could be known from elsewhere). All hidden,
            // the parts reveal nothing but that the total was small.
            for name in names {
                let cells = areas[name]!
                let hiddenCells = cells.filter { hidden[name]?.contains($0.key) == true }
                guard hiddenCells.count < cells.count else { continue }
                let rest = hiddenCells.reduce(0) { $0 + $1.families }
                #expect(rest == 0 || rest >= 5, "seed \(seed): \(name) \(cells)")
            }
        }
    }
}

