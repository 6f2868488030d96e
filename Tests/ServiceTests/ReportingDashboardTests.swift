import Foundation
import Hummingbird
import HummingbirdTesting
import SamenplanServer
import SamenplanTesting
import Testing

@testable import ReportingService

/// The dashboard (issue 7, item 4): the page drawn from fixed figures, and the service's
/// `/dashboard` rendered by Debian's headless Chromium, with a screenshot and the charts'
/// bars and empty slots counted in the DOM Chromium built.
@Suite(.serialized) struct ReportingDashboardTests {
    typealias Bar = DashboardData.Bar

    static let figures = DashboardData(
        period: "2026-Q4",
        areas: ["borsele", "<script>alert(1)</script>"],
        caseloadByPhase: [Bar(label: "connect", value: 12), Bar(label: "support", value: 30), Bar(label: "secure", value: nil)],
        daysInPhase: [
            Bar(label: "connect", value: 10), Bar(label: "support", value: 40), Bar(label: "secure", value: 25.5),
            Bar(label: "total", value: nil),
        ],
        evaluationsOnTime: [Bar(label: "2026-10", value: 80), Bar(label: "2026-11", value: nil), Bar(label: "2026-12", value: 100)],
        beforeAfter: [
            .init(label: "placements", before: 6, after: nil),
            .init(label: "nuisance-reports", before: 14, after: 7),
            .init(label: "a & b \"<quoted>\"", before: 0, after: 5),
        ],
        generatedAt: Date(timeIntervalSince1970: 1_795_424_400))  // 2026-11-23T09:00:00Z, 10:00 in Amsterdam

    @Test func thePageDrawsABarForEveryFigureAndAMarkedSlotForEverySuppressedOne() throws {
        let html = DashboardPage.render(Self.figures)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"nl\">"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("url("))
        #expect(!html.contains("=\"nan") && !html.contains("inf\"") && !html.contains("=\"-"))
        #expect(html.contains("@media print") && html.contains("size: A4"))
        #expect(html.contains("Gebieden: borsele, &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("23 november 2026, 10:00"))

