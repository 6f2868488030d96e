import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// Issue 18, finding 1, as the attack was made: an integrator with a source of its own sends
/// a referral naming a child another integrator referred, in another area, plus a carer of
/// its own invention. It must learn that its referral was accepted and nothing more (over
/// HTTP, `GET /v1/referrals` and its answers topic), and the family must not change until its
/// manager confirms the new person: the child is not stored twice, the carer is only proposed.
@Suite(.serialized) struct IntegratorProbeTests {
    static let first = "/integrators/veilig-thuis"
    static let prober = "/integrators/elders"

    @Test func aJoiningReferralRevealsNothingAndAddsNobodyByItself() async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"))
            try await withRunningApplications([app]) { clients in
                let intake = clients[0]
                let admin = try await environment.token(role: .admin)
                @Sendable func post(_ event: CloudEvent, as source: String) async throws -> (HTTPResponse.Status, JSON) {
                    let token = try await environment.token(role: .integrator, subject: source)
                    let response = try await intake.execute(
                        uri: "/v1/events", method: .post,
                        headers: [.authorization: "Bearer \(token)", .contentType: CloudEvent.structuredContentType],
                        body: ByteBuffer(bytes: try event.structuredBytes()))
                    return (response.status, try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body)))
                }
                @Sendable func get(_ path: String, _ token: String) async throws -> JSON {
                    let response = try await intake.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
                    try #require(response.status == .ok, "GET \(path): \(response.status)")
                    return try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
                }

                // The family as the first integrator referred it.
                let (firstStatus, _) = try await post(referralEvent(source: Self.first, referralId: "VT-1"), as: Self.first)
                #expect(firstStatus == .accepted)

                // The probe: the same child (other member references), another area, and a carer.
                var probe = referralEvent(source: Self.prober, referralId: "EL-1", area: "goes")
                probe.data = .object([
                    "referralId": "EL-1", "framework": "voluntary", "urgency": "normal", "area": "goes",
                    "referrer": ["organisation": "Elders"],
                    "members": [
                        ["memberRef": "c1", "role": "child", "givenName": "Sanne", "familyName": "de Vries", "birthDate": "2015-04-02"],
                        ["memberRef": "c2", "role": "carer", "givenName": "Mallory", "familyName": "Indringer"],
                    ],
                    "reason": "Een proef.",
                ])
                let (status, answer) = try await post(probe, as: Self.prober)
                #expect(status == .accepted)
                #expect(answer == ["id": .string(probe.id), "source": .string(Self.prober), "status": "accepted"])

                // Asked again over HTTP: accepted, when, and nothing else.
                let proberToken = try await environment.token(role: .integrator, subject: Self.prober)
                let asked = try await get("/v1/referrals?source=\(Self.prober.percentEncodedForQuery)&referralId=EL-1", proberToken)
                #expect(Set(asked.objectValue?.keys ?? [:].keys) == ["status", "receivedAt"])

                // On the integrators' topic: the same, for both referrals.
                let answers = try await readTopic(Topic.answers, from: environment, atLeast: 2).compactMap(\.event)
                let mine = try #require(answers.first { $0.data["referralId"] == "EL-1" })
                #expect(mine.type == EventType.referralAccepted.rawValue)
                #expect(Set(mine.data.objectValue?.keys ?? [:].keys) == ["eventSource", "eventId", "referralId"])

                // The family: the child once, no carer.
                let caseId = try #require(
                    try await environment.withAdminClient { client in
                        try await client.query("SELECT case_id::text FROM intake.referrals WHERE referral_id = 'EL-1'").collect().first?
                            .decode(String.self)
                    })
                #expect(
                    try await environment.withAdminClient { client in
                        try await client.query("SELECT case_id::text FROM intake.referrals WHERE referral_id = 'VT-1'").collect().first?
                            .decode(String.self)
                    } == caseId)
                let family = try await get("/v1/cases/\(caseId)/family", admin)
                #expect(family["members"]?.arrayValue?.compactMap { $0["givenName"]?.stringValue } == ["Eva", "Sanne"])
                let service = try await environment.token(role: .service, subject: "volunteers")
                #expect(try await get("/v1/cases/\(caseId)/first-names", service)["firstNames"] == ["Eva", "Sanne"])

                // The carer waits for whoever may see the case; the child was recognised.
                let proposals = try await get("/v1/cases/\(caseId)/member-proposals", admin)["items"]?.arrayValue ?? []
                #expect(proposals.compactMap { $0["givenName"]?.stringValue } == ["Mallory"])
                #expect(proposals.first?["referral"] == ["source": .string(Self.prober), "referralId": "EL-1"])
                let proposalId = try #require(proposals.first?["id"]?.stringValue)
                @Sendable func decide(_ body: JSON, _ token: String) async throws -> TestResponse {
                    try await intake.execute(
                        uri: "/v1/cases/\(caseId)/member-proposals/\(proposalId)", method: .post,
                        headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: ByteBuffer(bytes: try JSONCoding.encoder.encode(body)))
                }
                // A refusal needs a reason; someone who may not see the case finds nothing.
                #expect(try await decide(["decision": "refuse"], admin).status == .badRequest)
                let stranger = try await environment.token(role: .familyManager, subject: "fm-elders")
                #expect(try await decide(["decision": "confirm"], stranger).status == .notFound)
                #expect(try await decide(["decision": "refuse", "reason": "Niet bekend bij het gezin."], admin).status == .ok)
                #expect(try await decide(["decision": "confirm"], admin).status == .conflict)
                #expect(try await get("/v1/cases/\(caseId)/family", admin)["members"]?.arrayValue?.count == 2)
                let audited = try await environment.withAdminClient { client in
                    try await client.count(
                        "SELECT count(*) FROM intake.audit_log WHERE resource_type = 'member-proposals' AND action = 'refuse-member' AND outcome = 'allowed'")
                }
                #expect(audited == 1)

                // A later referral naming the same carer again is proposed again (the refusal
                // was about that referral); confirmed, the carer joins under a free reference.
                var again = probe
                again.id = UUID().uuidString
                if case .object(var data) = again.data {
                    data["referralId"] = "EL-2"
                    again.data = .object(data)
                }
                #expect(try await post(again, as: Self.prober).0 == .accepted)
                let open = try await get("/v1/cases/\(caseId)/member-proposals", admin)["items"]?.arrayValue?
                    .filter { $0["status"] == "proposed" } ?? []
                #expect(open.count == 1)
                let secondId = try #require(open.first?["id"]?.stringValue)
                let confirmed = try await intake.execute(
                    uri: "/v1/cases/\(caseId)/member-proposals/\(secondId)", method: .post,
                    headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                    body: ByteBuffer(bytes: try JSONCoding.encoder.encode(["decision": "confirm"] as JSON)))
                #expect(confirmed.status == .ok)
                let names = try await get("/v1/cases/\(caseId)/family", admin)["members"]?.arrayValue?.compactMap { $0["givenName"]?.stringValue }
                #expect(Set(names ?? []) == ["Eva", "Sanne", "Mallory"] && names?.count == 3)
            }
        }
    }
}

extension String {
    fileprivate var percentEncodedForQuery: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self }
}
