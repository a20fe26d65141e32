import AsyncHTTPClient
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An upstream answer read in full (status, headers, body of at most
/// ``HTTPTransport/maxBodyBytes``).
struct UpstreamResponse: Sendable {
    /// The HTTP status code.
    var status: Int
    /// Header fields in arrival order; names as the server wrote them.
    var headers: [(name: String, value: String)]
    /// The body bytes (truncated to the cap for a non-2xx answer that was larger).
    var body: [UInt8]

    /// Whether the status is 2xx.
    var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of the header `name` (case-insensitive).
    func header(_ name: String) -> String? { Self.header(name, in: headers) }

    /// The first value of the header `name` (case-insensitive) in `headers`.
    static func header(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// The HTTP plumbing every adapter shares: one call to the provider through the shared
/// AsyncHTTPClient `HTTPClient`, with bearer auth, an explicit deadline (the provider's
/// `timeout_s`), a capped response body, and transport failures classified into
/// ``ProviderError`` kinds that say whether a job may exist upstream.
///
/// It uses AsyncHTTPClient's delegate API rather than `execute(_:deadline:)` because the delegate
/// is told when the request head has been written: a failure before that point provably sent
/// nothing (``ProviderError/Kind/connectionFailed``, fallback allowed), a failure after it may
/// have created a job (``ProviderError/Kind/timeout`` or ``ProviderError/Kind/invalidResponse``).
struct HTTPTransport: Sendable {
    /// The largest response body read (1 MiB). A larger 2xx body is `invalid_response`.
    static let maxBodyBytes = 1 << 20

    /// The configuration name of the provider (for messages).
    let providerName: String
    /// `base_url` without a trailing `/`.
    let baseURL: String
    /// The bearer token; never printed.
    let apiKey: Secret
    /// The deadline of one call, from start to the last body byte.
    let timeout: Duration
    /// The shared client (never one per call).
    let client: HTTPClient
    /// Parsed `POST` requests by path, reused with each call's headers and body.
    private let templates = RequestTemplates()

    /// A transport for `configuration`, over the shared `client`.
    init(providerName: String, configuration: GatewayConfiguration.Provider, client: HTTPClient) {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.providerName = providerName
        self.baseURL = base
        self.apiKey = configuration.apiKey
        self.timeout = configuration.timeout
        self.client = client
    }

    /// Sends one request and reads the whole answer, whatever its status. Throws only when no
    /// complete answer arrived (or a 2xx answer was too large), classified by
    /// ``transportError(_:requestSent:timeout:providerName:)``.
    ///
    /// - Parameters:
    ///   - method: `GET`, `POST`, `DELETE`.
    ///   - path: The path after `base_url`, starting with `/`, already percent-encoded.
    ///   - headers: Extra request headers.
    ///   - jsonBody: A JSON document to send as `application/json`.
    func send(
        _ method: HTTPMethod, path: String, headers extra: [(name: String, value: String)] = [], jsonBody: String? = nil
    ) async throws(ProviderError) -> UpstreamResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "krea-gateway")
        // An empty key is allowed by CONFIG.md (simulators); then no Authorization header at all.
        if !apiKey.isEmpty { headers.add(name: "Authorization", value: "Bearer \(apiKey.value)") }
        var body: HTTPClient.Body?
        if let jsonBody {
            headers.add(name: "Content-Type", value: "application/json")
            body = .bytes(Array(jsonBody.utf8))
        }
        for field in extra { headers.add(name: field.name, value: field.value) }

        var request: HTTPClient.Request
        if method == .POST, let template = templates[path] {
            request = template
            request.headers = headers
            request.body = body
        } else {
            do {
                request = try HTTPClient.Request(url: baseURL + path, method: method, headers: headers, body: body)
            } catch {
                // Never echo the URL: a base URL may carry userinfo credentials.
                throw ProviderError(kind: .connectionFailed, message: "the base_url of provider \(providerName) is not a usable http(s) URL")
            }
            if method == .POST {
                // Kept without this call's headers and body (which may carry a prompt or a key).
                var template = request
                template.headers = HTTPHeaders()
                template.body = nil
                templates[path] = template
            }
        }

        let collector = ResponseCollector(maxBodyBytes: Self.maxBodyBytes)
        let task = client.execute(request: request, delegate: collector, deadline: .now() + Self.timeAmount(timeout))
        do {
            return try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
        } catch {
            let progress = collector.progress
            // A non-2xx answer larger than the cap is still classified by its status.
            if error is ResponseCollector.BodyTooLarge, let status = progress.status, !(200..<300).contains(status) {
                return UpstreamResponse(status: status, headers: progress.headers, body: progress.body)
            }
            throw Self.transportError(error, requestSent: progress.requestSent, timeout: timeout, providerName: providerName)
        }
    }

    /// Classifies a failed call.
    ///
    /// | Failure | Kind | Why |
    /// |---|---|---|
    /// | the deadline passed, a read or write timed out | `timeout` | the request may have been processed; when the deadline passes while still waiting for a connection, AsyncHTTPClient reports the last connect error instead (next row) |
    /// | anything before the request head was written: refused, DNS, connect/TLS timeout, bad URL, client shut down | `connectionFailed` | nothing was sent, so no job exists |
    /// | anything after: reset, closed mid-answer, malformed HTTP, body over the cap | `invalidResponse` | a job may exist, so no fallback |
    ///
    /// Messages name the provider and the failure, never the key or the URL.
    static func transportError(_ error: any Error, requestSent: Bool, timeout: Duration, providerName: String) -> ProviderError {
        if error is ResponseCollector.BodyTooLarge {
            return ProviderError(kind: .invalidResponse, message: "the answer of provider \(providerName) is larger than \(maxBodyBytes) bytes")
        }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                // Even without the head-sent signal this stays `timeout`: the signal hops event
                // loops and could lose a race with the deadline timer.
                return ProviderError(kind: .timeout, message: "no answer from provider \(providerName) within \(describe(timeout))")
            case .cancelled where requestSent:
                return ProviderError(kind: .timeout, message: "the call to provider \(providerName) was cancelled before its answer arrived")
            default:
                break
            }
        }
        let reason = failureLabel(error)
        if requestSent {
            return ProviderError(kind: .invalidResponse, message: "the connection to provider \(providerName) failed after the request was sent (\(reason))")
        }
        return ProviderError(kind: .connectionFailed, message: "could not reach provider \(providerName) (\(reason))")
    }

    /// A short, secret-free name for a transport error (`connection refused`, `connect timeout`, …).
    static func failureLabel(_ error: any Error) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return "connect timeout"
            case .tlsHandshakeTimeout: return "TLS handshake timeout"
            case .remoteConnectionClosed: return "remote closed the connection"
            case .getConnectionFromPoolTimeout: return "no connection available in time"
            case .alreadyShutdown: return "HTTP client already shut down"
            case .cancelled: return "cancelled"
            default: return "HTTP client error"
            }
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case EPIPE: return "broken pipe"
            case ETIMEDOUT: return "connection timed out"
            case EHOSTUNREACH, ENETUNREACH: return "host unreachable"
            default: return "I/O error \(ioError.errnoCode)"
            }
        }
        if let connectionError = error as? NIOConnectionError {
            // Every address failed (or DNS did): name the first cause, not the host.
            if connectionError.dnsAError != nil || connectionError.dnsAAAAError != nil { return "name resolution failed" }
            if let first = connectionError.connectionErrors.first?.error { return failureLabel(first) }
            return "connection failed"
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError { return "connect timeout" }
        let typeName = String(describing: type(of: error))
        return typeName
    }

    /// A `Duration` as NIO's `TimeAmount`.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }

    /// `30 s`, `0.3 s`.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "\(seconds) s" }
        var fraction = String(milliseconds)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction) s"
    }

    /// `text` with every occurrence of the api key replaced by `<redacted>` (a provider could
    /// echo the token back in an error message).
    func redacting(_ text: String) -> String {
        guard apiKey.value.count >= 4, text.contains(apiKey.value) else { return text }
        return text.replacing(apiKey.value, with: "<redacted>")
    }

    /// `error` with the api key scrubbed from its message.
    func redacting(_ error: ProviderError) -> ProviderError {
        var error = error
        error.message = redacting(error.message)
        return error
    }

    /// `snapshot` with the api key scrubbed from its error message.
    func redacting(_ snapshot: ProviderJobSnapshot) -> ProviderJobSnapshot {
        var snapshot = snapshot
        if let message = snapshot.error?.message { snapshot.error?.message = redacting(message) }
        return snapshot
    }

    /// A provider job id as one path segment, or `nil` when it is not a plausible id.
    ///
    /// Ids come back from unsigned callbacks too, so anything outside RFC 3986 unreserved
    /// characters, empty, longer than 256, or a dot segment is refused rather than encoded:
    /// no caller-controlled text can change which path the provider sees.
    static func pathSegment(forJobID id: String) -> String? {
        guard !id.isEmpty, id.utf8.count <= 256, id != ".", id != "..",
              id.utf8.allSatisfy({ isUnreserved($0) }) else { return nil }
        return id
    }

    /// An upstream model name (`krea-2/medium`) as path segments, each percent-encoded.
    static func pathSegments(forModel model: String) -> String {
        // The usual name (`krea-2/medium`: unreserved bytes, no empty segment) is its own encoding.
        var previous = UInt8(ascii: "/")  // a leading slash is an empty first segment
        if model.utf8.allSatisfy({ byte in
            defer { previous = byte }
            return byte == UInt8(ascii: "/") ? previous != byte : isUnreserved(byte)
        }), previous != UInt8(ascii: "/") {
            return model
        }
        return model.split(separator: "/", omittingEmptySubsequences: true).map { percentEncoded(String($0)) }.joined(separator: "/")
    }

    /// RFC 3986 §2.3 unreserved: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Percent-encodes everything but unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}

/// Requests already parsed, by path: AsyncHTTPClient parses each request's URL through
/// Foundation's `URL`, on the critical path of every provider call. Only
/// `POST` paths are kept — a provider has one per upstream model, while `GET`/`DELETE` paths
/// name a job — and at most ``capacity`` of them.
final class RequestTemplates: Sendable {
    static let capacity = 64
    private let requests = Mutex<[String: HTTPClient.Request]>([:])

    subscript(path: String) -> HTTPClient.Request? {
        get { requests.withLock { $0[path] } }
        set {
            requests.withLock { requests in
                guard requests.count < Self.capacity || requests[path] != nil else { return }
                requests[path] = newValue
            }
        }
    }
}
