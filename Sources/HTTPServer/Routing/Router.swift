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
    /// The handlers of every route without parameters, by method and then by its path as
    /// `/a/b`: the lookup of most requests, one hash instead of a walk of the tree.
    private var literalRoutes: [String: [String: HTTPHandler]] = [:]
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
        literalRoutes = [:]
    }

    /// Every route added, as `(method, pattern)` (for documentation checks).
    public var registeredRoutes: [(method: String, pattern: String)] {
        routes.map { ($0.method, "/" + $0.segments.joined(separator: "/")) }
    }

    /// Builds the lookup tree once; `respond` builds it lazily otherwise.
    public mutating func freeze() {
        root = Self.build(routes, depth: 0)
        literalRoutes = [:]
        for route in routes where !route.segments.contains(where: Self.isParameter) {
            literalRoutes[route.method, default: [:]]["/" + route.segments.joined(separator: "/")] = route.handler
        }
    }

    private static func isParameter(_ segment: Substring) -> Bool { segment.hasPrefix("{") && segment.hasSuffix("}") }

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
            if isParameter(segment) {
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
        // A path without empty segments that names a literal route with this method: that route
        // is the first candidate of the walk below (literals are tried first), so it wins.
        if let byPath = literalRoutes[method], !Self.hasEmptySegment(path), let handler = byPath[String(path)] {
            return .handler(handler, [:])
        }
        let node = root ?? Self.build(routes, depth: 0)
        var candidates: [(node: Node, parameters: [String: String])] = []
        Self.collect(node, Self.segments(of: path)[...], [:], into: &candidates)
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

    /// The `/`-separated segments of a path, empty ones left out (split on UTF-8 bytes).
    static func segments(of path: Substring) -> [Substring] {
        var segments: [Substring] = []
        var start = path.utf8.startIndex
        var index = start
        while index < path.utf8.endIndex {
            if path.utf8[index] == UInt8(ascii: "/") {
                if start < index { segments.append(path[start..<index]) }
                start = path.utf8.index(after: index)
            }
            index = path.utf8.index(after: index)
        }
        if start < path.utf8.endIndex { segments.append(path[start...]) }
        return segments
    }

    /// Whether the path is not `/`-prefixed or has `//` or a trailing `/` (those go the long way).
    static func hasEmptySegment(_ path: Substring) -> Bool {
        var previousWasSlash = false
        var first = true
        for byte in path.utf8 {
            let isSlash = byte == UInt8(ascii: "/")
            if first, !isSlash { return true }
            if isSlash, previousWasSlash { return true }
            previousWasSlash = isSlash
            first = false
        }
        return previousWasSlash && path.utf8.count > 1
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
