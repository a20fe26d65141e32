import Dispatch
import Synchronization

/// One accepted socket: carries out what its `ConnectionStateMachine` decides, with a read
/// source, a lazily created write source and one timer, all on its event loop's queue.
///
/// Every method runs on that queue; the state sits in a `Mutex` only so the type is `Sendable`
/// for the Dispatch handlers (it is never contended).
final class Connection: Sendable {
    typealias Machine = ConnectionStateMachine<ContinuousClock>

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
        var armedDeadline: ContinuousClock.Instant?
        var closeAfterFlush: Machine.CloseMode?
        var lingerUntil: ContinuousClock.Instant?
        var handlerTask: Task<Void, Never>?
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
            renderError: context.renderError, now: .now)
        state = Mutex(State(machine: machine))
    }

    /// Creates the sources and starts reading. Runs on the loop.
    func start() {
        state.withLock { state in
            let read = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: loop.queue)
            let timer = DispatchSource.makeTimerSource(queue: loop.queue)
            read.setEventHandler { [self] in readable() }
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

    /// Reads until the socket would block (the source may be edge-triggered), the machine
    /// pauses reading, or the connection ends.
    private func readable() {
        state.withLock { state in
            readLoop: while !state.closed, !state.readSuspended {
                let result = withUnsafeTemporaryAllocation(byteCount: 32 * 1024, alignment: 16) { buffer -> IOResult in
                    let result = socket.read(into: buffer)
                    if case .bytes(let count) = result, state.lingerUntil == nil {  // discarded while lingering
                        let actions = state.machine.bytesReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), now: .now)
                        perform(actions, &state)
                    }
                    return result
                }
                switch result {
                case .bytes:
                    continue
                case .wouldBlock:
                    break readLoop
                case .endOfStream:
                    // An EOF stays readable forever: stop reading.
                    suspendReading(&state)
                    if state.lingerUntil != nil { finalClose(&state); return }
                    perform(state.machine.endOfInput(now: .now), &state)
                    break readLoop
                case .peerGone, .failed:
                    finalClose(&state)
                    return
                }
            }
            rearmTimer(&state)
        }
    }

    private func writable() {
        state.withLock { state in
            guard !state.closed else { return }
            flush(&state)
            rearmTimer(&state)
        }
    }

    private func timerFired() {
        state.withLock { state in
            guard !state.closed else { return }
            state.armedDeadline = nil
            let now = ContinuousClock.now
            if let linger = state.lingerUntil {
                if now >= linger { finalClose(&state); return }
            } else {
                perform(state.machine.timerFired(now: now), &state)
            }
            rearmTimer(&state)
        }
    }

    /// The handler's answer; may be called from any thread.
    func handlerFinished(_ response: HTTPResponse) {
        loop.execute { [self] in
            state.withLock { state in
                state.handlerTask = nil
                guard !state.closed else { return }
                perform(state.machine.handlerFinished(response, now: .now), &state)
                rearmTimer(&state)
            }
        }
    }

    /// Graceful shutdown: finish the request in progress, then close.
    func beginShutdown() {
        loop.execute { [self] in
            state.withLock { state in
                guard !state.closed else { return }
                perform(state.machine.beginShutdown(now: .now), &state)
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

    private func perform(_ actions: [Machine.Action], _ state: inout State) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            guard !state.closed else { return }
            switch action {
            case .send(let bytes):
                if state.outbound.isEmpty { state.outbound = bytes; state.outboundOffset = 0 } else { state.outbound.append(contentsOf: bytes) }
                queue.append(contentsOf: flush(&state, notify: false))
            case .handle(var request):
                request.remoteAddress = remoteAddress
                let handler = context.handler
                state.handlerTask = Task(executorPreference: loop) { [self] in
                    let response = await handler(request)
                    handlerFinished(response)
                }
            case .pauseReading:
                suspendReading(&state)
            case .resumeReading:
                if state.readSuspended, let source = state.readSource {
                    state.readSuspended = false
                    source.resume()
                    // Bytes that arrived while paused may not raise a new event.
                    loop.queue.async { [self] in readable() }
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
    private func flush(_ state: inout State, notify: Bool = true) -> [Machine.Action] {
        while state.outboundOffset < state.outbound.count {
            let result = state.outbound.withUnsafeBytes { bytes in
                socket.send(UnsafeRawBufferPointer(rebasing: bytes[state.outboundOffset...]))
            }
            switch result {
            case .bytes(let count):
                state.outboundOffset += count
            case .wouldBlock:
                resumeWriting(&state)
                let actions = state.machine.writeStateChanged(pending: true, now: .now)
                if notify { perform(actions, &state); return [] }
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
        let actions = state.machine.writeStateChanged(pending: false, now: .now)
        if notify { perform(actions, &state); return [] }
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
            state.lingerUntil = .now + Self.lingerTime
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
        guard !state.closed, let timer = state.timer else { return }
        let deadline = state.lingerUntil ?? state.machine.deadline
        guard let deadline else { return }
        if let armed = state.armedDeadline, armed <= deadline { return }
        state.armedDeadline = deadline
        let wait = max(deadline - .now, .zero)
        let nanoseconds = Int(wait.components.seconds) * 1_000_000_000 + Int(wait.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), leeway: .milliseconds(5))
    }
}
