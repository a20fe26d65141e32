// libFuzzer target for the HTTP/1.1 request parser (built with -DFUZZING -sanitize=fuzzer,address
// by Tests/Fuzz/run); without FUZZING it replays files (the seed corpus) through the same check.
import FuzzSupport
import HTTPServer

/// Parses the input whole and byte by byte, and at a split point derived from it: any crash, or
/// any difference between the three event sequences, is a finding.
func fuzzOne(_ bytes: [UInt8]) {
    var limits = HTTPParserLimits()
    limits.maxBodyBytes = 1 << 16
    let whole = events(of: [bytes[...]], limits: limits)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    precondition(events(of: [bytes[..<split], bytes[split...]], limits: limits) == whole, "a split changed the parse")
    if bytes.count <= 4096 {
        precondition(events(of: bytes.indices.map { bytes[$0...$0] }, limits: limits) == whole, "byte-at-a-time changed the parse")
    }
}

/// Every event the parser produces for these pieces, fed in order (bounded: a request stream of
/// N bytes cannot need more than a few events per byte).
func events(of pieces: [ArraySlice<UInt8>], limits: HTTPParserLimits) -> [HTTPParserEvent] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPParserEvent] = []
    var body: [UInt8] = []
    for piece in pieces {
        parser.append(piece)
        for _ in 0..<(4 * piece.count + 8) {
            let event = parser.next()
            switch event {
            case .needMoreData: break
            case .body(let bytes): body += bytes; continue
            default:
                // Body bytes may arrive in different pieces; compare them whole.
                if !body.isEmpty { events.append(.body(body)); body = [] }
                events.append(event)
                if case .error = event { return events }
                continue
            }
            break
        }
    }
    if !body.isEmpty { events.append(.body(body)) }
    return events
}

@main
struct Fuzz {
    static func main() { FuzzCorpus.main(fuzzOne) }
}
