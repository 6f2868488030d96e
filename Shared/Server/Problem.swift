import Foundation
import Hummingbird
import SamenplanDomain

/// An HTTP error as `application/problem+json` (RFC 9457): what was wrong, in words a caller
/// can act on, with the individual problems of a request listed.
public struct Problem: HTTPResponseError, Sendable {
    public struct Item: Codable, Sendable, Hashable {
        public var rule: String
        public var pointer: String
        public var detail: String

        public init(rule: String, pointer: String, detail: String) {
            self.rule = rule
            self.pointer = pointer
            self.detail = detail
        }
    }

    public var status: HTTPResponse.Status
    /// A URI naming the kind of problem; relative to the suite's documentation.
    public var type: String
    public var title: String
    public var detail: String?
    public var problems: [Item]
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, type: String, title: String, detail: String? = nil, problems: [Item] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.problems = problems
        self.headers = headers
    }

    public static let contentType = "application/problem+json"

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: JSON] = [
            "type": .string("https://samenplan.nl/problems/\(type)"),
            "title": .string(title),
            "status": .number(Double(status.code)),
            "instance": .string(request.uri.path),
        ]
        if let detail { body["detail"] = .string(detail) }
        if !problems.isEmpty {
            body["problems"] = try JSON(encoding: problems)
        }
        var headers = self.headers
        headers[.contentType] = Self.contentType
        let bytes = try JSONCoding.encoder.encode(JSON.object(body))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // Common problems, so every service words them the same way.
    public static func notFound(_ what: String) -> Problem {
        Problem(.notFound, type: "not-found", title: "Not found", detail: what)
    }

    public static func badRequest(_ detail: String, problems: [Item] = []) -> Problem {
        Problem(.badRequest, type: "invalid-request", title: "The request is not valid", detail: detail, problems: problems)
    }

    public static func unauthorized(_ detail: String) -> Problem {
        Problem(
            .unauthorized, type: "unauthorized", title: "Authentication required", detail: detail,
            headers: [.wwwAuthenticate: "Bearer realm=\"samenplan\""])
    }

    public static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, type: "forbidden", title: "Not allowed", detail: detail)
    }

    public static func conflict(_ detail: String) -> Problem {
        Problem(.conflict, type: "conflict", title: "Conflict", detail: detail)
    }
}

/// Turns every error a route throws into problem+json: our own `Problem`s as they are,
/// Hummingbird's `HTTPError`s (unknown route, body too large) and undecodable bodies with
/// their status, and anything else as a 500 that reveals no internals.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let error as HTTPError {
            let title = error.status.reasonPhrase
            return try Problem(error.status, type: "http-\(error.status.code)", title: title, detail: error.body)
                .response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors, such as a body over the size limit (413).
            return try Problem(error.status, type: "http-\(error.status.code)", title: error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch let error as DecodingError {
            return try Problem.badRequest("The body does not match the expected JSON: \(describe(error))")
                .response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return try Problem(
                .internalServerError, type: "internal", title: "Internal error",
                detail: "The request could not be completed; it was logged with id \(context.id)."
            ).response(from: request, context: context)
        }
    }

    private func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            "/" + context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context))/\(key.stringValue) is required"
        case .typeMismatch(_, let context): return "\(path(context)) has the wrong type"
        case .valueNotFound(_, let context): return "\(path(context)) must not be null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "unreadable"
        }
    }
}
