import Dispatch
import Synchronization

/// One accepted socket: carries out what its `ConnectionStateMachine` decides, with a read
/// source, a lazily created write source and one timer, all on its event loop's queue.
///
/// Every method runs on that queue; the state sits in a `Mutex` only so the type is `Sendable`
/// for the Dispatch handlers (it is never contended).
final class Connection: Sendable {
    typealias Machine = ConnectionStateMachine<MonotonicClock>

    let socket: Socket
    let loop: EventLoop
    let remoteAddress: String?
    private let context: ServerContext
    private let state: Mutex<State>

    struct State: ~Copyable {
        var machine: Machine
        var outbound: [UInt8] = []
        var outboundOffset = 0
        var readSource: (any DispatchSourceRead)?
        var readSuspended = false
        var writeSource: (any DispatchSourceWrite)?
        var writeSuspended = true
        var timer: (any DispatchSourceTimer)?
        var armedDeadline: MonotonicClock.Instant?
        var closeAfterFlush: Machine.CloseMode?
        var lingerUntil: MonotonicClock.Instant?
        var handlerTask: Task<Void, Never>?
        /// A request the machine asked to handle, started once the lock is released.
        var pendingRequest: HTTPRequest?
        /// True while a handler is being started on the loop: an answer given before it first
        /// suspends lands in `inlineResponse` instead of a new turn of the queue.
        var startingHandler = false
        var inlineResponse: HTTPResponse?
        var closed = false
        var pendingCancellations = 0
    }

    static let lingerTime: Duration = .seconds(2)

    init(socket: Socket, remoteAddress: String?, loop: EventLoop, context: ServerContext) {
        self.socket = socket
        self.loop = loop
        self.remoteAddress = remoteAddress
        self.context = context
        let machine = Machine(
            configuration: context.machineConfiguration, limits: context.configuration.limits,
            renderError: context.renderError, now: MonotonicClock.now)
        state = Mutex(State(machine: machine))
    }

