import Dispatch
import Foundation

/// One message the test SMTP server accepted: the envelope, the raw text, and what Python's
/// own e-mail parser decoded from it, so a test checks the mailer against an independent
/// reader of RFC 5322, 2045 and 2047.
public struct ReceivedMail: Sendable, Decodable {
    /// The envelope: MAIL FROM and RCPT TO.
    public let from: String
    public let to: [String]
    /// The message as it arrived (CRLF line ends, dot-stuffing undone).
    public let raw: String
    /// Whether it came over TLS (after STARTTLS) and who authenticated.
    public let overTLS: Bool
    public let authenticatedUser: String?
    /// Decoded by the server: the Subject (encoded-words undone) and the text body
    /// (transfer encoding and charset undone, LF line ends).
    public let subject: String
    public let body: String
    public let messageId: String
    public let headerFrom: String
    public let headerTo: String
    public let date: String
    public let contentType: String
    public let transferEncoding: String
    /// Problems Python's parser found in the message (class names); empty for a clean one.
    public let defects: [String]

    /// A header's raw value as sent (unfolded, not decoded), or nil.
    public func header(_ name: String) -> String? {
        let head = raw.components(separatedBy: "\r\n\r\n").first ?? raw
        let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: "\t")
        for line in unfolded.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].caseInsensitiveCompare(name) == .orderedSame {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    private struct Parsed: Decodable {
        let from, to, subject, message_id, date, content_type, transfer_encoding, body: String
        let defects: [String]
    }

    private enum Keys: String, CodingKey { case mail_from, rcpt_tos, data, tls, auth_user, parsed }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        from = try container.decode(String.self, forKey: .mail_from)
        to = try container.decode([String].self, forKey: .rcpt_tos)
        raw = try container.decode(String.self, forKey: .data)
        overTLS = try container.decode(Bool.self, forKey: .tls)
        authenticatedUser = try container.decodeIfPresent(String.self, forKey: .auth_user)
        let parsed = try container.decode(Parsed.self, forKey: .parsed)
        subject = parsed.subject
        body = parsed.body
        messageId = parsed.message_id
        headerFrom = parsed.from
        headerTo = parsed.to
        date = parsed.date
        contentType = parsed.content_type
        transferEncoding = parsed.transfer_encoding
        defects = parsed.defects
    }
}

/// A real SMTP server (scripts/smtp_server.py, aiosmtpd) in a process of its own, the way
/// notifications meets one in production: STARTTLS required, then AUTH with `user` and
/// `password`; its certificate is self-signed, so clients trust `caFile`. It writes what it
/// receives to `directory`; `messages()` reads it back. Recipients whose local part is
/// `reject` get a permanent 550 and `defer` a transient 451.
///
///     try await SMTPTestServer.run { server in
///         // send to server.url with server.user/password, trusting server.caFile
///         let mail = try await server.waitForMessages(count: 1)
///     }
///
/// For a server that is down first and comes up later: `start()`, `stop()`, send (nobody
/// listens on `port`), then `restart()`: same port, same certificate, same mailbox.
public final class SMTPTestServer: @unchecked Sendable {  // mutable state behind `lock`
    public let port: Int
    public let directory: URL
    public let user: String
    public let password: String
    /// The server's self-signed certificate (PEM), for the client to trust.
    public var caFile: String { directory.appendingPathComponent("cert.pem").path }
    /// Where to send: STARTTLS on this port. The certificate names 127.0.0.1 and localhost.
    public var url: String { "smtp://127.0.0.1:\(port)" }

