import CCurl
import Dispatch
import Foundation

/// Where mail goes and as whom. Mail always travels encrypted: STARTTLS is required on
/// `smtp://` (a server that does not offer it gets nothing) and `smtps://` is TLS from the
/// first byte; the server's certificate is always verified.
struct SMTPSettings: Sendable {
    /// `smtp://host:port` (STARTTLS) or `smtps://host:port`.
    var url: String
    var username: String?
    var password: String?
    /// The sender, `noreply@example.org` or `Samenplan <noreply@example.org>`.
    var from: String
    /// A PEM file with the certificates to trust instead of the system's, e.g. a test
    /// server's self-signed one. Verification itself is never switched off.
    var caFile: String?
    /// For the whole exchange, connecting included.
    var timeout: Duration = .seconds(10)
}

/// One plain-text message to one recipient.
struct MailMessage: Sendable {
    /// `someone@example.org` or `Name <someone@example.org>`.
    var to: String
    var subject: String
    /// Sent as text/plain; charset=utf-8, quoted-printable (safe through any relay).
    var body: String
    /// Stable per delivery, so a message sent twice (a crash between sending and recording)
    /// reaches the receiver with the same `Message-ID: <messageId@samenplan>`, which is what
    /// mail clients and archives deduplicate on. Letters, digits and `.-_` etc. (RFC 5322 atext).
    var messageId: String
    var extraHeaders: [(String, String)] = []
}

/// Why a message was not sent. `permanent`: sending it again unchanged will fail again
/// (a 5xx reply such as a rejected recipient, credentials refused, a certificate not trusted,
/// a malformed message or setting), so give up and record it; `transient`: worth retrying
/// later (cannot connect, timeout, connection lost, a 4xx reply).
enum MailError: Error, Sendable, CustomStringConvertible {
    case transient(String)
    case permanent(String)

    var isPermanent: Bool {
        if case .permanent = self { return true }
        return false
    }

    var message: String {
        switch self {
        case .transient(let message), .permanent(let message): message
        }
    }

    var description: String { "\(isPermanent ? "permanent" : "transient") mail error: \(message)" }
}

/// libcurl's global state, set up once: Swift runs a global's initialiser exactly once,
/// thread-safely, on first use.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// Sends mail through libcurl's SMTP client (STARTTLS, AUTH, dot-stuffing and the SMTP
/// dialogue are curl's). A new connection per message keeps failures from leaking between
/// messages. curl's easy API blocks, so each send runs on this mailer's own serial dispatch
/// queue, never on a Swift concurrency or NIO event-loop thread; one message at a time per
/// mailer also bounds the connections we open to the server.
final class SMTPMailer: Sendable {
    let settings: SMTPSettings
    private let queue = DispatchQueue(label: "samenplan.notifications.smtp")

    init(settings: SMTPSettings) {
        self.settings = settings
    }

