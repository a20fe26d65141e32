/// gzip for response bodies (API.md §11): when the request accepts gzip, a body of at least
/// `minBytes` with a text-like type goes out with `Content-Encoding: gzip`; every response whose
/// coding depends on `Accept-Encoding` says so with `Vary`. Never compressed: 1xx, 204, 304,
/// answers to HEAD, bodies that already have a coding, other types (images above all).
public struct ResponseCompression: Sendable, Equatable {
    /// Whether to compress at all (`server.compression.gzip`).
    public var gzip: Bool
    /// The smallest body worth compressing (`server.compression.min_bytes`).
    public var minBytes: Int
    /// zlib's level, 1 (fastest) to 9 (smallest). 3 by default: a response is compressed on the
    /// event loop, and level 3 gives most of level 6's reduction on JSON for well under half its
    /// CPU (Benchmarks/README.md, "TLS and gzip").
    public var level: Int32

    /// A policy with the configuration's defaults.
    public init(gzip: Bool = true, minBytes: Int = 1024, level: Int32 = 3) {
        self.gzip = gzip
        self.minBytes = minBytes
        self.level = level
    }

    /// The response as it goes to a client that sent `request`.
    func apply(to response: HTTPResponse, request: HTTPRequestHead) -> HTTPResponse {
        guard gzip, isCandidate(response) else { return response }
        var response = response
        response.headers.add(name: "Vary", value: "Accept-Encoding")
        guard request.method != "HEAD", Self.acceptsGzip(request.headers), let compressed = Gzip.compress(response.body, level: level) else {
            return response
        }
        response.body = compressed
        response.headers.add(name: "Content-Encoding", value: "gzip")
        return response
    }

    /// Whether the response's coding depends on the request's `Accept-Encoding`.
    func isCandidate(_ response: HTTPResponse) -> Bool {
        guard response.status >= 200, response.status != 204, response.status != 304 else { return false }
        guard response.body.count >= max(minBytes, 1), response.headers["content-encoding"] == nil else { return false }
        return Self.isTextLike(response.headers["content-type"])
    }

    /// JSON (and `+json`), HTML, JavaScript, CSS, SVG, XML, plain text.
    static func isTextLike(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingOWS().lowercased() } ?? ""
        if type.hasPrefix("text/") { return true }
        if type.hasSuffix("+json") || type.hasSuffix("+xml") { return true }
        return ["application/json", "application/javascript", "application/xml", "image/svg+xml"].contains(type)
    }

    /// RFC 9110 §12.5.3: whether `gzip` (or `x-gzip`) is acceptable, q-values honoured; `*`
    /// stands for every coding not listed by name; `q=0` means "not acceptable".
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        var named: Double?
        var wildcard: Double?
        for element in headers.listElements("accept-encoding") {
            let parts = element.split(separator: ";")
            guard let coding = parts.first?.trimmingOWS().lowercased() else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingOWS() }
                guard pair.count == 2, pair[0].lowercased() == "q" else { continue }
                // A malformed weight is ignored rather than guessed at: the coding is not chosen.
                quality = Double(pair[1]).flatMap { (0...1).contains($0) ? $0 : nil } ?? 0
            }
            switch coding {
            case "gzip", "x-gzip": named = max(named ?? 0, quality)
            case "*": wildcard = quality
            default: continue
            }
        }
        return (named ?? wildcard ?? 0) > 0
    }
}
