import Foundation
import Hummingbird
import HummingbirdTesting
import NotificationsDomain
import NotificationsService
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// Notifications end to end (issue 6): every shipped rule reaches its recipients, e-mail over
/// a real SMTP server with STARTTLS and authentication, quiet hours and the daily digest on a
/// simulated clock, a failed SMTP server delaying but not losing mail, webhook retries and
/// give-up, and a resend after a lost record carrying the same idempotency key.
@Suite(.serialized) struct NotificationsDeliveryTests {
    /// Monday 2026-11-23, 23:00 in the Netherlands: in quiet hours.
    static let lateEvening = Timestamp.parse("2026-11-23T23:00:00+01:00")!

    @Test func everyRuleReachesItsRecipientsInTheirLanguage() async throws {
        try await withNotifications(clock: ManualWallClock(Self.lateEvening)) { environment, client in
            let admin = try await environment.token(role: .admin)
            // Who is who: two areas, every role, everyone with the in-app feed only.
            let people: [(String, Role, String, Language)] = [
                ("fm-1", .familyManager, "borsele", .nl), ("tl-1", .teamLead, "borsele", .en), ("tl-2", .teamLead, "goes", .nl),
                ("nt-1", .neighbourhoodTeam, "borsele", .nl), ("vc-1", .volunteerCoordinator, "borsele", .nl),
                ("vol-1", .volunteer, "borsele", .nl),
            ]
            for (id, role, area, language) in people {
                let registered = try await call(
                    client, .put, "/v1/recipients/\(id)", admin,
                    [
                        "role": .string(role.rawValue), "language": .string(language.rawValue), "areas": [.string(area)],
                        "preferences": ["urgent": ["in-app"], "normal": ["in-app"]],
                    ])
                #expect(registered.status == .ok)
            }
            // One event of every type a rule names, about a family in Borsele managed by fm-1.
            let expected: [EventType: Set<String>] = [
                .caseAssigned: ["fm-1"], .caseQueued: ["tl-1"], .courtOrderEnding: ["fm-1"],
                .planVersionProposed: ["tl-1"], .planVersionApproved: ["fm-1"], .planVersionSentBack: ["fm-1"],
                .evaluationDue: ["fm-1"], .evaluationOverdue: ["tl-1"], .continuationPlanProposed: ["tl-1"],
                .handoverOffered: ["nt-1"], .followUpDue: ["nt-1"], .helpRequestRaised: ["vc-1"],
                .volunteerMatchProposed: ["fm-1"], .volunteerConcernFlagged: ["fm-1"],
                .volunteerCertificateExpiring: ["vc-1", "vol-1"], .caseConsultationDue: ["vc-1", "tl-1"],
            ]
            var events: [EventType: CloudEvent] = [:]
            for type in expected.keys {
                var data = try #require(EventFields.sample(for: type)?.objectValue, "no sample of \(type)")
                for (key, value) in ["area": "borsele", "managerId": "fm-1", "volunteerId": "vol-1"] where data[key] != nil {
                    data[key] = .string(value)
                }
                if data["areas"] != nil { data["areas"] = ["borsele"] }
                events[type] = CloudEvent(source: "/samenplan/test", type: type.rawValue, data: .object(data))
            }
            let toPublish = events
            try await environment.withProducer { producer in
                for (type, event) in toPublish {
                    try await producer.send(topic: topic(of: type), key: nil, value: try event.structuredBytes())
                }
            }
            let total = expected.values.map(\.count).reduce(0, +)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await environment.withAdminClient { try await $0.count("SELECT count(*) FROM notifications.deliveries") } == total
            })
            for (type, recipients) in expected {
                let got = try await environment.withAdminClient { client in
                    try await client.query(
                        "SELECT recipient_id FROM notifications.deliveries WHERE event_id = \(toPublish[type]!.id) AND channel = 'in-app'"
                    ).collect().map { try $0.decode(String.self) }
                }
                #expect(Set(got) == recipients, "\(type)")
            }
            // The feed: the team lead of Borsele reads the overdue evaluation in English, marks it read.
            let lead = try await environment.token(role: .teamLead, subject: "tl-1", areas: ["borsele"])
            let feed = try decoded(try await call(client, .get, "/v1/notifications", lead))["items"]?.arrayValue ?? []
            #expect(feed.count == expected.values.filter { $0.contains("tl-1") }.count)
            let overdue = try #require(feed.first { $0["eventType"]?.stringValue == EventType.evaluationOverdue.rawValue })
            #expect(overdue["urgency"] == "urgent")
            #expect(overdue["subject"]?.stringValue?.contains("overdue") == true)
            let id = try #require(overdue["id"]?.stringValue)
            #expect(try await call(client, .post, "/v1/notifications/\(id)/read", lead).status == .noContent)
            let manager = try await environment.token(role: .familyManager, subject: "fm-1")
            #expect(try await call(client, .post, "/v1/notifications/\(id)/read", manager).status == .notFound)
            let unread = try decoded(try await call(client, .get, "/v1/notifications?unread=true", lead))["items"]?.arrayValue ?? []
            #expect(unread.count == feed.count - 1)
            // The manager's feed is in Dutch.
            let managersFeed = try decoded(try await call(client, .get, "/v1/notifications", manager))["items"]?.arrayValue ?? []
            let due = managersFeed.first { $0["eventType"]?.stringValue == EventType.evaluationDue.rawValue }
            #expect(due?["subject"]?.stringValue?.hasPrefix("Tijd voor een evaluatie") == true)
        }
    }

    @Test func managersAndVolunteersBecomeRecipientsFromTheirServicesEvents() async throws {
        try await withNotifications(clock: SystemWallClock(), extra: ["NOTIFICATIONS_WEBHOOK_URL": "http://127.0.0.1:9/hook"]) {
            environment, client in
            let events = [
                try CloudEvent(
                    source: EventSource.service("intake"), type: .managerRegistered, subject: "fm-7",
                    payload: ManagerRegistered(managerId: "fm-7", areas: ["borsele", "goes"], maxCaseload: 20, at: Date())),
                try CloudEvent(
                    source: EventSource.service("volunteers"), type: .volunteerRegistered, subject: "vol-7",
                    payload: VolunteerChanged(volunteerId: "vol-7", status: "active", areas: ["borsele"], guideId: nil, reason: nil, at: Date())),
            ]
            try await environment.withProducer { producer in
                try await producer.send(topic: Topic.intake, key: nil, value: try events[0].structuredBytes())
                try await producer.send(topic: Topic.volunteers, key: nil, value: try events[1].structuredBytes())
            }
            let admin = try await environment.token(role: .admin)
            #expect(try await eventually(timeout: .seconds(60)) {
                let volunteerKnown = try await call(client, .get, "/v1/recipients/vol-7", admin).status == .ok
                let managerKnown = try await call(client, .get, "/v1/recipients/fm-7", admin).status == .ok
                return volunteerKnown && managerKnown
            })
            let manager = try decoded(try await call(client, .get, "/v1/recipients/fm-7", admin))
            #expect(manager["role"] == "family-manager")
            #expect(manager["areas"] == ["borsele", "goes"])
            // No channels chosen: the feed and the suite's default webhook.
            #expect(manager["preferences"]?["urgent"] == ["in-app", "webhook"])
            let volunteer = try decoded(try await call(client, .get, "/v1/recipients/vol-7", admin))
            #expect(volunteer["role"] == "volunteer")
            // Someone else may not read them.
            let other = try await environment.token(role: .familyManager, subject: "fm-8")
            #expect(try await call(client, .get, "/v1/recipients/fm-7", other).status == .notFound)
        }
    }

    /// Issue 18, finding 3: a volunteer coordinator registered a volunteer under a team
    /// lead's id, and the team lead became an inactive volunteer of another area and stopped
    /// hearing of queued cases. Now the volunteers service's events change volunteers only.
    /// Issue 17: a volunteer's recipient follows the registry's sequence, not the order of arrival.
    @Test func aVolunteerUnderAStaffIdTakesNothingOver() async throws {
        try await withNotifications(clock: SystemWallClock()) { environment, client in
            let admin = try await environment.token(role: .admin)
            let lead = try await call(
                client, .put, "/v1/recipients/tl-9", admin,
                ["role": "team-lead", "areas": ["borsele"], "preferences": ["urgent": ["in-app"], "normal": ["in-app"]]])
            #expect(lead.status == .ok)
            func volunteer(_ id: String, _ status: String, _ areas: [String], sequence: Int) throws -> CloudEvent {
                try CloudEvent(
                    source: EventSource.service("volunteers"), type: sequence == 1 ? .volunteerRegistered : .volunteerStatusChanged,
                    subject: id,
                    payload: VolunteerChanged(
                        volunteerId: id, status: status, areas: areas, guideId: nil, reason: nil, at: Date(), sequence: sequence))
            }
            // The takeover attempt, and a real volunteer whose events arrive in the wrong order.
            let events = [
                try volunteer("tl-9", "stopped", ["goes"], sequence: 1),
                try volunteer("vol-9", "stopped", ["goes"], sequence: 2),
                try volunteer("vol-9", "active", ["goes"], sequence: 1),
            ]
            try await environment.withProducer { producer in
                for event in events { try await producer.send(topic: Topic.volunteers, key: Array("k".utf8), value: try event.structuredBytes()) }
            }
            let queued = try await publish(environment, .caseQueued, overriding: ["area": "borsele"])
            #expect(try await eventually(timeout: .seconds(60)) {
                let delivered = try await environment.withAdminClient { client in
                    try await client.count(
                        "SELECT count(*) FROM notifications.deliveries WHERE event_id = \(queued.id) AND recipient_id = 'tl-9'")
                }
                // Every volunteer event handled, so the order they came in has had its effect.
                let handled = try await environment.withAdminClient { client in
                    try await client.count(
                        "SELECT count(*) FROM notifications.inbox WHERE event_id = ANY(\(events.map(\.id))::text[])")
                }
                return delivered == 1 && handled == events.count
            })
            let after = try decoded(try await call(client, .get, "/v1/recipients/tl-9", admin))
            #expect(after["role"] == "team-lead" && after["areas"] == ["borsele"])
            let active = try await environment.withAdminClient { client in
                try await client.count("SELECT count(*) FROM notifications.recipients WHERE id = 'tl-9' AND active")
            }
            #expect(active == 1)
            // The volunteer's status is the registry's last (sequence 2: stopped), though it came first.
            let volunteerActive = try await environment.withAdminClient { client in
                try await client.count("SELECT count(*) FROM notifications.recipients WHERE id = 'vol-9' AND active")
            }
            #expect(volunteerActive == 0)
        }
    }

    @Test func mailWaitsOutQuietHoursAndTheDigestBundlesTheDay() async throws {
        let clock = ManualWallClock(Self.lateEvening)
        try await SMTPTestServer.run { smtp in
            try await withNotifications(clock: clock, extra: smtpSettings(smtp)) { environment, client in
                let admin = try await environment.token(role: .admin)
                // fm-1 sleeps from 22:00 to 07:00; fm-2 reads one digest a day (08:00).
                #expect(try await call(
                    client, .put, "/v1/recipients/fm-1", admin,
                    [
                        "role": "family-manager", "email": "fm-1@example.nl", "areas": ["borsele"],
                        "preferences": ["urgent": ["email"], "normal": ["in-app", "email"], "quietHours": ["from": "22:00", "to": "07:00"]],
                    ]).status == .ok)
                #expect(try await call(
                    client, .put, "/v1/recipients/fm-2", admin,
                    [
                        "role": "family-manager", "email": "fm-2@example.nl", "language": "en", "areas": ["borsele"],
                        "preferences": ["urgent": ["email"], "normal": ["email"], "digest": true],
                    ]).status == .ok)
                let dueForOne = try await publishReminder(environment, manager: "fm-1")
                let courtOrder = try await publish(
                    environment, .courtOrderEnding, overriding: ["managerId": "fm-1", "area": "borsele"])
                _ = try await publishReminder(environment, manager: "fm-2")
                _ = try await publishReminder(environment, manager: "fm-2")

                // At 23:00 only the urgent one goes out; the feed has the normal one already.
                let urgent = try await smtp.waitForMessages(count: 1)
                #expect(urgent.first?.to == ["fm-1@example.nl"])
                #expect(urgent.first?.subject.hasPrefix("De maatregel van casus") == true)
                #expect(urgent.first?.overTLS == true && urgent.first?.authenticatedUser == smtp.user)
                #expect(urgent.first?.messageId.isEmpty == false)
                let manager = try await environment.token(role: .familyManager, subject: "fm-1")
                #expect(try await eventually(timeout: .seconds(60)) {
                    (try decoded(try await call(client, .get, "/v1/notifications", manager))["items"]?.arrayValue ?? []).count == 1
                })
                // fm-2's reminders wait for the digest.
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await environment.withAdminClient {
                        try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE recipient_id = 'fm-2' AND status = 'digest'")
                    } == 2
                })
                try await Task.sleep(for: .seconds(2))
                #expect(try smtp.messages().count == 1)

                // 07:00: the quiet hours are over and the reminder follows.
                clock.set(Timestamp.parse("2026-11-24T07:00:30+01:00")!)
                let morning = try await smtp.waitForMessages(count: 2)
                #expect(morning.map(\.to) == [["fm-1@example.nl"], ["fm-1@example.nl"]])
                #expect(morning.last?.subject.contains(dueForOne.data["caseId"]?.stringValue ?? "?") == true)
                #expect(try smtp.messages().allSatisfy { !$0.to.contains("fm-2@example.nl") })

                // 08:00: fm-2's two reminders arrive as one digest, in English.
                clock.set(Timestamp.parse("2026-11-24T08:00:30+01:00")!)
                let withDigest = try await smtp.waitForMessages(count: 3)
                let digest = try #require(withDigest.last)
                #expect(digest.to == ["fm-2@example.nl"])
                #expect(digest.body.components(separatedBy: "evaluation").count - 1 >= 2)
                try await Task.sleep(for: .seconds(2))
                #expect(try smtp.messages().count == 3)
                let bundled = try await environment.withAdminClient {
                    try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE status = 'bundled' AND recipient_id = 'fm-2'")
                }
                #expect(bundled == 2)
                #expect(courtOrder.id != dueForOne.id)
            }
        }
    }

    @Test func aFailedSMTPServerDelaysButDoesNotLoseMail() async throws {
        let smtp = try await SMTPTestServer.start()
        await smtp.stop()
        do {
            try await withNotifications(clock: SystemWallClock(), extra: smtpSettings(smtp)) { environment, client in
                let admin = try await environment.token(role: .admin)
                #expect(try await call(
                    client, .put, "/v1/recipients/fm-1", admin,
                    ["role": "family-manager", "email": "fm-1@example.nl", "preferences": ["urgent": ["email"], "normal": ["email"]]]
                ).status == .ok)
                _ = try await publish(environment, .volunteerConcernFlagged, overriding: ["managerId": "fm-1"])
                // The server is away: the attempts fail and are retried.
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await environment.withAdminClient {
                        try await $0.count("SELECT count(*) FROM notifications.delivery_attempts WHERE outcome = 'failed'")
                    } >= 1
                })
                try await smtp.restart()
                let mails = try await smtp.waitForMessages(count: 1, timeout: .seconds(30))
                #expect(mails.first?.to == ["fm-1@example.nl"])
                // The sender records the outcome right after the mail went out.
                @Sendable func outcomes() async throws -> [String] {
                    try await environment.withAdminClient { client in
                        try await client.query("SELECT outcome FROM notifications.delivery_attempts ORDER BY attempt").collect()
                            .map { try $0.decode(String.self) }
                    }
                }
                #expect(try await eventually(timeout: .seconds(60)) { try await outcomes().last == "delivered" })
                #expect(try await outcomes().dropLast().allSatisfy { $0 == "failed" })
            }
            await smtp.stop()
        } catch {
            await smtp.stop()
            throw error
        }
    }

    @Test func aWebhookIsGivenUpAfterItsAttemptsAndAResendKeepsItsKey() async throws {
        let receiver = RecordingReceiver()
        receiver.answer(Array(repeating: .internalServerError, count: 3))
        try await receiver.run { url in
            try await withNotifications(
                clock: SystemWallClock(), extra: ["NOTIFICATIONS_WEBHOOK_URL": url + "/hook", "NOTIFICATIONS_MAX_ATTEMPTS": "3"]
            ) { environment, _ in
                _ = try await publishReminder(environment, manager: "fm-9")
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await environment.withAdminClient {
                        try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE status = 'failed' AND attempts = 3")
                    } == 1
                })
                #expect(receiver.requests.count == 3)
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await environment.withAdminClient {
                        try await $0.count("SELECT count(*) FROM notifications.outbox WHERE event LIKE '%notification.failed%'")
                    } == 1
                })

                // A second message is delivered; then, as after a crash between sending and
                // recording, it is due again with its claim run out: it is sent again with the
                // same idempotency key, so the receiver can keep one.
                _ = try await publishReminder(environment, manager: "fm-8")
                #expect(try await eventually(timeout: .seconds(60)) { receiver.requests.count == 4 })
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await environment.withAdminClient {
                        try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE recipient_id = 'fm-8' AND status = 'delivered'")
                    } == 1
                })
                _ = try await environment.withAdminClient { client in
                    try await client.query(
                        """
                        UPDATE notifications.deliveries SET status = 'pending', next_attempt_at = now() - interval '1 minute',
                            claimed_until = now() - interval '1 second' WHERE recipient_id = 'fm-8'
                        """)
                }
                #expect(try await eventually(timeout: .seconds(60)) { receiver.requests.count == 5 })
                let keys = receiver.requests.suffix(2).map { $0.headers["idempotency-key"] }
                #expect(keys[0] != nil && keys[0] == keys[1])
            }
        }
    }
}