    private let lock = NSLock()
    private var process: Process?
    private var stdin: Pipe?

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// The repository's scripts/smtp_server.py, found from this file's place in the tree.
    public static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/smtp_server.py")
    }

    private init(port: Int, directory: URL, user: String, password: String) {
        self.port = port
        self.directory = directory
        self.user = user
        self.password = password
    }

    /// Starts a server on `port` (0: a free one) keeping its files in `directory` (default: a
    /// new temporary one); returns once it accepts connections.
    public static func start(
        port: Int = 0, directory: URL? = nil, user: String = "samenplan-mailer", password: String = "smtp-secret-0123"
    ) async throws -> SMTPTestServer {
        let directory = directory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (process, stdin, chosen) = try await launch(port: port, directory: directory, user: user, password: password)
        let server = SMTPTestServer(port: chosen, directory: directory, user: user, password: password)
        server.lock.withLock {
            server.process = process
            server.stdin = stdin
        }
        return server
    }

    /// Starts a server, runs `body`, and stops the server and removes its files however `body` ends.
    public static func run<T>(_ body: (SMTPTestServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            try? FileManager.default.removeItem(at: server.directory)
            return result
        } catch {
            await server.stop()
            try? FileManager.default.removeItem(at: server.directory)
            throw error
        }
    }

    /// Starts the stopped server again on the same port with the same certificate and mailbox.
    public func restart() async throws {
        guard !isRunning else { return }
        let (process, stdin, chosen) = try await Self.launch(
            port: port, directory: directory, user: user, password: password)
        lock.withLock {
            self.process = process
            self.stdin = stdin
        }
        guard chosen == port else { throw SMTPTestServerError.startFailed("came back on \(chosen), not \(port)") }
    }

    /// SIGTERM, then waits for the process to end (SIGKILL after 10 s). Safe to call twice.
    public func stop() async {
        let (process, stdin) = lock.withLock {
            defer { self.process = nil; self.stdin = nil }
            return (self.process, self.stdin)
        }
        guard let process else { return }
        if process.isRunning { process.terminate() }
        for _ in 0..<400 where process.isRunning { try? await Task.sleep(for: .milliseconds(25)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? stdin?.fileHandleForWriting.close()
    }

    /// Every message accepted so far, oldest first.
    public func messages() throws -> [ReceivedMail] {
        let log = directory.appendingPathComponent("mail.jsonl")
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        let decoder = JSONDecoder()
        return try String(decoding: Data(contentsOf: log), as: UTF8.self)
            .split(separator: "\n").map { try decoder.decode(ReceivedMail.self, from: Data($0.utf8)) }
    }

    /// Waits until at least `count` messages have arrived and returns them all.
    public func waitForMessages(count: Int, timeout: Duration = .seconds(10)) async throws -> [ReceivedMail] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let received = try messages()
            if received.count >= count { return received }
            guard ContinuousClock.now < deadline else {
                throw SMTPTestServerError.timedOut("\(received.count) of \(count) messages after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// What the server wrote to stderr (its errors), for a failing test's message.
    public func log() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    deinit {
        // A test that forgot stop(): the server also ends when our end of its stdin closes.
        if let process, process.isRunning { process.terminate() }
    }

    private static func launch(
        port: Int, directory: URL, user: String, password: String
    ) async throws -> (Process, Pipe, Int) {
        let logURL = directory.appendingPathComponent("server.log")
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let stderr = try FileHandle(forWritingTo: logURL)
        defer { try? stderr.close() }
        try stderr.seekToEnd()

        let process = Process()
        // Debian's python3 is the one with python3-aiosmtpd, whatever else is first on PATH.
        let debianPython = "/usr/bin/python3"
        let arguments = [
            script.path, "--port", String(port), "--dir", directory.path,
            "--user", user, "--password", password, "--exit-on-stdin-eof",
        ]
        if FileManager.default.isExecutableFile(atPath: debianPython) {
            process.executableURL = URL(fileURLWithPath: debianPython)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
        }
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()

        // The first line is the port; a blocking read, so on a dispatch thread, not the
        // test's. A watchdog ends a server that never answers, which ends the read too.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let line: String = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = stdout.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        watchdog.cancel()
        guard let chosen = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            if process.isRunning { process.terminate() }
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            throw SMTPTestServerError.startFailed("no port from \(script.path): \(line.debugDescription)\n\(log)")
        }
        return (process, stdin, chosen)
    }
}

public enum SMTPTestServerError: Error, CustomStringConvertible {
    case startFailed(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .startFailed(let detail): "SMTP test server did not start: \(detail)"
        case .timedOut(let detail): "SMTP test server: \(detail)"
        }
    }
}
