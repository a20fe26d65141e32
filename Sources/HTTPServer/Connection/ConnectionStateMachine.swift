/// The policy of one connection — keep-alive, pipelining order, backpressure, timeouts, close —
/// as a pure state machine. It is fed events (bytes, handler results, write progress, clock
/// ticks) and answers actions for `Connection` to carry out. Generic over the clock so that
/// tests drive time by hand.
struct ConnectionStateMachine<C: Clock>: Sendable where C.Duration == Duration {
    /// What the connection must do next.
    enum Action: Sendable {
        /// Queue these bytes for sending, in order.
        case send([UInt8])
        /// Run the handler for this request; answer with `handlerFinished`.
        case handle(HTTPRequest)
        /// Stop reading (too much buffered while a handler runs).
        case pauseReading
        /// Read again.
        case resumeReading
        /// Close. `.afterFlush(linger:)` sends what is queued first; `linger` keeps reading and
        /// discarding for a while so an early error answer is not destroyed by a TCP reset.
        case close(CloseMode)
    }

    enum CloseMode: Sendable, Equatable {
        case afterFlush(linger: Bool)
        case now
    }

    /// The timeouts and thresholds in force.
    struct Configuration: Sendable {
        /// Time allowed to receive a whole head, counted from its first byte (408 after).
        var headerTimeout: Duration
        /// Time a kept-alive connection may sit idle, and the most time between body bytes or
        /// write progress.
        var idleTimeout: Duration
        /// Buffered unread bytes above which reading pauses while a handler runs.
        var maxBufferedBytes: Int
        /// gzip for response bodies (off unless set).
        var compression = ResponseCompression(gzip: false)
        /// Time to receive a whole body, from the end of its head (408 after), however steadily
        /// its bytes trickle in.
        var bodyTimeout: Duration = .seconds(60)
    }

    let configuration: Configuration
    let renderError: HTTPErrorRenderer
    var parser: HTTPRequestParser

    /// The request being received (head seen, end not yet).
    private(set) var receiving: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Inflates the body being received when it has a `Content-Encoding` (API.md §11).
    private var inflater: BodyInflater?
    /// The body limit, applied to inflated bodies here (the parser applies it to coded ones).
    private let maxBodyBytes: Int
    /// The request whose handler is running.
    private(set) var handling: HTTPRequestHead?
    /// When the current, incomplete head began: its first byte, or, for bytes that arrived
    /// while an earlier request was being answered, the moment the connection turned to it.
    private var headStartedAt: C.Instant?
    /// When the head of the request whose body is arriving was complete.
    private var bodyStartedAt: C.Instant?
    private var lastActivity: C.Instant
    private(set) var requestsServed = 0
    private var outboundPending = false
    private var readingPaused = false
    private var peerClosed = false
    private var shuttingDown = false
    private(set) var isClosing = false

    init(configuration: Configuration, limits: HTTPParserLimits, renderError: @escaping HTTPErrorRenderer, now: C.Instant) {
        self.configuration = configuration
        self.renderError = renderError
        self.parser = HTTPRequestParser(limits: limits)
        self.maxBodyBytes = limits.maxBodyBytes
        self.lastActivity = now
    }

    // MARK: Events

    /// Bytes arrived from the peer.
    mutating func bytesReceived(_ bytes: UnsafeRawBufferPointer, now: C.Instant) -> [Action] {
        guard !isClosing else { return [] }
        if parser.isIdle, receiving == nil, handling == nil { headStartedAt = now }
        lastActivity = now
        parser.append(bytes)
        var actions: [Action] = []
        drive(now: now, into: &actions)
        return actions
    }

    /// The peer closed its sending side (read returned 0).
    mutating func endOfInput(now: C.Instant) -> [Action] {
        peerClosed = true
        guard !isClosing else { return [] }
        var actions: [Action] = []
        drive(now: now, into: &actions)
        return actions
    }

    /// The handler answered the request passed in `.handle`.
    mutating func handlerFinished(_ response: HTTPResponse, now: C.Instant) -> [Action] {
        guard let head = handling, !isClosing else { return [] }
        handling = nil
        requestsServed += 1
        lastActivity = now
        var response = response
        if !(200...999).contains(response.status) || !HTTPResponseEncoder.isValid(response.headers) {
            response = renderError(.invalidResponse)
        }
        response = configuration.compression.apply(to: response, request: head)
        let keepAlive = head.keepAlive && !shuttingDown && !peerClosed
        var actions: [Action] = []
        actions.reserveCapacity(2)
        actions.append(.send(HTTPResponseEncoder.encode(
            response, keepAlive: keepAlive, requestVersion: head.version, isHead: head.method == "HEAD")))
        if !keepAlive {
            isClosing = true
            actions.append(.close(.afterFlush(linger: false)))
            return actions
        }
        drive(now: now, into: &actions)
        return actions
    }

    /// Whether bytes are still waiting to be sent.
    mutating func writeStateChanged(pending: Bool, now: C.Instant) -> [Action] {
        outboundPending = pending
        lastActivity = now
        guard !pending, !isClosing else { return [] }
        var actions: [Action] = []
        drive(now: now, into: &actions)
        return actions
    }

    /// The server is shutting down: finish the request in progress, then close.
    mutating func beginShutdown(now: C.Instant) -> [Action] {
        shuttingDown = true
        guard !isClosing else { return [] }
        if handling == nil, receiving == nil, parser.isIdle {
            isClosing = true
            return [.close(.afterFlush(linger: false))]
        }
        return []
    }

