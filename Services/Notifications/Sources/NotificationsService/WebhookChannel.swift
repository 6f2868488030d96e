import AsyncHTTPClient
import Foundation
import NIOCore

/// Webhooks: a POST of the message as JSON, signed (`Samenplan-Signature`: HMAC-SHA256 over
/// timestamp and body, `WebhookSignature`), with the delivery id as `Idempotency-Key`. A 2xx
/// answer within 5 s is delivered; anything else is retried by the sender.
struct WebhookChannel: Sendable {
    /// For recipients without a webhook of their own.
    let defaultURL: String?
    let secret: String
    let httpClient = HTTPClient.shared

    func send(body: String, deliveryId: UUID, to url: String?) async -> DeliverySender.SendResult {
        guard let url = url ?? defaultURL else {
            return .noChannel("the recipient has no webhook and no default is configured")
        }
        let bytes = Array(body.utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: deliveryId.uuidString.lowercased())
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.sign(body: bytes, timestamp: Int(Date().timeIntervalSince1970), secret: secret))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return (200..<300).contains(status)
                ? .delivered(status: status) : .failed(status: status, error: "HTTP \(status)", permanent: false)
        } catch {
            return .failed(status: nil, error: "\(error)", permanent: false)
        }
    }
}
