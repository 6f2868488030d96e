import Foundation
@testable import NotificationsService
import SamenplanTesting
import Testing

/// The mailer against a real SMTP server (aiosmtpd, in a process of its own) that insists on
/// STARTTLS and AUTH, checked by that server's own parser.
@Suite(.serialized) struct SMTPMailerTests {
    static let sender = "Samenplan <noreply@samenplan.test>"

    static func settings(_ server: SMTPTestServer, password: String? = nil, trust: Bool = true) -> SMTPSettings {
        SMTPSettings(
            url: server.url, username: server.user, password: password ?? server.password,
            from: sender, caFile: trust ? server.caFile : nil, timeout: .seconds(5))
    }

    static func message(to: String = "Gezinsmanager <fm-1@wijk.test>", id: String = UUID().uuidString) -> MailMessage {
        MailMessage(to: to, subject: "Evaluatie", body: "Goedemorgen.\n", messageId: id)
    }

    static func expectError(_ kind: String, _ send: () async throws(MailError) -> Void) async -> MailError? {
        do {
            try await send()
            Issue.record("expected a \(kind) error, the mail was sent")
            return nil
        } catch {
            return error
        }
    }

    @Test func nonASCIIMailArrivesIntactOverSTARTTLSWithAuth() async throws {
        try await SMTPTestServer.run { server in
            let subject = "Evaluatie te laat: gezin Çelik-Müller, “één” week over — 👪 plan ✓ (regio Zeeuws-Vlaanderen)"
            let body = """
                Beste gezinsmanager,

                De evaluatie van het plan voor gezin Çelik-Müller is één week over tijd. 😟
                .Deze regel begint met een punt, en deze = is een gelijkteken.
                Een heel lange regel die langer is dan zesenzeventig tekens, zodat quoted-printable hem moet afbreken zonder iets te verliezen: ĳ ß ø å ç.
                Spaties aan het eind blijven staan:\("   ")
                .
                Met vriendelijke groet,
                Samenplan

                """
            let id = "delivery-\(UUID().uuidString.lowercased())"
            let mailer = SMTPMailer(settings: Self.settings(server))
            try await mailer.send(
                MailMessage(
                    to: "Jeroen de Vries <fm-7@wijk.test>", subject: subject, body: body, messageId: id,
                    extraHeaders: [("Auto-Submitted", "auto-generated")]))

            let mails = try await server.waitForMessages(count: 1)
            try #require(mails.count == 1)
            let mail = mails[0]
            #expect(mail.overTLS)
            #expect(mail.authenticatedUser == server.user)
            #expect(mail.from == "noreply@samenplan.test")
            #expect(mail.to == ["fm-7@wijk.test"])
            #expect(mail.headerFrom == Self.sender)
            #expect(mail.headerTo == "Jeroen de Vries <fm-7@wijk.test>")
            #expect(mail.subject == subject)
            #expect(mail.body == body)
            #expect(mail.messageId == "<\(id)@samenplan>")
            #expect(mail.contentType == "text/plain; charset=\"utf-8\"")
            #expect(mail.header("MIME-Version") == "1.0")
            #expect(mail.header("Auto-Submitted") == "auto-generated")
            #expect(mail.header("Date")?.hasSuffix("+0000") == true)
            #expect(mail.defects.isEmpty, "\(mail.defects)")
            // Sent as 7-bit text in lines no longer than RFC 5322 allows: no relay can mangle it.
            #expect(mail.raw.unicodeScalars.allSatisfy { $0.isASCII })
            #expect(mail.raw.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        }
    }

    @Test func wrongPasswordIsPermanentAndSendsNothing() async throws {
        try await SMTPTestServer.run { server in
            let mailer = SMTPMailer(settings: Self.settings(server, password: "not-the-password"))
            let error = await Self.expectError("permanent") { () async throws(MailError) in
                try await mailer.send(Self.message())
            }
            #expect(error?.isPermanent == true, "\(String(describing: error))")
            #expect(error?.message.contains("535") == true, "\(String(describing: error))")
            let received = try server.messages()
            #expect(received.isEmpty)
        }
    }

    @Test func nobodyListeningIsTransientAndTheMailGoesOnceTheServerIsBack() async throws {
        let server = try await SMTPTestServer.start()
        defer { try? FileManager.default.removeItem(at: server.directory) }
        await server.stop()
        let mailer = SMTPMailer(settings: Self.settings(server))
        let message = Self.message()
        let error = await Self.expectError("transient") { () async throws(MailError) in try await mailer.send(message) }
        #expect(error?.isPermanent == false, "\(String(describing: error))")

        try await server.restart()
        try await mailer.send(message)
        let mails = try await server.waitForMessages(count: 1)
        await server.stop()
        #expect(mails.map(\.messageId) == ["<\(message.messageId)@samenplan>"])
    }

    @Test func untrustedCertificateFailsAndSendsNothing() async throws {
        try await SMTPTestServer.run { server in
            // No caFile: the system's trust store does not know the self-signed certificate.
            let mailer = SMTPMailer(settings: Self.settings(server, trust: false))
            let error = await Self.expectError("certificate") { () async throws(MailError) in
                try await mailer.send(Self.message())
            }
            #expect(error?.isPermanent == true, "\(String(describing: error))")
            #expect(error?.message.lowercased().contains("certificate") == true, "\(String(describing: error))")
            let received = try server.messages()
            #expect(received.isEmpty)
        }
    }

    @Test func rejectedRecipientIsPermanentAndDeferredIsTransient() async throws {
        try await SMTPTestServer.run { server in
            let mailer = SMTPMailer(settings: Self.settings(server))
            let rejected = await Self.expectError("permanent") { () async throws(MailError) in
                try await mailer.send(Self.message(to: "reject@wijk.test"))
            }
            #expect(rejected?.isPermanent == true, "\(String(describing: rejected))")
            #expect(rejected?.message.contains("550") == true, "\(String(describing: rejected))")
            let deferred = await Self.expectError("transient") { () async throws(MailError) in
                try await mailer.send(Self.message(to: "defer@wijk.test"))
            }
            #expect(deferred?.isPermanent == false, "\(String(describing: deferred))")
            #expect(deferred?.message.contains("451") == true, "\(String(describing: deferred))")
            let received = try server.messages()
            #expect(received.isEmpty)
        }
    }

    @Test func headersCannotBeInjected() throws {
        let date = Date(timeIntervalSince1970: 0)
        let rendered = try SMTPMailer.render(
            MailMessage(to: "a@b.test", subject: "Hallo\r\nBcc: victim@evil.test", body: "x", messageId: "m1"),
            from: "n@s.test", to: "a@b.test", date: date)
        let text = String(decoding: rendered, as: UTF8.self)
        #expect(!text.contains("\r\nBcc:"))
        #expect(text.contains("\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(throws: MailError.self) { try SMTPMailer.mailbox("a@b.test\r\nBcc: victim@evil.test") }
        #expect(throws: MailError.self) { try SMTPMailer.mailbox("not an address") }
        #expect(throws: MailError.self) {
            try SMTPMailer.render(
                MailMessage(to: "a@b.test", subject: "s", body: "x", messageId: "m1", extraHeaders: [("Bcc\r\nX", "y")]),
                from: "n@s.test", to: "a@b.test", date: date)
        }
        #expect(throws: MailError.self) {
            try SMTPMailer.render(
                MailMessage(to: "a@b.test", subject: "s", body: "x", messageId: "m1> <other"),
                from: "n@s.test", to: "a@b.test", date: date)
        }
    }
}