    func send(_ message: MailMessage) async throws(MailError) {
        let sender = try Self.mailbox(settings.from)
        let recipient = try Self.mailbox(message.to)
        let payload = try Self.render(message, from: sender.header, to: recipient.header, date: Date())
        let settings = self.settings
        // Cancellation does not interrupt a send under way; the timeout bounds it.
        let result: Result<Void, MailError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Self.perform(settings, from: sender.address, to: recipient.address, payload: payload))
            }
        }
        try result.get()
    }

    // MARK: The SMTP exchange (blocking, on the queue)

    /// The message being uploaded; curl's read callback pulls it piece by piece. Only the
    /// queue's thread touches it, during `curl_easy_perform`.
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    private static func perform(
        _ settings: SMTPSettings, from: String, to: String, payload: [UInt8]
    ) -> Result<Void, MailError> {
        guard curlGlobalInit == CURLE_OK else {
            return .failure(.transient("libcurl could not be initialised: \(describe(curlGlobalInit))"))
        }
        guard let curl = curl_easy_init() else { return .failure(.transient("curl_easy_init failed")) }
        defer { curl_easy_cleanup(curl) }
        // curl copies the strings it is given, but not this list, the buffer or the upload.
        guard let recipients = curl_slist_append(nil, "<\(to)>") else {
            return .failure(.transient("out of memory"))
        }
        defer { curl_slist_free_all(recipients) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer { errorBuffer.deallocate() }
        let upload = Upload(payload)

        var code = CURLE_OK
        func apply(_ result: CURLcode) { if code == CURLE_OK { code = result } }
        let timeout = settings.timeout.components
        let milliseconds = max(1, Int(timeout.seconds) * 1000 + Int(timeout.attoseconds / 1_000_000_000_000_000))

        apply(samenplan_curl_setopt_string(curl, CURLOPT_URL, settings.url))
        // A mistyped URL must not turn this into an HTTP (or any other) client.
        apply(samenplan_curl_setopt_string(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps"))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = settings.caFile { apply(samenplan_curl_setopt_string(curl, CURLOPT_CAINFO, caFile)) }
        if let username = settings.username { apply(samenplan_curl_setopt_string(curl, CURLOPT_USERNAME, username)) }
        if let password = settings.password { apply(samenplan_curl_setopt_string(curl, CURLOPT_PASSWORD, password)) }
        apply(samenplan_curl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(from)>"))
        apply(samenplan_curl_setopt_slist(curl, CURLOPT_MAIL_RCPT, recipients))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_UPLOAD, 1))
        apply(samenplan_curl_setopt_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque()))
        apply(samenplan_curl_setopt_read_function(curl) { buffer, size, count, context in
            guard let buffer, let context else { return Int(CURL_READFUNC_ABORT) }
            let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            guard length > 0 else { return 0 }
            upload.bytes.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + upload.offset, byteCount: length)
            }
            upload.offset += length
            return length
        })
        // Timeouts by signal are unsafe in a multi-threaded process.
        apply(samenplan_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, milliseconds))
        apply(samenplan_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, milliseconds))
        apply(samenplan_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer))

        if code == CURLE_OK {
            code = withExtendedLifetime(upload) { curl_easy_perform(curl) }
        }
        if code == CURLE_OK { return .success(()) }
        var response = 0
        _ = samenplan_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &response)
        return .failure(classify(code, response: response, detail: String(cString: errorBuffer)))
    }

    /// The server's reply decides when there is one (5xx permanent, 4xx transient); otherwise
    /// failures that need someone to change a setting are permanent and the rest transient.
    static func classify(_ code: CURLcode, response: Int, detail: String) -> MailError {
        var message = describe(code)
        if !detail.isEmpty && detail != message { message += ": \(detail)" }
        if response > 0 { message += " (SMTP \(response))" }
        switch response {
        case 500..<600: return .permanent(message)
        case 400..<500: return .transient(message)
        default: break
        }
        let needsSomeoneToAct: [CURLcode] = [
            CURLE_LOGIN_DENIED, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_USE_SSL_FAILED, CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL,
            CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT,
        ]
        return needsSomeoneToAct.contains(code) ? .permanent(message) : .transient(message)
    }

    private static func describe(_ code: CURLcode) -> String {
        curl_easy_strerror(code).map { String(cString: $0) } ?? "curl error \(code.rawValue)"
    }

    // MARK: The message (RFC 5322 / MIME), built before anything is sent

    /// A mailbox as the header shows it and the bare address for the envelope.
    static func mailbox(_ text: String) throws(MailError) -> (header: String, address: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        var name = ""
        var address = text
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            name = text[..<open].trimmingCharacters(in: .whitespaces)
            address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        let forbidden = Set<Character>(" \t\r\n<>(),;:\\\"[]")
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            address.allSatisfy({ $0.isASCII && !forbidden.contains($0) })
        else { throw .permanent("not a mail address: \(text.debugDescription)") }
        return (name.isEmpty ? address : "\(phrase(name)) <\(address)>", address)
    }

    static func render(_ message: MailMessage, from: String, to: String, date: Date) throws(MailError) -> [UInt8] {
        let atext = Set<Character>("!#$%&'*+-/=?^_`{|}~.")
        guard !message.messageId.isEmpty,
            message.messageId.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || atext.contains($0)) })
        else { throw .permanent("not usable in a Message-ID: \(message.messageId.debugDescription)") }

        let dateFormat = DateFormatter()
        dateFormat.locale = Locale(identifier: "en_US_POSIX")
        dateFormat.timeZone = TimeZone(identifier: "UTC")
        dateFormat.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"

        var headers: [(String, String)] = [
            ("From", from),
            ("To", to),
            ("Subject", unstructured(message.subject)),
            ("Date", dateFormat.string(from: date)),
            ("Message-ID", "<\(message.messageId)@samenplan>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ]
        let ours = Set(headers.map { $0.0.lowercased() })
        for (name, value) in message.extraHeaders {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0 != ":" && !$0.isWhitespace && !$0.isNewline }),
                !ours.contains(name.lowercased())
            else { throw .permanent("not usable as an extra header: \(name.debugDescription)") }
            headers.append((name, unstructured(value)))
        }
        var text = ""
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n" + quotedPrintable(message.body)
        return Array(text.utf8)
    }

    /// Header text: kept as it is when it is short, plain ASCII; otherwise RFC 2047
    /// encoded-words. Line breaks would start a new header, so they become spaces.
    static func unstructured(_ value: String) -> String {
        let value = String(value.map { $0.isNewline ? " " : $0 })
        let plain = value.count <= 60 && !value.contains("=?") && value.allSatisfy { $0.isASCII && !$0.isNewline }
        return plain ? value : encodedWords(value)
    }

    /// A display name: as it is, quoted, or encoded-words.
    static func phrase(_ name: String) -> String {
        let name = String(name.map { $0.isNewline ? " " : $0 })
        let atext = Set<Character>("!#$%&'*+-/=?^_`{|}~ ")
        if name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || atext.contains($0)) }) && !name.contains("=?") {
            return name
        }
        if name.allSatisfy(\.isASCII) && !name.contains("=?") {
            return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return encodedWords(name)
    }

    /// `=?UTF-8?B?...?=` words of at most 39 bytes each (a word stays under 75 characters and
    /// its header line under 78), never splitting a character, folded onto continuation lines.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
        return words.joined(separator: "\r\n ")
    }

    /// Quoted-printable (RFC 2045): 7-bit lines of at most 76 characters whatever the text,
    /// CRLF line ends, trailing blanks kept visible.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        var encoded: [String] = []
        for line in lines {
            let bytes = Array(line.utf8)
            var current = ""
            for (index, byte) in bytes.enumerated() {
                let blank = byte == 0x20 || byte == 0x09
                let literal = (byte >= 0x21 && byte <= 0x7E && byte != 0x3D) || (blank && index < bytes.count - 1)
                let token = literal
                    ? String(UnicodeScalar(byte)) : "=\(hex[Int(byte >> 4)])\(hex[Int(byte & 0x0F)])"
                if current.utf8.count + token.utf8.count > 75 {
                    encoded.append(current + "=")
                    current = ""
                }
                current += token
            }
            encoded.append(current)
        }
        let body = encoded.joined(separator: "\r\n")
        return body.hasSuffix("\r\n") ? body : body + "\r\n"
    }
}
