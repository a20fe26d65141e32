import Synchronization

/// What the handlers learn about one request that its access-log line reports: which key made it
/// and how long the providers took. Set for the request's task by the access-log wrapper; the
/// handlers fill it in (`RequestLog.current`), nothing else reads it.
final class RequestLog: Sendable {
    @TaskLocal static var current: RequestLog?

    private struct Fields {
        var keyID: String?
        var upstreamNanoseconds: Int64 = 0
        var upstreamCalls = 0
    }

    private let fields = Mutex(Fields())

    /// The caller: a key id, or `admin` for the master key. Never the key itself.
    var keyID: String? {
        get { fields.withLock { $0.keyID } }
        set { fields.withLock { $0.keyID = newValue } }
    }

    /// Adds one provider call's duration.
    func addUpstream(_ duration: Duration) {
        fields.withLock {
            $0.upstreamNanoseconds += duration.nanoseconds
            $0.upstreamCalls += 1
        }
    }

    /// Total provider time in milliseconds, or `nil` when no provider was called.
    var upstreamMilliseconds: Double? {
        fields.withLock { $0.upstreamCalls == 0 ? nil : Double($0.upstreamNanoseconds) / 1_000_000 }
    }
}
