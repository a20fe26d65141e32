import Dispatch

/// A serial Dispatch queue that owns a share of the connections and is also the task executor
/// their handlers prefer, so a handler that does not hop elsewhere runs on the same thread as
/// its connection's I/O and its answer needs no extra thread switch.
final class EventLoop: TaskExecutor, Sendable {
    /// The queue every I/O source of this loop's connections fires on.
    let queue: DispatchQueue
    private let identity: Int
    private static let key = DispatchSpecificKey<Int>()

    init(index: Int) {
        queue = DispatchQueue(label: "http-server.loop.\(index)", qos: .userInitiated)
        identity = index + 1
        queue.setSpecific(key: Self.key, value: identity)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Whether the caller runs on this loop's queue.
    var inLoop: Bool { DispatchQueue.getSpecific(key: Self.key) == identity }

    /// Runs `body` on the loop: at once when already there, else asynchronously.
    func execute(_ body: @escaping @Sendable () -> Void) {
        if inLoop { body() } else { queue.async(execute: body) }
    }
}
