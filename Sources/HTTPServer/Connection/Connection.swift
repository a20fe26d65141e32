import CEpoll
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One accepted socket: carries out what its `ConnectionStateMachine` decides, registered with
/// its event loop (readable, and writable while an answer waits for room) and with one timer
/// there.
///
/// Readiness, timers and handlers all run on the loop's thread (a handler task prefers the loop as
/// its executor, so it resumes there after a suspension). The state still sits in one `Mutex`,
/// held for one event's work (a bounded number of reads): `beginShutdown` and `forceClose` come
/// from the server's shutdown task.
final class Connection: EventLoopHandler, Sendable {
    typealias Machine = ConnectionStateMachine<MonotonicClock>

    let socket: Socket
    let loop: EventLoop
    let remoteAddress: String?
    private let context: ServerContext
    private let state: Mutex<State>
    /// The TLS session on a TLS listener's connection (its bytes go through OpenSSL).
    private let tls: TLSSession?

    struct State: ~Copyable {
        var machine: Machine
        var outbound: [UInt8] = []
        var outboundOffset = 0
        /// The loop's registration; nil before `start` and after the close.
        var token: EventLoop.Token?
        var readSuspended = false
        var writeSuspended = true
        /// The deadline a scheduled timer fires for (an earlier one replaces it; a timer that
        /// fires for another deadline than this one is stale and does nothing).
        var armedDeadline: MonotonicClock.Instant?
        var closeAfterFlush: Machine.CloseMode?
        var lingerUntil: MonotonicClock.Instant?
        var handlerTask: Task<Void, Never>?
        /// A request the machine asked to handle, started once the lock is released.
        var pendingRequest: HTTPRequest?
        /// True while a handler is being started on the loop: an answer given before it first
        /// suspends lands in `inlineResponse` for the starting thread to take.
        var startingHandler = false
        var inlineResponse: HTTPResponse?
        var closed = false
        /// TLS needs the socket readable to go on writing (or to finish its handshake), even
        /// while the request stream is paused.
        var tlsNeedsReadable = false

        /// What the registration watches now.
        var interest: UInt32 {
            (readSuspended && !tlsNeedsReadable ? 0 : EPOLLIN.rawValue) | (writeSuspended ? 0 : EPOLLOUT.rawValue)
        }
    }

    static let lingerTime: Duration = .seconds(2)

    init(socket: Socket, remoteAddress: String?, loop: EventLoop, context: ServerContext, tls: TLSSession? = nil) {
        self.socket = socket
        self.loop = loop
        self.remoteAddress = remoteAddress
        self.context = context
        self.tls = tls
        let machine = Machine(
            configuration: context.machineConfiguration, limits: context.configuration.limits,
            renderError: context.renderError, now: MonotonicClock.now)
        state = Mutex(State(machine: machine))
    }

    /// Registers with the loop and starts reading. Runs on the loop.
    func start() {
        state.withLock { state in
            guard !state.closed else { return }
            guard let token = loop.register(fd: socket.fd, events: state.interest, handler: self) else {
                finalClose(&state)
                return
            }
            state.token = token
            rearmTimer(&state)
        }
    }

    /// What epoll reported. Runs on the loop.
    ///
    /// A hang-up (`EPOLLHUP`: both directions are gone, or a reset) or an error is reported
    /// whatever the registration watches, so it is acted on here even while reading is paused —
    /// level-triggered, it would otherwise be reported again at once, forever.
    func handleEvents(_ events: UInt32) {
        let hangUp = events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        if events & EPOLLOUT.rawValue != 0 { writable() }
        if events & EPOLLIN.rawValue != 0 || hangUp { readable(hangUp: hangUp) }
    }

    // MARK: Entry points (on the loop, but for `handlerFinished`, `beginShutdown` and `forceClose`)

    /// Reads until the socket would block, answers what that completes, and returns to the loop.
    ///
    /// The registration is level-triggered, so bytes left in the socket raise the next event by
    /// themselves: a read that came back short has drained the socket, and the read that would
    /// only answer `EAGAIN` is skipped. End of stream is a read of 0 bytes; after a hang-up
    /// with reading paused the connection is closed (nothing can be read or delivered).
    private func readable(hangUp: Bool = false) {
        state.withLock { state in
            guard !state.closed else { return }
            if hangUp, state.readSuspended {
                finalClose(&state)
                return
            }
            if let tls {
                if !tls.isEstablished {
                    guard advanceHandshake(tls, &state) else { return }
                }
                // A write that waited for the socket to be readable can go on now.
                if tls.waitsForReadable { flush(&state, now: MonotonicClock.now) }
                guard !state.closed else { return }
            }
            readAvailable(&state, hangUp: hangUp)
        }
        startPendingHandler()
    }

