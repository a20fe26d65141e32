import GatewayCore
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// swift-log handler writing one JSON object per line (CONFIG.md `logging.format: json`):
/// `{"ts": "…", "level": "info", "logger": "…", "message": "…", <metadata>}`. Each line goes out
/// in one `write(2)` under a lock, so lines from concurrent tasks never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let sink: LineSink

    /// A handler for `label` writing to `sink` (standard error by default).
    public init(label: String, level: Logger.Level, sink: LineSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"ts\":\"\(Self.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"logger\":\(JSONText.quoted(label))"
        line += ",\"message\":\(JSONText.quoted(event.message.description))"
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error, merged["error"] == nil { merged["error"] = .string("\(error)") }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["ts", "level", "logger", "message"].contains(key) {
            line += ",\(JSONText.quoted(key)):\(Self.json(value))"
        }
        sink.write(line + "}\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return JSONText.quoted(text)
        case .stringConvertible(let convertible): return JSONText.quoted(convertible.description)
        case .array(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):\(json($0.value))" }.joined(separator: ",") + "}"
        }
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        let now = Timestamp.now()
        let millis = Int(now.unixMilliseconds % 1000)
        let base = now.rfc3339
        return String(base.dropLast()) + "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + String(millis) + "Z"
    }
}

/// Where log lines go: standard error, or a test's collector.
public final class LineSink: Sendable {
    private let lock = Mutex<[String]?>(nil)
    private let descriptor: Int32?

    /// Standard error.
    public static let standardError = LineSink(descriptor: 2)

    private init(descriptor: Int32?) {
        self.descriptor = descriptor
    }

    /// A sink that keeps lines in memory (for tests).
    public static func collecting() -> LineSink {
        let sink = LineSink(descriptor: nil)
        sink.lock.withLock { $0 = [] }
        return sink
    }

    func write(_ line: String) {
        lock.withLock { collected in
            if collected != nil { collected!.append(line); return }
            guard let descriptor else { return }
            var bytes = Array(line.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 { if errno == EINTR { continue } else { return } }
                bytes = bytes.dropFirst(written)
            }
        }
    }

    /// The lines collected so far (empty for standard error).
    public var lines: [String] { lock.withLock { $0 ?? [] } }
}
