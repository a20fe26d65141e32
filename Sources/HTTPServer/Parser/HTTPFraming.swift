/// The framing, persistence and expectation of a request, decided from its head (RFC 9112 §6,
/// §9.3 and RFC 9110 §10.1.1). Every ambiguity is refused rather than guessed.
enum HTTPFraming {
    struct Resolved: Equatable {
        var framing: HTTPBodyFraming
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    static func resolve(version: HTTPVersion, headers: HTTPHeaders, limits: HTTPParserLimits) -> Result<Resolved, HTTPParserError> {
        // One pass to see which of the fields that matter are present; the lists are built only
        // for those (most requests carry none of them but Host).
        var hostCount = 0
        var hasContentLength = false, hasTransferEncoding = false, hasConnection = false, hasExpect = false
        for field in headers.fields {
            switch field.name.utf8.count {
            case 4 where HTTPHeaders.namesEqual(field.name, "host"): hostCount += 1
            case 6 where HTTPHeaders.namesEqual(field.name, "expect"): hasExpect = true
            case 10 where HTTPHeaders.namesEqual(field.name, "connection"): hasConnection = true
            case 14 where HTTPHeaders.namesEqual(field.name, "content-length"): hasContentLength = true
            case 17 where HTTPHeaders.namesEqual(field.name, "transfer-encoding"): hasTransferEncoding = true
            default: break
            }
        }

        // RFC 9112 §3.2: a 1.1 request needs exactly one Host; more than one is a 400 in any version.
        if hostCount > 1 || (version == .http1_1 && hostCount == 0) {
            return .failure(.malformed("a request needs exactly one Host header"))
        }

        let lengths = hasContentLength ? headers.values("content-length") : []
        let codings = hasTransferEncoding ? headers.listElements("transfer-encoding").map { $0.lowercased() } : []
        var framing = HTTPBodyFraming.none

        if hasTransferEncoding {
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            guard version == .http1_1 else { return .failure(.malformed("Transfer-Encoding in an HTTP/1.0 request")) }
            // RFC 9112 §6.3: CL with TE is a smuggling vector; refuse instead of letting TE win.
            guard lengths.isEmpty else { return .failure(.malformed("Content-Length with Transfer-Encoding")) }
            // RFC 9112 §6.3: a request whose final coding is not chunked cannot be delimited.
            guard codings.last == "chunked" else { return .failure(.malformed("Transfer-Encoding does not end in chunked")) }
            guard codings.filter({ $0 == "chunked" }).count == 1 else { return .failure(.malformed("chunked applied more than once")) }
            // RFC 9112 §6.1: an unknown coding (we decode none but chunked) is a 501.
            guard codings.count == 1 else { return .failure(.unsupportedTransferCoding()) }
            framing = .chunked
        } else if !lengths.isEmpty {
            // RFC 9112 §6.3: several or list-valued Content-Length fields are refused, even if equal.
            guard lengths.count == 1, let value = lengths.first else { return .failure(.malformed("more than one Content-Length")) }
            guard !value.isEmpty, value.utf8.allSatisfy(HTTPSyntax.isDigit) else { return .failure(.malformed("invalid Content-Length")) }
            guard value.utf8.count <= 18, let length = Int(value) else { return .failure(.malformed("Content-Length overflows")) }
            guard length <= limits.maxBodyBytes else { return .failure(.bodyTooLarge()) }
            framing = .length(length)
        }

        // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
        let keepAlive: Bool
        if hasConnection, headers.containsToken("close", in: "connection") {
            keepAlive = false
        } else {
            keepAlive = version == .http1_1 || (hasConnection && headers.containsToken("keep-alive", in: "connection"))
        }

        // RFC 9110 §10.1.1: only 100-continue is defined; 1.0 requests' Expect is ignored.
        var expectsContinue = false
        let expectations = hasExpect ? headers.listElements("expect") : []
        if version == .http1_1, !expectations.isEmpty {
            guard expectations.allSatisfy({ $0.lowercased() == "100-continue" }) else { return .failure(.expectationFailed()) }
            expectsContinue = framing != .none && framing != .length(0)
        }
        return .success(Resolved(framing: framing, keepAlive: keepAlive, expectsContinue: expectsContinue))
    }
}
