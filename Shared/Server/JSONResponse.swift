import Hummingbird
import SamenplanDomain

extension Response {
    /// A JSON answer, in the suite's one encoding (sorted keys, RFC 3339 dates).
    public static func json(_ body: JSON, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONCoding.encoder.encode(body))))
    }
}
