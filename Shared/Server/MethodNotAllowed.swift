import Hummingbird

/// Answers a request whose path is a route of the service but whose method is not with
/// `405 Method Not Allowed` and an `Allow` header naming the methods the path has (RFC 9110,
/// 15.5.6), instead of Hummingbird's `404`: the path exists, only the method is wrong.
///
/// Added to the router after every route, so it wraps only the router's not-found responder
/// (Hummingbird applies a middleware to the routes added after it, and to the not-found
/// responder built at the end): a request reaches it only when no route took it. It runs
/// before authentication, like the 404 it replaces; which methods a path has is public in
/// the OpenAPI documents anyway.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Route: Sendable {
        var components: [RouterPath.Element]
        var methods: [HTTPRequest.Method]
    }

    let routes: [Route]

    /// The routes of `router` as they are now: call it once every route is added.
    public init(routesOf router: Router<Context>) {
        var methods: [String: (components: [RouterPath.Element], methods: [HTTPRequest.Method])] = [:]
        for route in router.routes {
            methods[route.path.description, default: (route.path.components, [])].methods.append(route.method)
        }
        self.routes = methods.values.map { Route(components: $0.components, methods: $0.methods) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        guard let route = bestMatch(for: segments) else {
            return try await next(request, context)
        }
        let allowed = route.methods.map(\.rawValue).sorted()
        throw Problem(
            .methodNotAllowed, type: "method-not-allowed", title: "Method not allowed",
            detail: "\(request.uri.path) allows \(allowed.joined(separator: ", ")), not \(request.method.rawValue).",
            headers: [.allow: allowed.joined(separator: ", ")])
    }

    /// The route the router would have taken for this path with another method: a literal
    /// segment outranks a parameter, as in Hummingbird's trie.
    func bestMatch(for segments: [Substring]) -> Route? {
        var best: (route: Route, literals: [Bool])?
        for route in routes where Self.matches(route.components, segments) {
            let literals = route.components.map { $0 == $0.description }
            if let current = best, !literals.lexicographicallyPrecedes(current.literals, by: { $0 && !$1 }) {
                continue
            }
            best = (route, literals)
        }
        return best?.route
    }

    static func matches(_ components: [RouterPath.Element], _ segments: [Substring]) -> Bool {
        var index = 0
        for component in components {
            if component == .recursiveWildcard { return true }
            guard index < segments.count, component ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