    /// Reads until the socket (and TLS's buffer) would block, or a few reads have been done,
    /// feeding the machine. Under the lock.
    private func readAvailable(_ state: inout State, hangUp: Bool) {
        // One clock reading per event: the machine's timeouts are seconds, not microseconds.
        let now = MonotonicClock.now
        // At most a few reads per event, so the lock is never held for long (an answer may be
        // waiting for it on another thread); level-triggered, the rest raises the next event.
        var reads = 0
        readLoop: while !state.closed, !state.readSuspended, reads < Self.readsPerEvent {
            reads += 1
            let result = withUnsafeTemporaryAllocation(byteCount: Self.readSize, alignment: 16) { buffer -> IOResult in
                let result = tls?.read(into: buffer) ?? socket.read(into: buffer)
                if case .bytes(let count) = result, state.lingerUntil == nil {  // discarded while lingering
                    let actions = state.machine.bytesReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), now: now)
                    perform(actions, &state, now: now)
                }
                return result
            }
            switch result {
            case .bytes(let count):
                // A short read drained the socket; TLS may still hold decrypted bytes.
                if count < Self.readSize, (tls?.pendingBytes ?? 0) == 0 { break readLoop }
            case .wouldBlock:
                // A TLS read that must write first (a key update) waits for writable.
                if tls?.waitsForWritable == true { resumeWriting(&state) }
                break readLoop
            case .endOfStream:
                // An EOF stays readable forever: stop reading.
                suspendReading(&state)
                if state.lingerUntil != nil { finalClose(&state); return }
                perform(state.machine.endOfInput(now: now), &state, now: now)
                if hangUp { finalClose(&state); return }
                break readLoop
            case .peerGone, .failed:
                finalClose(&state)
                return
            }
        }
        // Level-triggered epoll cannot signal bytes TLS has already taken off the socket.
        if let tls, !state.closed, !state.readSuspended, reads >= Self.readsPerEvent, tls.pendingBytes > 0 {
            loop.execute { [self] in readable() }
        }
        rearmTimer(&state)
    }

    /// Drives the TLS handshake as far as the socket allows; answers whether it is done. A
    /// failed handshake (plain HTTP on the TLS port, an old version, a missing client
    /// certificate) closes the connection. Under the lock.
    private func advanceHandshake(_ tls: TLSSession, _ state: inout State) -> Bool {
        switch tls.handshake() {
        case .done:
            state.tlsNeedsReadable = false
            if state.outboundOffset >= state.outbound.count, !state.writeSuspended {
                state.writeSuspended = true
                updateInterest(&state)
            }
            return true
        case .wantRead:
            if state.outboundOffset >= state.outbound.count, !state.writeSuspended {
                state.writeSuspended = true
                updateInterest(&state)
            }
            rearmTimer(&state)
            return false
        case .wantWrite:
            resumeWriting(&state)
            rearmTimer(&state)
            return false
        case .failed:
            finalClose(&state)
            return false
        }
    }

    static let readSize = 32 * 1024
    static let readsPerEvent = 4

    private func writable() {
        state.withLock { state in
            guard !state.closed else { return }
            if let tls {
                if !tls.isEstablished {
                    guard advanceHandshake(tls, &state) else { return }
                    readAvailable(&state, hangUp: false)
                    return
                }
                // A read that waited for the socket to be writable can go on now.
                if tls.waitsForWritable { readAvailable(&state, hangUp: false) }
                guard !state.closed else { return }
            }
            flush(&state, now: MonotonicClock.now)
            rearmTimer(&state)
        }
        startPendingHandler()
    }

    private func timerFired(for deadline: MonotonicClock.Instant) {
        state.withLock { state in
            guard !state.closed, state.armedDeadline == deadline else { return }
            state.armedDeadline = nil
            let now = MonotonicClock.now
            if let linger = state.lingerUntil {
                if now >= linger { finalClose(&state); return }
            } else {
                perform(state.machine.timerFired(now: now), &state, now: now)
            }
            rearmTimer(&state)
        }
    }

    /// The handler's answer (on the loop).
    ///
    /// A handler that answers without suspending does so while `startPendingHandler` is still
    /// starting it (`startingHandler`): its answer is left in `inlineResponse` for that loop to
    /// take. Otherwise the answer goes to the machine and out to the socket, then its
    /// `afterResponse` runs, and the next pipelined request, if any, is started.
    private func handlerFinished(_ response: HTTPResponse) {
        let (answered, next) = state.withLock { state -> (Bool, Bool) in
            if state.startingHandler {
                state.inlineResponse = response
                return (false, false)
            }
            state.handlerTask = nil
            guard !state.closed else { return (true, false) }
            let now = MonotonicClock.now
            perform(state.machine.handlerFinished(response, now: now), &state, now: now)
            rearmTimer(&state)
            return (true, state.pendingRequest != nil)
        }
        if answered { response.afterResponse?() }
        guard next else { return }
        if loop.inLoop { startPendingHandler() } else { loop.execute { [self] in startPendingHandler() } }
    }

    /// Starts the handler of the request the machine asked for, outside the lock. A handler
    /// that answers without suspending (most do: `/healthz`, 404, validation errors) runs to
    /// its end right here on the calling thread, with no task enqueued and no turn of a queue;
    /// its answer goes to the machine at once, and so does the next pipelined request, in a loop
    /// rather than a recursion. A handler that suspends resumes on the loop and answers
    /// through `handlerFinished`. Runs on the loop.
    private func startPendingHandler() {
        while let request = state.withLock({ state -> HTTPRequest? in
            guard !state.closed, let request = state.pendingRequest.take() else { return nil }
            state.startingHandler = true
            return request
        }) {
            let handler = context.handler
            let task = Self.startTask(preferring: loop) { [self] in
                let response = await handler(request)
                handlerFinished(response)
            }
            let answered = state.withLock { state -> HTTPResponse? in
                state.startingHandler = false
                guard let response = state.inlineResponse.take() else {
                    if state.closed { task.cancel() } else { state.handlerTask = task }
                    return nil
                }
                guard !state.closed else { return response }
                let now = MonotonicClock.now
                perform(state.machine.handlerFinished(response, now: now), &state, now: now)
                rearmTimer(&state)
                return response
            }
            answered?.afterResponse?()
        }
    }

    /// A task that starts at once on the calling thread (the loop's) and, after a suspension,
    /// continues on `executor`.
    private static func startTask(preferring executor: any TaskExecutor, _ body: sending @escaping @isolated(any) () async -> Void) -> Task<Void, Never> {
        if #available(macOS 26.0, *) {
            return Task.immediate(executorPreference: executor, operation: body)
        } else {
            return Task(executorPreference: executor, operation: body)
        }
    }

    /// Graceful shutdown: finish the request in progress, then close.
    func beginShutdown() {
        state.withLock { state in
            guard !state.closed else { return }
            let now = MonotonicClock.now
            perform(state.machine.beginShutdown(now: now), &state, now: now)
            rearmTimer(&state)
        }
    }

    /// Closes at once, cancelling a running handler (end of the shutdown grace period).
    func forceClose() {
        state.withLock { state in finalClose(&state) }
    }

    // MARK: Actions

    private func perform(_ actions: [Machine.Action], _ state: inout State, now: MonotonicClock.Instant) {
        var queue = actions
        var next = 0
        while next < queue.count {
            let action = queue[next]
            next += 1
            guard !state.closed else { return }
            switch action {
            case .send(let bytes):
                if state.outbound.isEmpty { state.outbound = bytes; state.outboundOffset = 0 } else { state.outbound.append(contentsOf: bytes) }
                let reaction = flush(&state, now: now, notify: false)
                if !reaction.isEmpty { queue.append(contentsOf: reaction) }
            case .handle(var request):
                // Started by `startPendingHandler` once the lock is released (the machine asks
                // for one request at a time).
                request.remoteAddress = remoteAddress
                state.pendingRequest = request
            case .pauseReading:
                suspendReading(&state)
            case .resumeReading:
                if state.readSuspended {
                    state.readSuspended = false
                    // Level-triggered: bytes that arrived while paused raise an event at once.
                    updateInterest(&state)
                }
            case .close(let mode):
                switch mode {
                case .now:
                    finalClose(&state)
                case .afterFlush:
                    state.closeAfterFlush = mode
                    if state.outboundOffset >= state.outbound.count { closeFlushed(&state) }
                }
            }
        }
    }

    /// Sends as much as the socket takes. Returns the machine's reaction to the write state
    /// when `notify` is false (the caller feeds it back), else performs it.
    @discardableResult
    private func flush(_ state: inout State, now: MonotonicClock.Instant, notify: Bool = true) -> [Machine.Action] {
        while state.outboundOffset < state.outbound.count {
            let result = state.outbound.withUnsafeBytes { bytes in
                let pending = UnsafeRawBufferPointer(rebasing: bytes[state.outboundOffset...])
                return tls?.send(pending) ?? socket.send(pending)
            }
            switch result {
            case .bytes(let count):
                state.outboundOffset += count
            case .wouldBlock:
                // A TLS write that must read first waits for readable (even while the request
                // stream is paused) and not for writable, which would wake it again and again;
                // any other write waits for writable.
                let needsReadable = tls?.waitsForReadable == true
                if state.tlsNeedsReadable != needsReadable || state.writeSuspended != needsReadable {
                    state.tlsNeedsReadable = needsReadable
                    state.writeSuspended = needsReadable
                    updateInterest(&state)
                }
                let actions = state.machine.writeStateChanged(pending: true, now: now)
                if notify { perform(actions, &state, now: now); return [] }
                return actions
            case .endOfStream, .peerGone, .failed:
                finalClose(&state)
                return []
            }
        }
        state.outbound.removeAll(keepingCapacity: state.outbound.count <= 16 * 1024)
        state.outboundOffset = 0
        if state.tlsNeedsReadable {
            state.tlsNeedsReadable = false
            updateInterest(&state)
        }
        if !state.writeSuspended {
            state.writeSuspended = true
            updateInterest(&state)
        }
        if state.closeAfterFlush != nil { closeFlushed(&state); return [] }
        let actions = state.machine.writeStateChanged(pending: false, now: now)
        if notify { perform(actions, &state, now: now); return [] }
        return actions
    }

    private func resumeWriting(_ state: inout State) {
        if state.writeSuspended {
            state.writeSuspended = false
            updateInterest(&state)
        }
    }

    private func suspendReading(_ state: inout State) {
        if !state.readSuspended {
            state.readSuspended = true
            updateInterest(&state)
        }
    }

    private func updateInterest(_ state: inout State) {
        guard let token = state.token else { return }
        loop.modify(token, events: state.interest)
    }

    /// Everything queued is sent: close, lingering first when asked.
    private func closeFlushed(_ state: inout State) {
        guard case .afterFlush(let linger)? = state.closeAfterFlush, state.lingerUntil == nil else { return }
        tls?.shutdown()
        socket.shutdownWrite()
        if linger, !state.readSuspended {
            state.lingerUntil = MonotonicClock.now.advanced(by: Self.lingerTime)
            rearmTimer(&state)
        } else {
            finalClose(&state)
        }
    }

    /// Closes the socket at once (any thread, under the lock): no event for it is delivered
    /// after this, even when its number is reused by the next accepted connection.
    private func finalClose(_ state: inout State) {
        guard !state.closed else { return }
        state.closed = true
        state.handlerTask?.cancel()
        state.handlerTask = nil
        state.pendingRequest = nil
        if let token = state.token { loop.deregister(token) }
        state.token = nil
        state.outbound = []
        context.connectionClosed(self)
        socket.close()
    }

    // MARK: Timer

    /// Arms the timer when the deadline is earlier than the armed one; a later deadline is
    /// picked up when the early firing finds nothing to do (so most requests never touch it).
    private func rearmTimer(_ state: inout State) {
        guard !state.closed, let deadline = state.lingerUntil ?? state.machine.deadline else { return }
        if let armed = state.armedDeadline, armed <= deadline { return }
        state.armedDeadline = deadline
        loop.schedule(at: deadline.nanoseconds) { [weak self] in self?.timerFired(for: deadline) }
    }
}
