// libFuzzer target for the request-body inflater (built with -DFUZZING -sanitize=fuzzer,address
// by Tests/Fuzz/run); without FUZZING it replays files (the seed corpus) through the same check.
import FuzzSupport
import HTTPServer

/// The input as a gzip body and as a deflate body: inflated whole, in two pieces and byte by
/// byte, the outcome (the body, or the kind of failure) is the same, and never more than the
/// limit is held. Then the input gzipped by us must inflate back to itself.
func fuzzOne(_ bytes: [UInt8]) {
    let limit = 1 << 16
    for coding in [BodyInflater.Coding.gzip, .deflate] {
        let whole = outcome(of: [bytes[...]], coding, limit: limit)
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        precondition(outcome(of: [bytes[..<split], bytes[split...]], coding, limit: limit) == whole, "a split changed the outcome")
        if bytes.count <= 2048 {
            precondition(outcome(of: bytes.indices.map { bytes[$0...$0] }, coding, limit: limit) == whole, "byte-at-a-time changed the outcome")
        }
    }
    if bytes.count <= limit, let gzipped = Gzip.compress(bytes, level: Int32(bytes.first.map { Int($0) % 9 + 1 } ?? 6)) {
        precondition(outcome(of: [gzipped[...]], .gzip, limit: limit) == .body(bytes), "a gzip round trip lost bytes")
    }
}

enum Outcome: Equatable {
    case body([UInt8])
    case failed(BodyInflater.Failure)
}

func outcome(of pieces: [ArraySlice<UInt8>], _ coding: BodyInflater.Coding, limit: Int) -> Outcome {
    let inflater = BodyInflater(coding, limit: limit)
    var body: [UInt8] = []
    do throws(BodyInflater.Failure) {
        for piece in pieces {
            try inflater.inflate(piece, into: &body)
            precondition(body.count <= limit, "held more than the limit")
        }
        try inflater.finish()
        return .body(body)
    } catch {
        precondition(body.count <= limit, "held more than the limit")
        return .failed(error)
    }
}

FuzzCorpus.main(fuzzOne)
