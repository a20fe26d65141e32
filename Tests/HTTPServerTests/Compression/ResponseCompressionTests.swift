import Testing
@testable import HTTPServer

@Suite("ResponseCompression")
struct ResponseCompressionTests {
    static func request(_ method: String = "GET", acceptEncoding: String? = "gzip") -> HTTPRequestHead {
        var headers: HTTPHeaders = ["Host": "t"]
        if let acceptEncoding { headers.add(name: "Accept-Encoding", value: acceptEncoding) }
        return HTTPRequestHead(method: method, target: "/", version: .http1_1, headers: headers, framing: .none, keepAlive: true, expectsContinue: false)
    }

    static func json(_ size: Int, status: Int = 200, type: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": type], body: [UInt8](repeating: UInt8(ascii: "a"), count: size))
    }

    @Test func acceptEncodingHonoursQValuesAndTheWildcard() {
        func accepts(_ value: String?) -> Bool {
            var headers = HTTPHeaders()
            if let value { headers.add(name: "Accept-Encoding", value: value) }
            return ResponseCompression.acceptsGzip(headers)
        }
        #expect(accepts("gzip"))
        #expect(accepts("gzip, deflate, br"))
        #expect(accepts("br;q=1.0, GZIP;q=0.5"))
        #expect(accepts("x-gzip"))
        #expect(accepts("*"))
        #expect(!accepts(nil))
        #expect(!accepts(""))
        #expect(!accepts("identity"))
        #expect(!accepts("gzip;q=0"))
        #expect(!accepts("gzip;q=0.000"))
        #expect(!accepts("*;q=0"))
        #expect(!accepts("*, gzip;q=0"), "a coding named with q=0 is refused whatever * says")
        #expect(!accepts("gzip;q=nonsense"))
        #expect(accepts("deflate;q=0.5, *;q=0.1"))
    }

    @Test func aLargeJSONBodyIsGzippedForAClientThatAcceptsIt() throws {
        let policy = ResponseCompression(gzip: true, minBytes: 1024)
        let answer = policy.apply(to: Self.json(5_000), request: Self.request())
        #expect(answer.headers["content-encoding"] == "gzip" && answer.headers["vary"] == "Accept-Encoding")
        var body: [UInt8] = []
        let inflater = BodyInflater(.gzip, limit: 1 << 20)
        try inflater.inflate(answer.body, into: &body)
        try inflater.finish()
        #expect(body == Self.json(5_000).body && answer.body.count < 200)
    }

    /// What stays as it is, and whether it still says `Vary`.
    @Test func whatIsNeverCompressed() {
        let policy = ResponseCompression(gzip: true, minBytes: 1024)
        func check(_ response: HTTPResponse, _ request: HTTPRequestHead = ResponseCompressionTests.request(), vary: Bool, _ label: String) {
            let answer = policy.apply(to: response, request: request)
            #expect(answer.headers["content-encoding"] == response.headers["content-encoding"], "\(label): not compressed")
            #expect(answer.body == response.body, "\(label): body unchanged")
            #expect((answer.headers["vary"] != nil) == vary, "\(label): Vary")
        }
        check(Self.json(1023), vary: false, "below min_bytes")
        check(Self.json(5_000, type: "image/png"), vary: false, "an image")
        check(Self.json(5_000, status: 204), vary: false, "204")
        check(Self.json(5_000, status: 304), vary: false, "304")
        var encoded = Self.json(5_000)
        encoded.headers.add(name: "Content-Encoding", value: "br")
        check(encoded, vary: false, "already encoded")
        check(Self.json(5_000), Self.request(acceptEncoding: nil), vary: true, "no Accept-Encoding")
        check(Self.json(5_000), Self.request(acceptEncoding: "gzip;q=0"), vary: true, "gzip refused")
        check(Self.json(5_000), Self.request("HEAD"), vary: true, "HEAD")
        let off = ResponseCompression(gzip: false)
        #expect(off.apply(to: Self.json(5_000), request: Self.request()).headers["content-encoding"] == nil)
    }

    @Test func textLikeTypes() {
        for type in ["application/json", "application/json; charset=utf-8", "application/problem+json", "text/html", "text/css",
                     "text/plain; charset=utf-8", "application/javascript", "text/javascript", "image/svg+xml", "APPLICATION/JSON"] {
            #expect(ResponseCompression.isTextLike(type), "\(type)")
        }
        for type in ["image/png", "image/jpeg", "application/octet-stream", "application/gzip", "video/mp4"] {
            #expect(!ResponseCompression.isTextLike(type), "\(type)")
        }
        #expect(!ResponseCompression.isTextLike(nil))
    }
}
