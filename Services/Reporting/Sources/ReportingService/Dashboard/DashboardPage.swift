import Foundation
import SamenplanDomain

/// The dashboard page (`GET /dashboard`, issue 7 item 4): one self-contained HTML5 document in
/// Dutch, with a line of English under each chart's heading. Four charts as inline SVG, a
/// stylesheet for screen and for A4 print, no JavaScript and nothing loaded from elsewhere.
/// It draws `DashboardData` and computes nothing but the scale of each chart.
///
/// Every drawn bar is `<rect class="bar" data-label="…" data-value="…">` (in the before/after
/// chart also `data-series="before"` or `"after"`); a nil value draws no bar but
/// `<text class="suppressed" data-label="…">—</text>` in its slot. Each chart is
/// `<svg data-chart="caseload|days-in-phase|evaluations-on-time|before-after">`.
enum DashboardPage {
    static func render(_ data: DashboardData) -> String {
        let areas = data.areas.isEmpty ? "alle gebieden" : data.areas.map(escape).joined(separator: ", ")
        let (generated, generatedISO) = timestamp(data.generatedAt)
        let sections = [
            section(
                "caseload", "Caseload per fase", english: "Open cases by phase, now",
                chart: barChart(
                    "caseload", title: "Open zaken per fase", bars: data.caseloadByPhase, axis: .fitting(data.caseloadByPhase),
                    name: phaseName)),
            section(
                "days-in-phase", "Dagen in fase (mediaan)", english: "Median days in phase, cases that left it in the period",
                chart: barChart(
                    "days-in-phase", title: "Mediaan aantal dagen per fase", bars: data.daysInPhase,
                    axis: .fitting(data.daysInPhase), name: phaseName)),
            section(
                "evaluations-on-time", "Evaluaties op tijd (%)", english: "Evaluations held within 8 weeks, per month",
                chart: barChart(
                    "evaluations-on-time", title: "Evaluaties binnen 8 weken, procent per maand", bars: data.evaluationsOnTime,
                    axis: .percent, suffix: "%", name: monthName)),
            section(
                "before-after", "Uithuisplaatsingen en overlast, vóór en na", english:
                    "Out-of-home placements and nuisance reports, 6 months before and after support started",
                chart: beforeAfterChart(data.beforeAfter)),
        ]
        return """
            <!DOCTYPE html>
            <html lang="nl">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Samenplan dashboard \(escape(data.period))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <h1>Samenplan dashboard <span class="period">\(escape(data.period))</span></h1>
            <p class="meta">Gebieden: \(areas) · bijgewerkt <time datetime="\(generatedISO)">\(generated)</time></p>
            </header>
            <main class="charts">
            \(sections.joined(separator: "\n"))
            </main>
            <footer>
            <p>— niet getoond: te weinig gezinnen om het cijfer te tonen zonder dat een gezin herkenbaar wordt, of geen gegevens.
            Alle cijfers zijn totalen; geen enkel gezin staat op deze pagina.</p>
            <p lang="en">— not shown: too few families to show the figure safely, or no data.</p>
            </footer>
            </body>
            </html>

            """
    }

    // MARK: - Charts

    private static let width = 560.0, height = 300.0
    /// The margins around the plot: tick labels left, the legend and value labels above, labels below.
    private static let left = 48.0, right = 12.0, top = 40.0, bottom = 44.0
    private static var plotWidth: Double { width - left - right }
    private static var plotHeight: Double { height - top - bottom }
    private static var baseline: Double { height - bottom }

    /// The value axis: from 0 to `top`, with a labelled line at each tick.
    struct Axis {
        var top: Double
        var ticks: [Double]

        static let percent = Axis(top: 100, ticks: [0, 25, 50, 75, 100])

        /// 0 to a round number at or above the largest value, in 1, 2 or 5 times a power of ten.
        static func fitting(_ bars: [DashboardData.Bar]) -> Axis { fitting(bars.map(\.value)) }

        static func fitting(_ values: [Double?]) -> Axis {
            let largest = values.compactMap { $0 }.filter(\.isFinite).max() ?? 0
            guard largest > 0 else { return Axis(top: 1, ticks: [0]) }
            let rough = largest / 4
            let power = pow(10, log10(rough).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough * 0.999_999 } ?? 10 * power
            let top = (largest / step).rounded(.up) * step
            return Axis(top: top, ticks: Array(stride(from: 0, through: top + step / 2, by: step)))
        }

