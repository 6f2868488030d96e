import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SamenplanDomain

/// The suite's HTTP APIs as the load generator and the reconciler call them: a status and a
/// JSON body, or nil when the service did not answer (killed, restarting) — during a chaos
/// run that is expected, and the caller decides whether to try again.
struct LoadHTTP: Sendable {
    struct Answer: Sendable {
        var status: Int
        var body: JSON?
    }

    let client: HTTPClient

    func call(
        _ method: HTTPMethod, _ url: String, token: String, body: JSON? = nil, headers: [(String, String)] = []
    ) async -> Answer? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body, let bytes = try? JSONCoding.encoder.encode(body) {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            let json = try? JSONCoding.decoder.decode(JSON.self, from: Data(buffer.readableBytesView))
            return Answer(status: Int(response.status.code), body: json)
        } catch {
            return nil
        }
    }

    /// Calls until `attempt` succeeds, or `deadline` passes (false then). Between tries it
    /// waits a second: the service may be restarting, and hundreds of cases may be waiting
    /// at once, whose polls must not become the load.
    func retry(until deadline: ContinuousClock.Instant, _ attempt: () async -> Bool) async -> Bool {
        while ContinuousClock.now < deadline {
            if await attempt() { return true }
            try? await Task.sleep(for: .seconds(1))
        }
        return false
    }
}