        let charts = Self.charts(in: html)
        #expect(charts.keys.sorted() == ["before-after", "caseload", "days-in-phase", "evaluations-on-time"])
        for (name, svg) in charts {
            #expect(svg.contains("role=\"img\"") && svg.contains("aria-label=") && svg.contains("<title>"), "\(name)")
        }
        #expect(Self.count(charts, "class=\"bar\"") == [
            "caseload": 2, "days-in-phase": 3, "evaluations-on-time": 2, "before-after": 5,
        ])
        #expect(Self.count(charts, "class=\"suppressed\"") == [
            "caseload": 1, "days-in-phase": 1, "evaluations-on-time": 1, "before-after": 1,
        ])
        // Which slots are empty, and what the bars say.
        #expect(Self.attributes("data-label", of: "suppressed", in: charts["evaluations-on-time"]) == ["2026-11"])
        #expect(Self.attributes("data-value", of: "bar", in: charts["days-in-phase"]) == ["10", "40", "25.5"])
        #expect(Self.attributes("data-series", of: "bar", in: charts["before-after"]) == ["before", "before", "after", "before", "after"])
        #expect(Self.attributes("data-series", of: "suppressed", in: charts["before-after"]) == ["after"])
        #expect(charts["days-in-phase"]?.contains(">25,5</text>") == true)
        #expect(charts["evaluations-on-time"]?.contains(">100%</text>") == true)
        #expect(charts["evaluations-on-time"]?.contains(">okt 2026</text>") == true)
        #expect(charts["caseload"]?.contains(">Verbinden</text>") == true)
        // A label from the data is escaped in attributes and in text.
        let hostile = try #require(charts["before-after"])
        #expect(hostile.contains("data-label=\"a &amp; b &quot;&lt;quoted&gt;&quot;\""))
        #expect(hostile.contains(">a &amp; b &quot;&lt;quoted&gt;&quot;</text>"))
        #expect(!hostile.contains("<quoted>"))
        // The percentages have their 0–100 axis; the tallest bar of a fitted axis reaches its top.
        #expect(charts["evaluations-on-time"].map { Self.ticks(in: $0) } == ["0", "25", "50", "75", "100"])
        #expect(charts["caseload"].map { Self.ticks(in: $0) } == ["0", "10", "20", "30"])
    }

    @Test func aPageWithoutFiguresStillDrawsEveryChartAndItsSlots() {
        let nothing = DashboardData(
            period: "2026-Q4", areas: [],
            caseloadByPhase: ["connect", "support", "secure"].map { Bar(label: $0, value: nil) },
            daysInPhase: ["connect", "support", "secure", "total"].map { Bar(label: $0, value: nil) },
            evaluationsOnTime: ["2026-10", "2026-11", "2026-12"].map { Bar(label: $0, value: nil) },
            beforeAfter: [.init(label: "placements", before: nil, after: nil), .init(label: "nuisance-reports", before: 0, after: 0)],
            generatedAt: Date(timeIntervalSince1970: 0))
        let html = DashboardPage.render(nothing)
        let charts = Self.charts(in: html)
        #expect(Self.count(charts, "class=\"bar\"") == [
            "caseload": 0, "days-in-phase": 0, "evaluations-on-time": 0, "before-after": 2,
        ])
        #expect(Self.count(charts, "class=\"suppressed\"") == [
            "caseload": 3, "days-in-phase": 4, "evaluations-on-time": 3, "before-after": 2,
        ])
        #expect(html.contains("Gebieden: alle gebieden"))
        #expect(!html.contains("=\"nan") && !html.contains("inf\"") && !html.contains("=\"-"))
        // No entries at all: the frame and a note, no bars.
        let empty = DashboardData(
            period: "2026", areas: [], caseloadByPhase: [], daysInPhase: [], evaluationsOnTime: [], beforeAfter: [],
            generatedAt: Date(timeIntervalSince1970: 0))
        let emptyCharts = Self.charts(in: DashboardPage.render(empty))
        #expect(emptyCharts.count == 4)
        #expect(emptyCharts.values.allSatisfy { $0.contains("geen gegevens") && !$0.contains("class=\"bar\"") })
    }

    /// The acceptance of issue 7: the service's own `/dashboard`, on an empty database, in
    /// headless Chromium. Every figure is suppressed there, so each chart shows its slots and
    /// no bars; the counting of bars with values is the test above.
    @Test func chromiumRendersTheServicesDashboard() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Chromium.path),
            "Debian's chromium is missing at \(Chromium.path): apt-get install chromium")
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Reporting.definition(), configuration: try environment.configuration(for: "reporting"))
            try await app.test(.live) { client in
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await client.execute(uri: "/health/ready", method: .get).status == .ok
                })
                let base = "http://127.0.0.1:\(try #require(client.port))"
                // No token: every figure on the page is already suppressed.
                let plain = try await client.execute(uri: "/dashboard", method: .get)
                try #require(plain.status == .ok, "GET /dashboard answered \(plain.status)")
                #expect(plain.headers[.contentType] == "text/html; charset=utf-8")
                #expect(Self.charts(in: String(buffer: plain.body)).count == 4)

                let directory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("samenplan-dashboard-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }

                // The screenshot of the default page (the current quarter).
                let screenshot = directory.appendingPathComponent("dashboard.png")
                let shot = try await Chromium.run(
                    ["--screenshot=\(screenshot.path)", "--window-size=1280,1600", "\(base)/dashboard"], in: directory)
                #expect(shot.status == 0, "chromium --screenshot: \(shot.errors)")
                let png = try Data(contentsOf: screenshot)
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
                #expect(png.count > 10_000, "a screenshot of \(png.count) bytes")
                Attachment.record(Array(png), named: "dashboard.png")

                // The DOM Chromium built for a given quarter: four charts, every slot empty.
                let dump = try await Chromium.run(["--dump-dom", "\(base)/dashboard?period=2026-Q4"], in: directory)
                #expect(dump.status == 0, "chromium --dump-dom: \(dump.errors)")
                let charts = Self.charts(in: String(decoding: dump.output, as: UTF8.self))
                #expect(charts.keys.sorted() == ["before-after", "caseload", "days-in-phase", "evaluations-on-time"])
                #expect(Self.count(charts, "class=\"bar\"") == [
                    "caseload": 0, "days-in-phase": 0, "evaluations-on-time": 0, "before-after": 0,
                ])
                #expect(Self.count(charts, "class=\"suppressed\"") == [
                    "caseload": 3, "days-in-phase": 4, "evaluations-on-time": 3, "before-after": 4,
                ])
                #expect(Self.attributes("data-label", of: "suppressed", in: charts["evaluations-on-time"])
                    == ["2026-10", "2026-11", "2026-12"])
                #expect(Self.attributes("data-label", of: "suppressed", in: charts["caseload"]) == ["connect", "support", "secure"])
                #expect(Self.attributes("data-label", of: "suppressed", in: charts["days-in-phase"])
                    == ["connect", "support", "secure", "total"])
                #expect(Self.attributes("data-series", of: "suppressed", in: charts["before-after"])
                    == ["before", "after", "before", "after"])
                #expect(Self.attributes("data-label", of: "suppressed", in: charts["before-after"])
                    == ["placements", "placements", "nuisance-reports", "nuisance-reports"])
            }
        }
    }

    // MARK: - Reading the page

    /// The inline SVG charts of a page, by their `data-chart`.
    static func charts(in html: String) -> [String: String] {
        var found: [String: String] = [:]
        var rest = html[...]
        while let start = rest.range(of: "<svg"), let end = rest[start.upperBound...].range(of: "</svg>") {
            let svg = String(rest[start.lowerBound..<end.upperBound])
            if let name = svg.firstMatch(of: /data-chart="([^"]*)"/)?.1 { found[String(name)] = svg }
            rest = rest[end.upperBound...]
        }
        return found
    }

    static func count(_ charts: [String: String], _ needle: String) -> [String: Int] {
        charts.mapValues { $0.components(separatedBy: needle).count - 1 }
    }

    /// An attribute of every element of a class, in order.
    static func attributes(_ name: String, of className: String, in svg: String?) -> [String] {
        guard let svg else { return [] }
        return svg.matches(of: /<(?:rect|text) class="([^"]*)"[^>]*>/).compactMap { element in
            guard element.1 == className else { return nil }
            return element.0.firstMatch(of: try! Regex("\(name)=\"([^\"]*)\""))?.output[1].substring.map(String.init)
        }
    }

    /// The labels of a chart's value axis.
    static func ticks(in svg: String) -> [String] {
        svg.matches(of: /class="tick"[^>]*>([^<]*)</).map { String($0.1) }
    }
}

