import CZlib
import Testing
@testable import HTTPServer

@Suite("BodyInflater")
struct BodyInflaterTests {
    /// Some text with repeats, long enough to span several output chunks when inflated.
    static let text: [UInt8] = Array((0..<4_000).map { "line \($0 % 97): {\"model\":\"krea-2-medium\",\"prompt\":\"a lighthouse\"}\n" }.joined().utf8)

    /// `bytes` in the zlib format (RFC 1950): what HTTP's `deflate` coding is.
    static func zlibCompressed(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { compress2(out.baseAddress, &length, $0.baseAddress, uLong(bytes.count), 6) }
        }
        precondition(status == Z_OK)
        return Array(output[..<Int(length)])
    }

    /// Inflates `coded` fed in `pieces` (split points), then finishes.
    static func inflate(_ coded: [UInt8], _ coding: BodyInflater.Coding, limit: Int = 1 << 24, splits: [Int] = []) -> Result<[UInt8], BodyInflater.Failure> {
        let inflater = BodyInflater(coding, limit: limit)
        var body: [UInt8] = []
        var start = 0
        do throws(BodyInflater.Failure) {
            for end in splits.sorted() + [coded.count] where end >= start {
                try inflater.inflate(coded[start..<end], into: &body)
                start = end
            }
            try inflater.finish()
            return .success(body)
        } catch {
            return .failure(error)
        }
    }

    @Test func gzipAndDeflateRoundTripWholeAndInPieces() throws {
        let gzip = try #require(Gzip.compress(Self.text))
        let deflate = Self.zlibCompressed(Self.text)
        var generator = SystemRandomNumberGenerator()
        for (coded, coding) in [(gzip, BodyInflater.Coding.gzip), (deflate, .deflate)] {
            #expect(try Self.inflate(coded, coding).get() == Self.text)
            for _ in 0..<20 {
                let splits = (0..<Int.random(in: 1...8, using: &generator)).map { _ in Int.random(in: 0...coded.count, using: &generator) }
                #expect(try Self.inflate(coded, coding, splits: splits).get() == Self.text)
            }
            #expect(try Self.inflate(coded, coding, splits: Array(0..<coded.count)).get() == Self.text, "one byte at a time")
        }
    }

    /// RFC 1952 §2.2: a gzip body may hold several members.
    @Test func concatenatedGzipMembersAllInflate() throws {
        let first = try #require(Gzip.compress(Array("first,".utf8))), second = try #require(Gzip.compress(Array("second".utf8)))
        #expect(try Self.inflate(first + second, .gzip).get() == Array("first,second".utf8))
    }

    /// 10 MB of zeros gzip to about 10 KB: refused once the output passes the limit, holding no
    /// more than the limit.
    @Test func aDecompressionBombStopsAtTheLimit() throws {
        let bomb = try #require(Gzip.compress([UInt8](repeating: 0, count: 10_000_000)))
        #expect(bomb.count < 20_000)
        let inflater = BodyInflater(.gzip, limit: 1_048_576)
        var body: [UInt8] = []
        #expect(throws: BodyInflater.Failure.tooLarge) { try inflater.inflate(bomb, into: &body) }
        #expect(body.count <= 1_048_576)
        // At the limit exactly is allowed; one byte over is not.
        let exact = try #require(Gzip.compress([UInt8](repeating: 7, count: 1000)))
        #expect(try Self.inflate(exact, .gzip, limit: 1000).get().count == 1000)
        #expect(Self.inflate(exact, .gzip, limit: 999) == .failure(.tooLarge))
    }

    @Test func truncatedGarbledAndWrongCodingStreamsAreBroken() throws {
        let gzip = try #require(Gzip.compress(Self.text))
        #expect(Self.inflate(Array(gzip.dropLast(4)), .gzip) == .failure(.broken), "cut inside the trailer")
        #expect(Self.inflate(Array(gzip.prefix(gzip.count / 2)), .gzip) == .failure(.broken), "cut in the middle")
        #expect(Self.inflate(Array("not compressed at all".utf8), .gzip) == .failure(.broken))
        #expect(Self.inflate(gzip, .deflate) == .failure(.broken), "gzip sent as deflate")
        var flipped = gzip
        flipped[gzip.count / 2] ^= 0xFF
        #expect(Self.inflate(flipped, .gzip) == .failure(.broken), "a flipped byte fails the stream or its CRC")
        #expect(Self.inflate([], .gzip) == .failure(.broken), "an empty body is no gzip stream")
    }

    @Test func contentEncodingNamesTheCoding() {
        func coding(_ value: String?) -> Result<BodyInflater.Coding?, HTTPServerError> {
            var headers = HTTPHeaders()
            if let value { headers.add(name: "Content-Encoding", value: value) }
            return BodyInflater.Coding.of(headers)
        }
        #expect(coding(nil) == .success(nil))
        #expect(coding("identity") == .success(nil))
        #expect(coding("GZIP") == .success(.gzip))
        #expect(coding("x-gzip") == .success(.gzip))
        #expect(coding("deflate") == .success(.deflate))
        #expect(coding("br") == .failure(.unsupportedContentEncoding))
        #expect(coding("gzip, gzip") == .failure(.unsupportedContentEncoding), "stacked codings are refused")
    }
}
