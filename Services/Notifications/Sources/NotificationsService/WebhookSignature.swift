import Crypto
import Foundation

/// The signature a webhook receiver checks: `Samenplan-Signature: t=<unix seconds>,v1=<hex>`,
/// where hex is HMAC-SHA256 over `"<t>.<body>"` with the shared secret. Signing the
/// timestamp with the body lets receivers refuse replays of old messages.
public enum WebhookSignature {
    public static let header = "Samenplan-Signature"

    public static func sign(body: [UInt8], timestamp: Int, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// What a receiver does: recompute and compare in constant time.
    public static func verify(header: String, body: [UInt8], secret: String) -> Bool {
        var timestamp: Int?
        var signature: String?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { signature = String(pair[1]) }
        }
        guard let timestamp, let signature else { return false }
        let expected = sign(body: body, timestamp: timestamp, secret: secret)
        let given = "t=\(timestamp),v1=\(signature)"
        return expected.utf8.count == given.utf8.count
            && zip(expected.utf8, given.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
