import Foundation

/// What `GET /dashboard` shows, already computed and suppressed for a wide audience (every
/// figure of fewer than `REPORTING_SUPPRESS_BELOW` families is nil). The page draws it; it
/// computes nothing itself.
struct DashboardData: Sendable, Hashable {
    struct Bar: Sendable, Hashable {
        /// What the bar stands for, e.g. `connect` or `2026-11`.
        var label: String
        /// nil: suppressed or unknown; drawn as an empty slot with a note.
        var value: Double?
    }

    struct BeforeAfter: Sendable, Hashable {
        var label: String
        var before: Double?
        var after: Double?
    }

    /// The period the page is about, e.g. `2026-Q4`.
    var period: String
    /// The areas it covers; empty for all.
    var areas: [String]
    /// Open cases now, by phase: connect, support, secure.
    var caseloadByPhase: [Bar]
    /// Median days in each phase (connect, support, secure, total) for cases that left it in the period.
    var daysInPhase: [Bar]
    /// Evaluations held within 8 weeks, in percent, per month of the period (one bar or point per month).
    var evaluationsOnTime: [Bar]
    /// Out-of-home placements and nuisance reports, before and after support started.
    var beforeAfter: [BeforeAfter]
    /// When the figures were read.
    var generatedAt: Date
}