    /// Creates the sources and starts reading. Runs on the loop.
    func start() {
        state.withLock { state in
            let read = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: loop.queue)
            let timer = DispatchSource.makeTimerSource(queue: loop.queue)
            read.setEventHandler { [self] in readable(fromSource: true) }
            read.setCancelHandler { [self] in sourceCancelled() }
            timer.setEventHandler { [self] in timerFired() }
            state.readSource = read
            state.timer = timer
            state.pendingCancellations = 1  // the read source; a write source adds one
            rearmTimer(&state)
            read.resume()
            timer.resume()
        }
    }

    // MARK: Entry points (all on the loop)

    /// Reads what the event announced, answers what it completes, and returns to the queue.
    ///
    /// Dispatch read sources are level-triggered (on Linux a one-shot epoll registration that
    /// is re-armed after each handler, elsewhere a kqueue filter), so bytes left in the socket
    /// raise the next event by themselves: once the bytes the event announced (`data`, the
    /// socket's input queue length) have been read and the last read was short, the read that
    /// would only answer `EAGAIN` is skipped. An event that announces nothing (end of stream, or
    /// a hang-up, after which Linux's libdispatch never fires the source again) and a call that
    /// is not from the source read until the socket would block, ends or fails.
    private func readable(fromSource: Bool) {
        state.withLock { state in
            let announced = fromSource ? Int(state.readSource?.data ?? 0) : 0
            var received = 0
            // One clock reading per event: the machine's timeouts are seconds, not microseconds.
            let now = MonotonicClock.now
            readLoop: while !state.closed, !state.readSuspended {
                let result = withUnsafeTemporaryAllocation(byteCount: Self.readSize, alignment: 16) { buffer -> IOResult in
                    let result = socket.read(into: buffer)
                    if case .bytes(let count) = result, state.lingerUntil == nil {  // discarded while lingering
                        let actions = state.machine.bytesReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), now: now)
                        perform(actions, &state, now: now)
                    }
                    return result
                }
                switch result {
                case .bytes(let count):
                    received += count
                    if count < Self.readSize, announced > 0, received >= announced { break readLoop }
                case .wouldBlock:
                    break readLoop
                case .endOfStream:
                    // An EOF stays readable forever: stop reading.
                    suspendReading(&state)
                    if state.lingerUntil != nil { finalClose(&state); return }
                    perform(state.machine.endOfInput(now: now), &state, now: now)
                    break readLoop
                case .peerGone, .failed:
                    finalClose(&state)
                    return
                }
            }
            rearmTimer(&state)
        }
        startPendingHandler()
    }

    static let readSize = 32 * 1024

    private func writable() {
        state.withLock { state in
            guard !state.closed else { return }
            flush(&state, now: MonotonicClock.now)
            rearmTimer(&state)
        }
        startPendingHandler()
    }

    private func timerFired() {
        state.withLock { state in
            guard !state.closed else { return }
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

    /// The handler's answer; may be called from any thread.
    private func handlerFinished(_ response: HTTPResponse) {
        guard loop.inLoop else {
            loop.queue.async { [self] in finish(response) }
            return
        }
        // Only the handler being started right now can answer on the loop while
        // `startingHandler` is set: the loop's thread is inside `startPendingHandler`.
        let inline = state.withLock { state in
            guard state.startingHandler else { return false }
            state.inlineResponse = response
            return true
        }
        if !inline { finish(response) }
    }

    /// Hands an answer to the machine. Runs on the loop.
    private func finish(_ response: HTTPResponse) {
        state.withLock { state in
            state.handlerTask = nil
            guard !state.closed else { return }
            let now = MonotonicClock.now
            perform(state.machine.handlerFinished(response, now: now), &state, now: now)
            rearmTimer(&state)
        }
        startPendingHandler()
    }

    /// Starts the handler of the request the machine asked for, outside the lock. A handler
    /// that answers without suspending (most do: `/healthz`, 404, validation errors) runs to
    /// its end right here on the loop's thread, with no task enqueued and no turn of the queue;
    /// its answer goes to the machine at once, and so does the next pipelined request, in a loop
    /// rather than a recursion. A handler that suspends resumes on the loop (its executor
    /// preference) and answers through `handlerFinished`. Runs on the loop.
    private func startPendingHandler() {
        while let request = state.withLock({ state -> HTTPRequest? in
            guard !state.closed, let request = state.pendingRequest.take() else { return nil }
            state.startingHandler = true
            return request
        }) {
            let handler = context.handler
            let task = Self.startTask(on: loop) { [self] in
                let response = await handler(request)
                handlerFinished(response)
            }
            state.withLock { state in
                state.startingHandler = false
                guard let response = state.inlineResponse.take() else {
                    if state.closed { task.cancel() } else { state.handlerTask = task }
                    return
                }
                guard !state.closed else { return }
                let now = MonotonicClock.now
                perform(state.machine.handlerFinished(response, now: now), &state, now: now)
                rearmTimer(&state)
            }
        }
    }

    /// A task that starts at once on the calling thread (the loop) and, after a suspension,
    /// continues on the loop.
    private static func startTask(on loop: EventLoop, _ body: sending @escaping @isolated(any) () async -> Void) -> Task<Void, Never> {
        if #available(macOS 26.0, *) {
            return Task.immediate(executorPreference: loop, operation: body)
        } else {
            return Task(executorPreference: loop, operation: body)
        }
    }

    /// Graceful shutdown: finish the request in progress, then close.
    func beginShutdown() {
        loop.execute { [self] in
            state.withLock { state in
                guard !state.closed else { return }
                let now = MonotonicClock.now
                perform(state.machine.beginShutdown(now: now), &state, now: now)
                rearmTimer(&state)
            }
        }
    }

    /// Closes at once, cancelling a running handler (end of the shutdown grace period).
    func forceClose() {
        loop.execute { [self] in
            state.withLock { state in finalClose(&state) }
        }
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
                if state.readSuspended, let source = state.readSource {
                    state.readSuspended = false
                    source.resume()
                    // Bytes that arrived while paused may not raise a new event.
                    loop.queue.async { [self] in readable(fromSource: false) }
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
                socket.send(UnsafeRawBufferPointer(rebasing: bytes[state.outboundOffset...]))
            }
            switch result {
            case .bytes(let count):
                state.outboundOffset += count
            case .wouldBlock:
                resumeWriting(&state)
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
        if !state.writeSuspended, let source = state.writeSource {
            state.writeSuspended = true
            source.suspend()
        }
        if state.closeAfterFlush != nil { closeFlushed(&state); return [] }
        let actions = state.machine.writeStateChanged(pending: false, now: now)
        if notify { perform(actions, &state, now: now); return [] }
        return actions
    }

    private func resumeWriting(_ state: inout State) {
        if state.writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: socket.fd, queue: loop.queue)
            source.setEventHandler { [self] in writable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            state.writeSource = source
            state.pendingCancellations += 1
        }
        if state.writeSuspended, let source = state.writeSource {
            state.writeSuspended = false
            source.resume()
        }
    }

    private func suspendReading(_ state: inout State) {
        if !state.readSuspended, let source = state.readSource {
            state.readSuspended = true
            source.suspend()
        }
    }

    /// Everything queued is sent: close, lingering first when asked.
    private func closeFlushed(_ state: inout State) {
        guard case .afterFlush(let linger)? = state.closeAfterFlush, state.lingerUntil == nil else { return }
        socket.shutdownWrite()
        if linger, !state.readSuspended {
            state.lingerUntil = MonotonicClock.now.advanced(by: Self.lingerTime)
            rearmTimer(&state)
        } else {
            finalClose(&state)
        }
    }

    private func finalClose(_ state: inout State) {
        guard !state.closed else { return }
        state.closed = true
        state.handlerTask?.cancel()
        state.handlerTask = nil
        state.pendingRequest = nil
        // A suspended source must be resumed before its cancellation can complete.
        if let read = state.readSource {
            read.cancel()
            if state.readSuspended { read.resume() }
        }
        if let write = state.writeSource {
            write.cancel()
            if state.writeSuspended { write.resume() }
        }
        state.timer?.cancel()
        state.readSource = nil
        state.writeSource = nil
        state.timer = nil
        state.outbound = []
        context.connectionClosed(self)
        if state.pendingCancellations == 0 { socket.close() }
    }

    /// Closes the descriptor after the last source on it is cancelled (libdispatch requires it).
    private func sourceCancelled() {
        state.withLock { state in
            state.pendingCancellations -= 1
            if state.pendingCancellations == 0, state.closed { socket.close() }
        }
    }

    // MARK: Timer

    /// Arms the timer when the deadline is earlier than the armed one; a later deadline is
    /// picked up when the early firing finds nothing to do (so most requests never touch it).
    private func rearmTimer(_ state: inout State) {
        guard !state.closed, let deadline = state.lingerUntil ?? state.machine.deadline else { return }
        if let armed = state.armedDeadline, armed <= deadline { return }
        guard let timer = state.timer else { return }
        state.armedDeadline = deadline
        let wait = max(deadline.nanoseconds - MonotonicClock.now.nanoseconds, 0)
        timer.schedule(deadline: .now() + .nanoseconds(Int(wait)), leeway: .milliseconds(5))
    }
}
