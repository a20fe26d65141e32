import Testing
@testable import HTTPServer

@Suite("HTTPResponseEncoder")
struct HTTPResponseEncoderTests {
    func text(_ response: HTTPResponse, keepAlive: Bool = true, version: HTTPVersion = .http1_1, isHead: Bool = false) -> String {
        String(decoding: HTTPResponseEncoder.encode(response, keepAlive: keepAlive, requestVersion: version, isHead: isHead), as: UTF8.self)
    }

    func lines(_ text: String) -> [Substring] { text.split(separator: "\r\n", omittingEmptySubsequences: false) }

    @Test("Content-Length is the body's length in decimal", arguments: [0, 1, 9, 10, 99, 100, 12_345, 1_048_576])
    func encoder_ContentLengthDigits(length: Int) {
        let encoded = text(HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: length)))
        #expect(lines(encoded).contains("Content-Length: \(length)"))
        #expect(encoded.hasSuffix("\r\n\r\n" + String(repeating: "a", count: length)))
    }

    @Test func encoder_StatusLineHeadersDateAndBodyInOrder() {
        let encoded = text(HTTPResponse(status: 202, headers: ["Content-Type": "application/json", "X-A": "1"], body: "{}"))
        let all = lines(encoded)
        #expect(all[0] == "HTTP/1.1 202 Accepted")
        #expect(all[1] == "Content-Type: application/json")
        #expect(all[2] == "X-A: 1")
        // RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
        #expect(all[3].hasPrefix("Date: ") && all[3].hasSuffix(" GMT") && all[3].count == 6 + 29)
        #expect(all[4] == "Content-Length: 2")
        #expect(all[5] == "")
        #expect(all[6] == "{}")
    }

    @Test func encoder_OwnedHeadersFromTheHandlerAreReplaced() {
        let encoded = text(HTTPResponse(status: 200, headers: ["content-length": "99", "Connection": "x", "DATE": "y", "Transfer-Encoding": "chunked"], body: "ok"))
        #expect(!encoded.contains("99") && !encoded.contains(": x") && !encoded.contains(": y") && !encoded.contains("chunked"))
        #expect(lines(encoded).contains("Content-Length: 2"))
    }

    @Test func encoder_ConnectionHeaderFollowsKeepAliveAndVersion() {
        #expect(lines(text(HTTPResponse(status: 200), keepAlive: false)).contains("Connection: close"))
        #expect(lines(text(HTTPResponse(status: 200), version: .http1_0)).contains("Connection: keep-alive"))
        #expect(!text(HTTPResponse(status: 200)).contains("Connection:"))
    }

    @Test func encoder_NoContentLengthOrBodyFor204AndNoBodyForHead() {
        let noContent = text(HTTPResponse(status: 204, body: "ignored"))
        #expect(!noContent.contains("Content-Length") && noContent.hasSuffix("\r\n\r\n"))
        let head = text(HTTPResponse(status: 200, body: "abc"), isHead: true)
        #expect(lines(head).contains("Content-Length: 3") && head.hasSuffix("\r\n\r\n"))
    }

    @Test func encoder_UnknownStatusGetsAGenericReason() {
        #expect(text(HTTPResponse(status: 299)).hasPrefix("HTTP/1.1 299 Status 299\r\n"))
    }

    @Test func encoder_HeaderValidation() {
        #expect(HTTPResponseEncoder.isValid(["X-A": "a\tb c"]))
        #expect(!HTTPResponseEncoder.isValid(["X-A": "a\r\nb"]))
        #expect(!HTTPResponseEncoder.isValid(["X-A": "a\u{0}"]))
        #expect(!HTTPResponseEncoder.isValid(["X A": "a"]))
        #expect(!HTTPResponseEncoder.isValid(HTTPHeaders([("", "a")])))
    }

    @Test func date_FormatsIMFFixdate() {
        #expect(HTTPDate.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