/// Debian's Chromium, headless, with a profile and home of its own, killed after a minute.
enum Chromium {
    static let path = "/usr/bin/chromium"

    struct Result {
        var status: Int32
        var output: Data
        var errors: String
    }

    static func run(_ arguments: [String], in directory: URL, timeout: Duration = .seconds(60)) async throws -> Result {
        let run = directory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let stdout = run.appendingPathComponent("stdout"), stderr = run.appendingPathComponent("stderr")
        for file in [stdout, stderr] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let (output, errors) = (try FileHandle(forWritingTo: stdout), try FileHandle(forWritingTo: stderr))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--hide-scrollbars", "--user-data-dir=\(run.appendingPathComponent("profile").path)",
            ] + arguments
        var environment = ProcessInfo.processInfo.environment
        for name in ["HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"] { environment[name] = run.path }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors

        let watchdog = Task { () -> Bool in
            do { try await Task.sleep(for: timeout) } catch { return false }
            guard process.isRunning else { return false }
            kill(process.processIdentifier, SIGKILL)
            return true
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        watchdog.cancel()
        try? output.close()
        try? errors.close()
        let errorText = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        if await watchdog.value {
            throw ChromiumTimedOut(description: "chromium \(arguments) ran longer than \(timeout)\n\(errorText.suffix(2000))")
        }
        return Result(status: status, output: try Data(contentsOf: stdout), errors: String(errorText.suffix(2000)))
    }

    struct ChromiumTimedOut: Error, CustomStringConvertible {
        var description: String
    }
}

