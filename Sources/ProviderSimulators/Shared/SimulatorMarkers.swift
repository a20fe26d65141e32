import Foundation

/// Behaviour a test asks for through `[sim:…]` markers in the prompt.
///
/// | Marker | Effect |
/// |---|---|
/// | `[sim:fail]` | the job ends failed |
/// | `[sim:errobj]` | Krea: with a failure, `result.error` is an object `{code, message}` |
/// | `[sim:policy]` | the job fails for content policy |
/// | `[sim:cancelled]` | Evolink: the task ends failed with `request_cancelled` |
/// | `[sim:never]` | the job never ends (stays processing) |
/// | `[sim:allstatuses]` | Krea: walks through every non-terminal status |
/// | `[sim:http=NNN]` | the submission is answered NNN with the provider's error body; no job |
/// | `[sim:delay=MS]` | the job is created, then the submission answer waits MS milliseconds |
/// | `[sim:garbage]` | the submission is answered 200 with a body that is not JSON; no job |
/// | `[sim:wrongshape]` | the submission is answered 200 with JSON lacking the job id; no job |
/// | `[sim:nocallback]` | no callback is ever sent for the job |
/// | `[sim:intcode]` | Evolink: error bodies carry an integer `code` (the HTTP status) |
///
/// Several markers combine (`[sim:fail][sim:errobj]` or `[sim:fail,errobj]`); unknown ones are
/// ignored so a typo shows up as default behaviour rather than an error.
struct SimulatorMarkers: Sendable, Equatable {
    /// How the job ends.
    enum Outcome: Sendable, Equatable {
        case completed
        case failed
        case policy
        case cancelled
        case never
    }

    /// How the submission is answered.
    enum Submission: Sendable, Equatable {
        case normal
        case httpStatus(Int)
        case garbage
        case wrongShape
    }

    var outcome: Outcome = .completed
    var submission: Submission = .normal
    var errorObject = false
    var allStatuses = false
    var noCallback = false
    var integerCodes = false
    var delay: Duration?

    /// The default: a job that completes and calls back.
    init() {}

    /// Reads every `[sim:…]` marker in the prompt.
    init(prompt: String) {
        var rest = prompt[...]
        while let open = Self.nextMarker(in: rest) {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "]") else { break }
            for token in rest[..<close].split(separator: ",") {
                apply(token.trimmingCharacters(in: .whitespaces))
            }
            rest = rest[rest.index(after: close)...]
        }
    }

    private static let opening = Array("[sim:".utf8)

    /// The next `[sim:` in `text`, found over its UTF-8 bytes (Foundation's `range(of:)` bridged
    /// every prompt through `NSString`; the standard library's `firstRange(of:)` compares
    /// characters — both took microseconds per prompt, this a tenth of one).
    static func nextMarker(in text: Substring) -> Range<String.Index>? {
        var from = text.startIndex
        while let bracket = text.utf8[from...].firstIndex(of: UInt8(ascii: "[")) {
            if text.utf8[bracket...].starts(with: opening) { return bracket..<text.utf8.index(bracket, offsetBy: opening.count) }
            from = text.utf8.index(after: bracket)
        }
        return nil
    }

    private mutating func apply(_ token: String) {
        let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
        switch (parts.first ?? "", parts.count > 1 ? Int(parts[1]) : nil) {
        case ("fail", _): outcome = .failed
        case ("policy", _): outcome = .policy
        case ("cancelled", _): outcome = .cancelled
        case ("never", _): outcome = .never
        case ("errobj", _): errorObject = true
        case ("allstatuses", _): allStatuses = true
        case ("nocallback", _): noCallback = true
        case ("intcode", _): integerCodes = true
        case ("garbage", _): submission = .garbage
        case ("wrongshape", _): submission = .wrongShape
        case ("http", let status?) where (100...999).contains(status): submission = .httpStatus(status)
        case ("delay", let milliseconds?) where milliseconds >= 0: delay = .milliseconds(milliseconds)
        default: break
        }
    }
}
