import Foundation
import Hummingbird
import SamenplanDomain

/// One readiness check: its name and a probe that says whether the dependency answers.
public struct HealthCheck: Sendable {
    public var name: String
    public var probe: @Sendable () async -> HealthStatus

    public init(name: String, probe: @escaping @Sendable () async -> HealthStatus) {
        self.name = name
        self.probe = probe
    }
}

public struct HealthStatus: Sendable {
    public var up: Bool
    public var detail: String?

    public static let up = HealthStatus(up: true, detail: nil)
    public static func down(_ detail: String) -> HealthStatus { HealthStatus(up: false, detail: detail) }
}

/// `/health/live`, `/health/ready` and `/metrics` (DESIGN.md, HTTP): no token needed.
public enum HealthRoutes {
    /// How long one probe may take before it counts as down, so that a database that hangs
    /// instead of refusing still gives a prompt 503.
    static let probeTimeout: Duration = .seconds(2)

    public static func add(to router: Router<SamenplanRequestContext>, service: String, checks: [HealthCheck]) {
        router.get("health/live") { _, _ in
            try jsonResponse(.ok, ["status": .string("up"), "service": .string(service), "checks": .object(["process": .object(["status": .string("up")])])])
        }
        router.get("health/ready") { _, _ in
            let results = await withTaskGroup(of: (String, HealthStatus).self) { group in
                for check in checks {
                    group.addTask { (check.name, await probe(check)) }
                }
                var results: [String: HealthStatus] = [:]
                for await (name, status) in group { results[name] = status }
                return results
            }
            let ready = results.values.allSatisfy(\.up)
            var body: [String: JSON] = [:]
            for (name, status) in results {
                var entry: [String: JSON] = ["status": .string(status.up ? "up" : "down")]
                if let detail = status.detail { entry["detail"] = .string(detail) }
                body[name] = .object(entry)
            }
            return try jsonResponse(
                ready ? .ok : .serviceUnavailable,
                ["status": .string(ready ? "ready" : "not-ready"), "service": .string(service), "checks": .object(body)])
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: Observability.renderMetrics())))
        }
    }

    static func probe(_ check: HealthCheck) async -> HealthStatus {
        await withTaskGroup(of: HealthStatus?.self) { group in
            group.addTask { await check.probe() }
            group.addTask {
                try? await Task.sleep(for: probeTimeout)
                return Task.isCancelled ? nil : .down("no answer within \(probeTimeout)")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .down("no answer")
        }
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: [String: JSON]) throws -> Response {
        try .json(.object(body), status: status)
    }
}