        func y(_ value: Double) -> Double {
            DashboardPage.baseline - DashboardPage.plotHeight * min(max(value, 0), top) / top
        }
    }

    /// One bar per entry (the caseload, days-in-phase and evaluations charts).
    private static func barChart(
        _ id: String, title: String, bars: [DashboardData.Bar], axis: Axis, suffix: String = "",
        name: (String) -> String
    ) -> String {
        let slot = plotWidth / Double(max(bars.count, 1))
        let body = bars.enumerated().map { index, bar in
            let center = left + slot * (Double(index) + 0.5)
            return draw(bar.value, label: bar.label, center: center, width: min(slot * 0.6, 72), axis: axis, suffix: suffix)
                + xLabel(name(bar.label), center: center)
        }
        let summary = bars.map { "\(name($0.label)): \(shown($0.value, suffix))" }
        return svg(id, title: title, summary: summary, axis: axis, body: bars.isEmpty ? [noData] : body)
    }

    /// Two bars per entry, before and after support started, with a legend.
    private static func beforeAfterChart(_ groups: [DashboardData.BeforeAfter]) -> String {
        let axis = Axis.fitting(groups.flatMap { [$0.before, $0.after] })
        let slot = plotWidth / Double(max(groups.count, 1))
        let barWidth = min(slot * 0.34, 60)
        let body = groups.enumerated().map { index, group in
            let center = left + slot * (Double(index) + 0.5)
            let offset = barWidth * 0.55
            return draw(group.before, label: group.label, series: "before", center: center - offset, width: barWidth, axis: axis)
                + draw(group.after, label: group.label, series: "after", center: center + offset, width: barWidth, axis: axis)
                + xLabel(outcomeName(group.label), center: center)
        }
        let legend = """
            <g class="legend"><rect class="swatch" data-series="before" x="\(n(width - 250))" y="8" width="12" height="12"/>\
            <text x="\(n(width - 232))" y="18">vóór start</text>\
            <rect class="swatch" data-series="after" x="\(n(width - 130))" y="8" width="12" height="12"/>\
            <text x="\(n(width - 112))" y="18">na start</text></g>
            """
        let summary = groups.map {
            "\(outcomeName($0.label)): vóór \(shown($0.before, "")), na \(shown($0.after, ""))"
        }
        return svg(
            "before-after", title: "Uithuisplaatsingen en overlastmeldingen, 6 maanden vóór en na de start",
            summary: summary, axis: axis, body: [legend] + (groups.isEmpty ? [noData] : body))
    }

