import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import SamenplanDomain
import SamenplanServer
import SamenplanStorage
import SamenplanTesting
import Testing

/// Health, metrics, problem+json and bearer tokens, on a minimal service.
@Suite(.serialized) struct HTTPPlatformTests {
    static let definition = ServiceDefinition(
        name: "volunteers", defaultPort: 0, migrations: [Migration(version: "0001_probe", sql: "CREATE TABLE probe (id int)")],
        routes: { group, _ in
            group.post("echo") { request, context -> String in
                _ = try context.require(.admin)
                struct Body: Decodable { var text: String }
                return try await request.decode(as: Body.self, context: context).text
            }
            group.get("whoami") { _, context -> String in
                let identity = try context.require(.admin, .teamLead)
                return "\(identity.role.rawValue):\(identity.subject):\(identity.areas.joined(separator: ","))"
            }
        })

    func json(_ response: TestResponse) throws -> JSON {
        try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
    }

    /// Issue 18, finding 9: 250 connections trickling headers stayed open for 60 s. Now a
    /// connection that has not sent a whole request head within HTTP_IDLE_TIMEOUT_SECONDS is
    /// closed by the server, while one that asks in time is answered.
    @Test func aSlowClientIsCutOff() async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                Self.definition, configuration: try environment.configuration(for: "volunteers", extra: ["HTTP_IDLE_TIMEOUT_SECONDS": "1"]))
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let slow = try RawConnection(port: port)
                defer { slow.close() }
                try slow.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                // The server closes it: a read ends (0 bytes) within a few seconds, not 60.
                let started = ContinuousClock.now
                #expect(slow.waitForClose(seconds: 10), "the half-sent request was still open after 10 s")
                #expect(ContinuousClock.now - started < .seconds(9))
                // A client that sends its request in time is answered.
                let prompt = try RawConnection(port: port)
                defer { prompt.close() }
                try prompt.send("GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                #expect(prompt.readAll(seconds: 10).hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test func readyWhenDatabaseMigrationsAndKafkaAnswer() async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                Self.definition, configuration: try environment.configuration(for: "volunteers"))
            try await app.test(.router) { client in
                let live = try await client.execute(uri: "/health/live", method: .get)
                #expect(live.status == .ok)
                #expect(try json(live)["checks"]?["process"]?["status"]?.stringValue == "up")

                #expect(try await eventually { try await client.execute(uri: "/health/ready", method: .get).status == .ok })
                let ready = try json(try await client.execute(uri: "/health/ready", method: .get))
                for check in ["database", "migrations", "kafka"] {
                    #expect(ready["checks"]?[check]?["status"]?.stringValue == "up")
                }

                // Kafka away: not ready, and the body says which check failed.
                environment.kafka.setBrokerDown(1)
                let down = try await client.execute(uri: "/health/ready", method: .get)
                #expect(down.status == .serviceUnavailable)
                #expect(try json(down)["checks"]?["kafka"]?["status"]?.stringValue == "down")
                #expect(try json(down)["checks"]?["database"]?["status"]?.stringValue == "up")
                environment.kafka.setBrokerUp(1)
                #expect(try await eventually { try await client.execute(uri: "/health/ready", method: .get).status == .ok })

                let metrics = try await client.execute(uri: "/metrics", method: .get)
                #expect(metrics.status == .ok)
                #expect(String(buffer: metrics.body).contains("# TYPE"))
            }
        }
    }

    @Test func notReadyNamingTheDatabaseWhenItIsAway() async throws {
        try await TestEnvironment.with { environment in
            var configuration = try environment.configuration(for: "volunteers")
            configuration.databaseURL = try DatabaseURL("postgres://volunteers:x@127.0.0.1:1/nowhere")
            let app = try await ServiceRuntime.buildApplication(Self.definition, configuration: configuration)
            try await app.test(.router) { client in
                let started = ContinuousClock.now
                let response = try await client.execute(uri: "/health/ready", method: .get)
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(response.status == .serviceUnavailable)
                let body = try json(response)
                #expect(body["checks"]?["database"]?["status"]?.stringValue == "down")
                #expect(body["checks"]?["migrations"]?["status"]?.stringValue == "down")
                #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
            }
        }
    }

    @Test func errorsAreProblemJSONAndTokensAreChecked() async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                Self.definition, configuration: try environment.configuration(for: "volunteers"))
            try await app.test(.router) { client in
                // Before the schema is migrated, a caller with a token is asked to come back.
                let early = try await environment.token(role: .admin)
                let starting = try await client.execute(
                    uri: "/v1/whoami", method: .get, headers: [.authorization: "Bearer \(early)"])
                #expect([.serviceUnavailable, .ok].contains(starting.status))
                #expect(try await eventually { try await client.execute(uri: "/health/ready", method: .get).status == .ok })

                let missing = try await client.execute(uri: "/v1/whoami", method: .get)
                #expect(missing.status == .unauthorized)
                #expect(missing.headers[.contentType] == "application/problem+json")
                #expect(try json(missing)["status"] == .number(401))
                #expect(missing.headers[.wwwAuthenticate] != nil)

                let token = try await environment.token(role: .teamLead, subject: "tl-1", areas: ["Borsele"])
                let ok = try await client.execute(
                    uri: "/v1/whoami", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(String(buffer: ok.body) == "team-lead:tl-1:borsele")

                let wrongRole = try await environment.token(role: .volunteer)
                let forbidden = try await client.execute(
                    uri: "/v1/whoami", method: .get, headers: [.authorization: "Bearer \(wrongRole)"])
                #expect(forbidden.status == .forbidden)
                #expect(try json(forbidden)["detail"]?.stringValue?.contains("volunteer") == true)

                // Signed with another key, from another issuer, expired, or not signed at all.
                let otherKey = try await TokenAuthority(secret: String(repeating: "x", count: 40), issuer: "samenplan")
                    .sign(subject: "a", role: .admin)
                let otherIssuer = try await TokenAuthority(secret: TestEnvironment.jwtSecret, issuer: "elsewhere")
                    .sign(subject: "a", role: .admin)
                let expired = try await TokenAuthority(secret: TestEnvironment.jwtSecret, issuer: "samenplan")
                    .sign(subject: "a", role: .admin, lifetime: .seconds(-60))
                let unsigned =
                    Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URL + "."
                    + Data(#"{"sub":"a","role":"admin","areas":[],"iss":"samenplan","exp":9999999999,"iat":0}"#.utf8).base64URL + "."
                for bad in [otherKey, otherIssuer, expired, unsigned, "garbage"] {
                    let response = try await client.execute(
                        uri: "/v1/whoami", method: .get, headers: [.authorization: "Bearer \(bad)"])
                    #expect(response.status == .unauthorized)
                }

                // Text PostgreSQL cannot store (NUL) is refused with a 400 naming it, in a JSON
                // body and in the path or query; an escaped backslash before "u0000" is just text.
                let admin = try await environment.token(role: .admin)
                @Sendable func echo(_ json: String, uri: String = "/v1/echo") async throws -> TestResponse {
                    try await client.execute(
                        uri: uri, method: .post, headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                        body: ByteBuffer(string: json))
                }
                let nul = try await echo(#"{"text":"a\u0000b"}"#)
                #expect(nul.status == .badRequest)
                #expect(try json(nul)["problems"]?.arrayValue?.first?["rule"] == "no-nul")
                #expect(try await echo(#"{"text":"a\\u0000b"}"#).status == .ok)
                #expect(String(buffer: try await echo(#"{"text":"a\\u0000b"}"#).body) == #"a\u0000b"#)
                #expect(try await echo(#"{"text":"ok"}"#, uri: "/v1/echo?x=%00").status == .badRequest)

                let unknown = try await client.execute(uri: "/no/such/route", method: .get)
                #expect(unknown.status == .notFound)
                #expect(unknown.headers[.contentType] == "application/problem+json")

                // A known path with a method it does not have: 405 naming the ones it has, token or not.
                for method in [HTTPRequest.Method.delete, .put, .patch, .init("TRACE")!] {
                    let wrongMethod = try await client.execute(uri: "/v1/whoami", method: method)
                    #expect(wrongMethod.status == .methodNotAllowed)
                    #expect(wrongMethod.headers[.allow] == "GET")
                    #expect(wrongMethod.headers[.contentType] == "application/problem+json")
                }
                #expect(try await client.execute(uri: "/health/live", method: .post).headers[.allow] == "GET")
                #expect(try await client.execute(uri: "/v1/whoami/more", method: .delete).status == .notFound)
            }
        }
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A plain TCP connection to a loopback port, for talking HTTP badly on purpose.
final class RawConnection {
    let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawConnectionFailed() }
    }

    struct RawConnectionFailed: Error {}

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw RawConnectionFailed() }
    }

    /// Waits for the peer to close (a read of 0 bytes, or a reset); false if it stays open.
    func waitForClose(seconds: Int) -> Bool {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// Everything the peer sends until it closes or `seconds` pass.
    func readAll(seconds: Int) -> String {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() { Glibc.close(socket) }
}