    /// The deadline after which `timerFired` acts, if any.
    var deadline: C.Instant? {
        if handling != nil { return nil }
        // An answer the peer does not read is timed out even on a closing connection (an error
        // answer, `Connection: close`): otherwise a peer that stops reading holds it for good.
        if outboundPending { return lastActivity.advanced(by: configuration.idleTimeout) }
        if isClosing { return nil }
        if let started = headStartedAt { return started.advanced(by: configuration.headerTimeout) }
        if receiving != nil {
            // A pause between body bytes is bounded by the idle timeout, the whole body by its own.
            let pause = lastActivity.advanced(by: configuration.idleTimeout)
            guard let bodyStartedAt else { return pause }
            return min(pause, bodyStartedAt.advanced(by: configuration.bodyTimeout))
        }
        // A connection that never sent a byte gets the header timeout; a kept-alive one, the idle timeout.
        let wait = requestsServed == 0 ? configuration.headerTimeout : configuration.idleTimeout
        return lastActivity.advanced(by: wait)
    }

    /// The clock reached some deadline; acts if ours has passed.
    mutating func timerFired(now: C.Instant) -> [Action] {
        guard let deadline, now >= deadline else { return [] }
        isClosing = true
        if outboundPending {
            // The peer stopped reading our answer.
            return [.close(.now)]
        }
        if headStartedAt != nil || receiving != nil {
            // RFC 9110 §15.5.9: 408 for a request that did not arrive in time, then close.
            let response = renderError(.requestTimeout)
            let version = receiving?.version ?? .http1_1
            return [.send(HTTPResponseEncoder.encode(response, keepAlive: false, requestVersion: version, isHead: false)),
                    .close(.afterFlush(linger: true))]
        }
        return [.close(.afterFlush(linger: false))]
    }

    // MARK: Parsing

    /// Parses buffered bytes until a request is ready for its handler, more bytes are needed,
    /// or the connection must close. Requests are answered strictly in order: nothing after a
    /// request is parsed until its answer has been queued and written.
    private mutating func drive(now: C.Instant, into actions: inout [Action]) {
        while handling == nil, !isClosing, !outboundPending {
            switch parser.next() {
            case .needMoreData:
                if receiving == nil {
                    // Nothing buffered: the idle timeout applies until a head's first byte. Part
                    // of a head buffered (it came with an earlier request): its clock starts now,
                    // so that a pipelined partial head cannot live on the idle timeout.
                    if parser.isIdle { headStartedAt = nil } else if headStartedAt == nil { headStartedAt = now }
                }
                if peerClosed {
                    // Nothing more will come: a half-received request gets no answer.
                    isClosing = true
                    actions.append(.close(.afterFlush(linger: false)))
                }
                adjustReading(into: &actions)
                return
            case .head(let head):
                headStartedAt = nil
                bodyStartedAt = now
                receiving = head
                body = []
                switch BodyInflater.Coding.of(head.headers) {
                case .success(nil):
                    inflater = nil
                    if case .length(let count) = head.framing { body.reserveCapacity(count) }
                case .success(let coding?):
                    inflater = BodyInflater(coding, limit: maxBodyBytes)
                case .failure(let error):
                    refuse(error, version: head.version, into: &actions)
                    return
                }
                // RFC 9110 §10.1.1: say 100 Continue unless the body is already arriving.
                if head.expectsContinue, parser.bufferedByteCount == 0 {
                    actions.append(.send(HTTPResponseEncoder.continueResponse))
                }
            case .body(let bytes):
                if let inflater {
                    do throws(BodyInflater.Failure) {
                        try inflater.inflate(bytes, into: &body)
                    } catch {
                        refuse(error == .tooLarge ? .bodyTooLarge : .invalidBodyEncoding, version: receiving?.version ?? .http1_1, into: &actions)
                        return
                    }
                } else {
                    body.append(contentsOf: bytes)
                }
            case .end(let trailers):
                guard var head = receiving else { continue }
                if let inflater {
                    do throws(BodyInflater.Failure) {
                        try inflater.finish()
                    } catch {
                        refuse(.invalidBodyEncoding, version: head.version, into: &actions)
                        return
                    }
                    self.inflater = nil
                    // The handler sees the body as it was before coding.
                    head.headers.remove(name: "content-encoding")
                }
                receiving = nil
                bodyStartedAt = nil
                handling = head
                let request = HTTPRequest(head: head, body: body, trailers: trailers)
                body = []
                actions.append(.handle(request))
            case .error(let error):
                refuse(HTTPServerError(error), version: .http1_1, into: &actions)
                return
            }
        }
        adjustReading(into: &actions)
    }

    /// Answers a request that cannot be taken with an error, then closes (lingering, so the
    /// answer is not destroyed by a reset while the peer is still sending).
    private mutating func refuse(_ error: HTTPServerError, version: HTTPVersion, into actions: inout [Action]) {
        receiving = nil
        bodyStartedAt = nil
        inflater = nil
        body = []
        isClosing = true
        actions.append(.send(HTTPResponseEncoder.encode(renderError(error), keepAlive: false, requestVersion: version, isHead: false)))
        actions.append(.close(.afterFlush(linger: true)))
    }

    /// Pauses reading while too much is buffered behind a running handler; resumes otherwise.
    private mutating func adjustReading(into actions: inout [Action]) {
        let shouldPause = (handling != nil || outboundPending) && parser.bufferedByteCount > configuration.maxBufferedBytes
        if shouldPause, !readingPaused {
            readingPaused = true
            actions.append(.pauseReading)
        } else if !shouldPause, readingPaused {
            readingPaused = false
            actions.append(.resumeReading)
        }
    }
}