    /// A chart's frame: title and description for assistive technology, grid lines with the
    /// axis' ticks, the baseline, then `body`.
    private static func svg(_ id: String, title: String, summary: [String], axis: Axis, body: [String]) -> String {
        let grid = axis.ticks.map { tick in
            let y = n(axis.y(tick))
            return """
                <line class="grid" x1="\(n(left))" x2="\(n(width - right))" y1="\(y)" y2="\(y)"/>\
                <text class="tick" x="\(n(left - 6))" y="\(y)" dy="4" text-anchor="end">\(number(tick))</text>
                """
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" data-chart="\(id)" role="img" aria-label="\(escape(title))" \
            viewBox="0 0 \(n(width)) \(n(height))">
            <title>\(escape(title))</title>
            <desc>\(escape(summary.joined(separator: "; ")))</desc>
            \(grid.joined(separator: "\n"))
            <line class="axis" x1="\(n(left))" x2="\(n(width - right))" y1="\(n(baseline))" y2="\(n(baseline))"/>
            \(body.joined(separator: "\n"))
            </svg>
            """
    }

    /// A bar with its value above it, or the suppressed note in its place.
    private static func draw(
        _ value: Double?, label: String, series: String? = nil, center: Double, width: Double, axis: Axis, suffix: String = ""
    ) -> String {
        let seriesAttribute = series.map { " data-series=\"\($0)\"" } ?? ""
        guard let value, value.isFinite else {
            return """
                <text class="suppressed" data-label="\(escape(label))"\(seriesAttribute) x="\(n(center))" \
                y="\(n(baseline - 8))" text-anchor="middle">—</text>
                """
        }
        let y = axis.y(value)
        return """
            <rect class="bar" data-label="\(escape(label))" data-value="\(machine(value))"\(seriesAttribute) \
            x="\(n(center - width / 2))" y="\(n(y))" width="\(n(width))" height="\(n(baseline - y))"/>\
            <text class="value" x="\(n(center))" y="\(n(y - 5))" text-anchor="middle">\(number(value))\(suffix)</text>
            """
    }

    private static func xLabel(_ text: String, center: Double) -> String {
        "<text class=\"label\" x=\"\(n(center))\" y=\"\(n(baseline + 20))\" text-anchor=\"middle\">\(escape(text))</text>"
    }

    private static var noData: String {
        "<text class=\"empty\" x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\">geen gegevens</text>"
    }

    private static func section(_ id: String, _ heading: String, english: String, chart: String) -> String {
        """
        <section class="chart" id="\(id)">
        <h2>\(escape(heading))</h2>
        <p class="sub" lang="en">\(escape(english))</p>
        \(chart)
        </section>
        """
    }

    // MARK: - Words and numbers

    private static func phaseName(_ label: String) -> String {
        ["connect": "Verbinden", "support": "Ondersteunen", "secure": "Borgen", "total": "Totaal"][label] ?? label
    }

    private static func outcomeName(_ label: String) -> String {
        ["placements": "Uithuisplaatsingen", "nuisance-reports": "Overlastmeldingen", "nuisance": "Overlastmeldingen"][label]
            ?? label
    }

    private static let months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    private static let monthsInFull = [
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november",
        "december",
    ]

    /// `2026-11` as `nov 2026`; any other label as it is.
    private static func monthName(_ label: String) -> String {
        let parts = label.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]),
            (1...12).contains(month)
        else { return label }
        return "\(months[month - 1]) \(year)"
    }

    /// When the figures were read, in Dutch and Amsterdam time, and as ISO 8601 for `<time>`.
    private static func timestamp(_ date: Date) -> (String, String) {
        let calendar = Calendar.netherlands
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        let time = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        let iso = date.formatted(.iso8601)
        return ("\(day) \(monthsInFull[month - 1]) \(year), \(time)", iso)
    }

    /// A figure as shown: whole numbers as they are, others with one decimal and a comma.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        guard rounded.isFinite, abs(rounded) < 1e15 else { return "—" }
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.1f", rounded).replacingOccurrences(of: ".", with: ",")
    }

    private static func shown(_ value: Double?, _ suffix: String) -> String {
        value.map { number($0) + suffix } ?? "niet getoond"
    }

    /// A value for `data-value`: a plain decimal number with a point.
    private static func machine(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// A coordinate, to two decimals.
    private static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// Text for HTML and SVG, in content and in attribute values alike.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    // MARK: - Style

    private static let style = """

        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1240px; padding: 24px; color: #1d2733; background: #f3f5f7;
          font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
        h1 { font-size: 1.6rem; margin: 0 0 4px; }
        .period { color: #2c6e9b; }
        .meta, .sub, footer { color: #4a5663; }
        .meta { margin: 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 20px; margin: 20px 0; }
        .chart { background: #fff; border: 1px solid #d3d9df; border-radius: 6px; padding: 14px 16px 8px; }
        h2 { font-size: 1.1rem; margin: 0; }
        .sub { margin: 0 0 6px; font-size: .85rem; }
        svg { display: block; width: 100%; height: auto; overflow: visible; }
        svg text { font-family: inherit; font-size: 13px; fill: #1d2733; }
        .grid { stroke: #e2e6ea; stroke-width: 1; }
        .axis { stroke: #4a5663; stroke-width: 1.5; }
        svg .tick { font-size: 12px; fill: #4a5663; }
        .bar, .swatch { fill: #2c6e9b; }
        .bar[data-series="after"], .swatch[data-series="after"] { fill: #e08a2c; }
        svg .value { font-weight: bold; }
        svg .suppressed { font-size: 20px; font-weight: bold; fill: #4a5663; }
        svg .empty { fill: #6b7580; }
        footer { font-size: .85rem; }
        footer p { margin: 0 0 4px; }
        @page { size: A4 portrait; margin: 14mm; }
        @media print {
          body { max-width: none; padding: 0; background: none; font-size: 10pt; }
          .charts { display: block; margin: 6mm 0; }
          .chart { border: 1px solid #9aa3ad; border-radius: 0; margin: 0 0 6mm; padding: 3mm 4mm;
            break-inside: avoid; page-break-inside: avoid; }
          svg { max-height: 100mm; }
          .bar, .swatch { fill: #1f4e79; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
          .bar[data-series="after"], .swatch[data-series="after"] { fill: #d97a16; }
        }

        """
}
