import Foundation
import Hummingbird
import SamenplanDomain

/// PostgreSQL cannot store the NUL character in text, so a request that carries one would
/// fail deep in a route with a 500. These guards refuse it up front with a clear 400: in the
/// path or query (`%00`) through `TextGuardMiddleware` (on `/v1` and the public pages; health
/// and metrics read no text), in a JSON body (`\u0000`, the only way JSON can carry it)
/// through `SamenplanRequestDecoder`.
enum TextGuard {
    static let problem = Problem.badRequest(
        "Text may not contain the NUL character (U+0000).",
        problems: [.init(rule: "no-nul", pointer: "", detail: "text without U+0000")])

    /// Whether the JSON text holds an escaped NUL: `\u0000` after an odd run of backslashes
    /// (an even run is an escaped backslash followed by the letters "u0000").
    static func jsonHoldsNul(_ bytes: some Collection<UInt8>) -> Bool {
        let pattern = Array("u0000".utf8)
        let text = Array(bytes)
        guard text.count > pattern.count else { return false }
        var index = 1
        while index + pattern.count <= text.count {
            if text[index - 1] == UInt8(ascii: "\\"), text[index..<(index + pattern.count)].elementsEqual(pattern) {
                var run = 0
                var back = index - 1
                while back >= 0, text[back] == UInt8(ascii: "\\") {
                    run += 1
                    back -= 1
                }
                if run % 2 == 1 { return true }
            }
            index += 1
        }
        return false
    }
}

/// Refuses `%00` anywhere in the path or query.
public struct TextGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.description.range(of: "%00", options: .caseInsensitive) != nil { throw TextGuard.problem }
        return try await next(request, context)
    }
}

/// JSON bodies, decoded with the suite's decoder after the NUL check.
public struct SamenplanRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        if TextGuard.jsonHoldsNul(buffer.readableBytesView) { throw TextGuard.problem }
        return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
    }
}
