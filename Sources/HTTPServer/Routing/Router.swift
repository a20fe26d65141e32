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
        routes.append(Route(method: method, segments: segments, handler: handler))
        root = nil
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
        var parameters: [String: String] = [:]
        guard let found = Self.find(node, path.split(separator: "/", omittingEmptySubsequences: true)[...], &parameters) else {
            return .notFound
        }
        if let handler = found.handlers[method] { return .handler(handler, parameters) }
        if method == "HEAD", let handler = found.handlers["GET"] { return .handler(handler, parameters) }
        if found.handlers.isEmpty { return .notFound }
        var allow = Set(found.handlers.keys)
        if allow.contains("GET") { allow.insert("HEAD") }
        return .methodNotAllowed(allow: allow.sorted())
    }

    private static func find(_ node: Node, _ segments: ArraySlice<Substring>, _ parameters: inout [String: String]) -> Node? {
        guard let segment = segments.first else { return node }
        let rest = segments.dropFirst()
        if let literal = node.literals[String(segment)], let found = find(literal, rest, &parameters), !found.handlers.isEmpty {
            return found
        }
        if let parameter = node.parameter, let value = PercentDecoding.decode(segment, plusIsSpace: false), !value.isEmpty {
            var candidate = parameters
            candidate[parameter.name] = value
            if let found = find(parameter.node, rest, &candidate), !found.handlers.isEmpty {
                parameters = candidate
                return found
            }
        }
        return nil
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
