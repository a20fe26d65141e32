/// An async request handler: the one boundary between the server and the application.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// Routes requests by method and path pattern. Patterns are `/`-separated literal segments and
/// `{name}` parameters (`/v1/generations/{id}`); a parameter matches one non-empty segment.
///
/// A path that matches no pattern is a 404; a path that matches with another method is a 405
/// with `Allow`. `HEAD` is served by the `GET` route when there is no `HEAD` route (the encoder
/// drops the body).
public struct Router: Sendable {
    final class Node: Sendable {
        let literals: [String: Node]
        let parameter: (name: String, node: Node)?
        let handlers: [String: HTTPHandler]

        init(literals: [String: Node], parameter: (name: String, node: Node)?, handlers: [String: HTTPHandler]) {
            self.literals = literals
            self.parameter = parameter
            self.handlers = handlers
        }
    }

    struct Route {
        let method: String
        let segments: [Substring]
        let handler: HTTPHandler
    }

    private var routes: [Route] = []
    private var root: Node?
    private let renderError: HTTPErrorRenderer

    /// A router whose 404 and 405 answers are rendered by `renderError`.
    public init(renderError: @escaping HTTPErrorRenderer = plainTextErrorRenderer) {
        self.renderError = renderError
    }

    /// Adds a route. A later route with the same method and pattern replaces the earlier one.
    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping HTTPHandler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
        routes.removeAll { $0.method == method && $0.segments == segments }
        // Every answer names the pattern that produced it (for metrics and logs; never sent).
        let name = "/" + segments.joined(separator: "/")
        routes.append(Route(method: method, segments: segments, handler: { request in
            var response = await handler(request)
            response.route = name
            return response
        }))
        root = nil
    }

    /// Every route added, as `(method, pattern)` (for documentation checks).
    public var registeredRoutes: [(method: String, pattern: String)] {
        routes.map { ($0.method, "/" + $0.segments.joined(separator: "/")) }
    }

    /// Builds the lookup tree once; `respond` builds it lazily otherwise.
    public mutating func freeze() { root = Self.build(routes, depth: 0) }

    private static func build(_ routes: [Route], depth: Int) -> Node {
        var handlers: [String: HTTPHandler] = [:]
        var literalGroups: [String: [Route]] = [:]
        var parameterRoutes: [Route] = []
        var parameterName = ""
        for route in routes {
            if route.segments.count == depth {
                handlers[route.method] = route.handler
                continue
            }
            let segment = route.segments[depth]
            if segment.hasPrefix("{"), segment.hasSuffix("}") {
                parameterName = String(segment.dropFirst().dropLast())
                parameterRoutes.append(route)
            } else {
                literalGroups[String(segment), default: []].append(route)
            }
        }
        let literals = literalGroups.mapValues { build($0, depth: depth + 1) }
        let parameter = parameterRoutes.isEmpty ? nil : (name: parameterName, node: build(parameterRoutes, depth: depth + 1))
        return Node(literals: literals, parameter: parameter, handlers: handlers)
    }

    /// What a lookup found.
    enum Match {
        case handler(HTTPHandler, [String: String])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    func match(method: String, path: Substring) -> Match {
        let node = root ?? Self.build(routes, depth: 0)
        var candidates: [(node: Node, parameters: [String: String])] = []
        Self.collect(node, path.split(separator: "/", omittingEmptySubsequences: true)[...], [:], into: &candidates)
        // Literal segments are tried before parameters; the first candidate with the method wins.
        for candidate in candidates {
            if let handler = candidate.node.handlers[method] { return .handler(handler, candidate.parameters) }
        }
        if method == "HEAD" {
            for candidate in candidates {
                if let handler = candidate.node.handlers["GET"] { return .handler(handler, candidate.parameters) }
            }
        }
        var allow = Set(candidates.flatMap { $0.node.handlers.keys })
        if allow.isEmpty { return .notFound }
        if allow.contains("GET") { allow.insert("HEAD") }
        return .methodNotAllowed(allow: allow.sorted())
    }

    /// Every node with handlers that the path reaches, literal branches first.
    private static func collect(
        _ node: Node, _ segments: ArraySlice<Substring>, _ parameters: [String: String],
        into candidates: inout [(node: Node, parameters: [String: String])]
    ) {
        guard let segment = segments.first else {
            if !node.handlers.isEmpty { candidates.append((node, parameters)) }
            return
        }
        let rest = segments.dropFirst()
        if let literal = node.literals[String(segment)] { collect(literal, rest, parameters, into: &candidates) }
        if let parameter = node.parameter, let value = PercentDecoding.decode(segment, plusIsSpace: false), !value.isEmpty {
            var bound = parameters
            bound[parameter.name] = value
            collect(parameter.node, rest, bound, into: &candidates)
        }
    }

    /// Dispatches the request to its handler, or answers 404 / 405.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch match(method: request.method, path: request.path) {
        case .handler(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            return await handler(request)
        case .methodNotAllowed(let allow):
            let list = allow.joined(separator: ", ")
            return renderError(HTTPServerError(
                status: 405, code: "method_not_allowed",
                message: "\(request.method) is not allowed here; allowed: \(list)",
                headers: ["Allow": list]))
        case .notFound:
            return renderError(HTTPServerError(status: 404, code: "not_found", message: "no such route"))
        }
    }

    /// This router as a handler for `HTTPServer`.
    public var handler: HTTPHandler {
        var frozen = self
        frozen.freeze()
        return { [frozen] request in await frozen.respond(to: request) }
    }
}