/// Runs notifications on `clock` with a default webhook nobody answers unless given.
private func withNotifications(
    clock: any WallClock, extra: [String: String] = [:],
    _ body: @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
) async throws {
    try await TestEnvironment.with { environment in
        let app = try await ServiceRuntime.buildApplication(
            try Notifications.definition(), configuration: try environment.configuration(for: "notifications", extra: extra),
            clock: clock)
        try await withRunningApplications([app]) { clients in try await body(environment, clients[0]) }
    }
}

private func smtpSettings(_ smtp: SMTPTestServer) -> [String: String] {
    [
        "NOTIFICATIONS_SMTP_URL": smtp.url, "NOTIFICATIONS_SMTP_USER": smtp.user, "NOTIFICATIONS_SMTP_PASSWORD": smtp.password,
        "NOTIFICATIONS_SMTP_FROM": "Samenplan <noreply@samenplan.test>", "NOTIFICATIONS_SMTP_CA_FILE": smtp.caFile,
    ]
}

private func topic(of type: EventType) -> String {
    if type.rawValue.contains(".case.assigned.") || type.rawValue.contains(".case.queued.") || type.rawValue.contains("court-order") {
        return Topic.intake
    }
    return type.rawValue.contains("volunteer") || type.rawValue.contains("case-consultation") ? Topic.volunteers : Topic.planning
}

/// Publishes an event of `type` built from its sample, with some fields set.
private func publish(_ environment: TestEnvironment, _ type: EventType, overriding: [String: String]) async throws -> CloudEvent {
    var data = try #require(EventFields.sample(for: type)?.objectValue)
    data["caseId"] = .string(UUID().uuidString.lowercased())
    for (key, value) in overriding { data[key] = .string(value) }
    let event = CloudEvent(source: "/samenplan/test", type: type.rawValue, data: .object(data))
    try await environment.withProducer { producer in
        try await producer.send(topic: topic(of: type), key: nil, value: try event.structuredBytes())
    }
    return event
}

private func publishReminder(_ environment: TestEnvironment, manager: String) async throws -> CloudEvent {
    try await publish(environment, .evaluationDue, overriding: ["managerId": manager, "area": "borsele"])
}

private func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ token: String, _ json: JSON? = nil
) async throws -> TestResponse {
    try await client.execute(
        uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
        body: try json.map { ByteBuffer(bytes: try JSONCoding.encoder.encode($0)) })
}

private func decoded(_ response: TestResponse) throws -> JSON {
    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
}
