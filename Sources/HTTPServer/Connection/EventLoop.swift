import CEpoll
import Deadlines
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What a loop tells about a registered descriptor. Called on the loop's thread.
protocol EventLoopHandler: AnyObject, Sendable {
    /// `events`: the `EPOLL*` bits epoll reported.
    func handleEvents(_ events: UInt32)
}

/// One I/O thread: an epoll instance (level-triggered), the work handed to it from other
/// threads, and its timers. It owns a share of the connections and is also the task executor
/// their handlers prefer by default.
///
/// Why not Dispatch sources (the first design): on Linux every source event passes through
/// libdispatch's manager thread — it waits in epoll, wakes a worker to run the handler, and is
/// woken again to re-arm the one-shot registration — three thread switches per request.
/// Here the thread that waits in `epoll_wait` reads the request, runs the handler and writes the
/// answer: one wake-up. (Measured: Benchmarks/README.md, "HTTP server" and "Thread hand-off".)
///
/// Loops are shared by every server of the process (``shared(count:)``) and live as long as it.
final class EventLoop: TaskExecutor, Sendable {
    let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private let thread = Atomic<UInt>(0)
    /// Work handed over by other threads (and tasks enqueued on the loop itself).
    private let inbox = Mutex<[Work]>([])
    /// The inbox's previous buffer, emptied, swapped back in on the next drain (loop only; in a
    /// Mutex for `Sendable`): draining allocates nothing.
    private let spare = Mutex<[Work]>([])
    /// Registered descriptors, by descriptor, with the generation their epoll data carries (a
    /// closed descriptor's number is soon reused: a stale event must not reach the new owner).
    private let registrations = Mutex<Registrations>(Registrations())
    /// Timers; touched on the loop's thread only.
    private let timers = Mutex(DeadlineHeap<Int64, @Sendable () -> Void>())

    private enum Work {
        case closure(@Sendable () -> Void)
        case job(UnownedJob)
    }

    private struct Registrations {
        var handlers: [Int32: (generation: UInt32, handler: any EventLoopHandler)] = [:]
        var nextGeneration: UInt32 = 1
    }

    /// A registered descriptor: its number and the generation its events carry.
    struct Token: Sendable {
        let fd: Int32
        let generation: UInt32
        var epollData: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)) }
    }

    private static let wakeData = UInt64.max
    private static let all = Mutex<[EventLoop]>([])

    /// The first `count` loops of the process, started on first use.
    static func shared(count: Int) -> [EventLoop] {
        all.withLock { loops in
            while loops.count < count { loops.append(EventLoop(index: loops.count)) }
            return Array(loops.prefix(count))
        }
    }

    private init(index: Int) {
        self.index = index
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll_create1/eventfd failed: errno \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeData
        precondition(epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl(eventfd) failed: errno \(errno)")
        let context = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let created = pthread_create(&id, nil, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(id)
    }

    // MARK: Executing work

    /// Whether the caller runs on this loop's thread.
    var inLoop: Bool { thread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs `body` on the loop after what it is doing now (also when called on the loop).
    func execute(_ body: @escaping @Sendable () -> Void) {
        post(.closure(body))
    }

    func enqueue(_ job: consuming ExecutorJob) {
        post(.job(UnownedJob(job)))
    }

    /// Appends to the inbox; wakes the loop when the inbox was empty and the caller is not the
    /// loop (which empties the inbox before it waits again).
    private func post(_ work: Work) {
        let wasEmpty = inbox.withLock { inbox in
            inbox.append(work)
            return inbox.count == 1
        }
        if wasEmpty, !inLoop { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    // MARK: Descriptors

    /// Watches `fd` for `events` (`EPOLLIN`, `EPOLLOUT`; level-triggered) on behalf of `handler`.
    func register(fd: Int32, events: UInt32, handler: any EventLoopHandler) -> Token? {
        let token = registrations.withLock { registrations in
            let generation = registrations.nextGeneration
            registrations.nextGeneration = generation == UInt32.max ? 1 : generation + 1
            registrations.handlers[fd] = (generation, handler)
            return Token(fd: fd, generation: generation)
        }
        var event = epoll_event()
        event.events = events
        event.data.u64 = token.epollData
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            forget(token)
            return nil
        }
        return token
    }

    /// Changes what the registration watches (any thread).
    func modify(_ token: Token, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token.epollData
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, token.fd, &event)
    }

    /// Stops watching; call before closing the descriptor (any thread).
    func deregister(_ token: Token) {
        var event = epoll_event()
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, token.fd, &event)
        forget(token)
    }

    private func forget(_ token: Token) {
        registrations.withLock { registrations in
            if registrations.handlers[token.fd]?.generation == token.generation {
                registrations.handlers[token.fd] = nil
            }
        }
    }

    // MARK: Timers

    /// Runs `body` on the loop at `deadline` (monotonic nanoseconds) or soon after. There is no
    /// cancelling: a body checks whether it is still wanted.
    func schedule(at deadline: Int64, _ body: @escaping @Sendable () -> Void) {
        guard inLoop else {
            post(.closure { [self] in schedule(at: deadline, body) })
            return
        }
        timers.withLock { $0.insert(deadline: deadline, body) }
    }

    // MARK: The loop

    private func run() {
        thread.store(UInt(pthread_self()), ordering: .relaxed)
        cepoll_name_current_thread("http-loop-\(index)")
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let count = epoll_wait(epollFD, events, Int32(capacity), waitTimeout())
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: errno \(errno)")
            }
            for position in 0..<Int(count) {
                let event = events[position]
                if event.data.u64 == Self.wakeData {
                    var value: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &value) { read(wakeFD, $0.baseAddress, 8) }
                    continue
                }
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: event.data.u64))
                let generation = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
                let handler = registrations.withLock { registrations -> (any EventLoopHandler)? in
                    guard let entry = registrations.handlers[fd], entry.generation == generation else { return nil }
                    return entry.handler
                }
                handler?.handleEvents(event.events)
            }
            runInbox()
            runTimers()
        }
    }

    /// Milliseconds `epoll_wait` may block: 0 with work waiting, until the next timer, or forever.
    private func waitTimeout() -> Int32 {
        if inbox.withLock({ !$0.isEmpty }) { return 0 }
        guard let next = timers.withLock({ $0.earliest }) else { return -1 }
        let remaining = next - MonotonicClock.now.nanoseconds
        if remaining <= 0 { return 0 }
        return Int32(clamping: (remaining + 999_999) / 1_000_000)
    }

    /// Runs what was handed over, a bounded number of rounds so a task that keeps re-enqueueing
    /// itself cannot starve the descriptors.
    private func runInbox() {
        var work = spare.withLock { spare in
            defer { spare = [] }
            return spare
        }
        for _ in 0..<16 {
            inbox.withLock { inbox in swap(&inbox, &work) }
            if work.isEmpty { break }
            for item in work {
                switch item {
                case .closure(let body): body()
                case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
            work.removeAll(keepingCapacity: true)
        }
        spare.withLock { spare in swap(&spare, &work) }
    }

    private func runTimers() {
        let now = MonotonicClock.now.nanoseconds
        while let body = timers.withLock({ $0.popDue(now: now) }) { body() }
    }
}
