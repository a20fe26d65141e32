import Dispatch
import GatewayCore
import HTTPServer
import Synchronization

/// Sends callbacks: one timer per job that has a callback URL, then `copies` sequential POSTs on
/// one of a few serial worker queues (the client blocks its thread, so it never runs on the
/// cooperative pool; a few private queues bound how many threads it may hold).
final class CallbackDeliverer: Sendable {
    /// Every attempt, newest last (bounded).
    let attempts: BoundedLog<CallbackAttempt>
    private let copies: Int
    private let timeout: Duration
    private let timerQueue = DispatchQueue(label: "simulator.callback.timer")
    private let workers: [DispatchQueue]
    private let nextWorker = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let inFlight = Atomic<Int>(0)

    init(copies: Int, timeout: Duration, workers: Int, logCapacity: Int) {
        self.copies = max(copies, 1)
        self.timeout = timeout
        self.workers = (0..<max(workers, 1)).map { DispatchQueue(label: "simulator.callback.worker.\($0)") }
        attempts = BoundedLog(capacity: logCapacity)
    }

    /// After `delay`, asks `render` for the body (nil: nothing to send, e.g. the job was cancelled
    /// meanwhile or forgotten) and delivers it.
    func schedule(after delay: Duration, jobID: String, url: String, render: @escaping @Sendable () -> [UInt8]?) {
        inFlight.add(1, ordering: .relaxed)
        timerQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(max(delay.nanoseconds, 0)))) { [self] in
            guard !stopped.load(ordering: .relaxed), let body = render() else {
                inFlight.subtract(1, ordering: .relaxed)
                return
            }
            enqueue(jobID: jobID, url: url, body: body)
        }
    }

    /// Delivers now (a Krea job cancelled by DELETE).
    func deliver(jobID: String, url: String, body: [UInt8]) {
        inFlight.add(1, ordering: .relaxed)
        enqueue(jobID: jobID, url: url, body: body)
    }

    /// Callbacks scheduled or being sent.
    var pendingCount: Int { inFlight.load(ordering: .relaxed) }

    /// No further callback is sent (those being sent finish within their timeout).
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Callbacks are sent again (a simulator started after a shutdown).
    func resume() { stopped.store(false, ordering: .relaxed) }

    private func enqueue(jobID: String, url: String, body: [UInt8]) {
        let worker = workers[nextWorker.wrappingAdd(1, ordering: .relaxed).oldValue % workers.count]
        worker.async { [self] in
            defer { inFlight.subtract(1, ordering: .relaxed) }
            for copy in 1...copies {
                guard !stopped.load(ordering: .relaxed) else { return }
                attempts.append(post(jobID: jobID, url: url, body: body, copy: copy))
            }
        }
    }

    private func post(jobID: String, url: String, body: [UInt8], copy: Int) -> CallbackAttempt {
        do {
            let response = try LoopbackHTTPClient.send(
                method: "POST", url: url, headers: ["Content-Type": "application/json", "User-Agent": "provider-simulator"],
                body: body, timeout: timeout)
            return CallbackAttempt(url: url, jobID: jobID, copy: copy, body: body, status: response.status, error: nil)
        } catch {
            return CallbackAttempt(url: url, jobID: jobID, copy: copy, body: body, status: nil, error: error.description)
        }
    }
}
