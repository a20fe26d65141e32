@testable import HTTPServer

/// What a parser run produced, with body events coalesced so splits can be compared.
struct ParsedMessage: Equatable {
    var head: HTTPRequestHead
    var body: [UInt8]
    var trailers: HTTPHeaders
}

struct ParseOutcome: Equatable {
    var messages: [ParsedMessage] = []
    var error: HTTPParserError?
    /// A head whose message has not ended yet.
    var pendingHead: HTTPRequestHead?
}

/// Feeds `chunks` one after another and collects everything the parser says.
func parse(_ chunks: [[UInt8]], limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    var body: [UInt8] = []
    for chunk in chunks {
        parser.append(chunk)
        loop: while true {
            switch parser.next() {
            case .needMoreData: break loop
            case .head(let head): outcome.pendingHead = head; body = []
            case .body(let bytes): body += bytes
            case .end(let trailers):
                outcome.messages.append(ParsedMessage(head: outcome.pendingHead!, body: body, trailers: trailers))
                outcome.pendingHead = nil
            case .error(let error): outcome.error = error; return outcome
            }
        }
    }
    return outcome
}

func parse(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    parse([Array(text.utf8)], limits: limits)
}

/// The same bytes fed one at a time.
func parseByteAtATime(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    parse(Array(text.utf8).map { [$0] }, limits: limits)
}

/// The same bytes cut at random places (deterministic for a seed).
func parseRandomSplits(_ text: String, seed: UInt64, limits: HTTPParserLimits = HTTPParserLimits()) -> ParseOutcome {
    var generator = SplitMix64(seed: seed)
    let bytes = Array(text.utf8)
    var chunks: [[UInt8]] = []
    var index = 0
    while index < bytes.count {
        let size = Int(generator.next() % 17) + 1
        chunks.append(Array(bytes[index..<min(index + size, bytes.count)]))
        index += size
    }
    return parse(chunks, limits: limits)
}

/// A small deterministic generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
