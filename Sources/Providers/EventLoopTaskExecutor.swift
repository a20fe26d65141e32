import AsyncHTTPClient
import NIOCore

/// A task executor that runs its jobs on one NIO event loop — one of the shared `HTTPClient`'s.
///
/// A task that prefers it (the gateway's request handlers and job pollers do) has its provider
/// calls answered on the same loop (``HTTPTransport`` asks AsyncHTTPClient for `.delegate(on:)`
/// that loop, and its pool prefers an idle connection there), so when the provider's answer
/// arrives the task continues on the thread that read it: no wake-up of another thread between
/// the answer and the code that acts on it. Enqueueing from the loop itself only appends to the
/// loop's task queue. The client's event loop group must outlive every task that prefers one
/// of these executors (``ProviderRegistry/eventLoopGroup`` lives as long as the process).
///
/// Sleeping tasks still use `Task.sleep` (the global executor's timers): a NIO scheduled task
/// per sleeping poller was measured to make every cancellation of one of AsyncHTTPClient's own
/// timers search a heap of thousands of entries.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    /// The loop jobs run on.
    public let eventLoop: any EventLoop
    private let group: ObjectIdentifier

    private init(eventLoop: any EventLoop, group: any EventLoopGroup) {
        self.eventLoop = eventLoop
        self.group = ObjectIdentifier(group)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// One executor per event loop of `client`'s group.
    public static func executors(for client: HTTPClient) -> [EventLoopTaskExecutor] {
        let group = client.eventLoopGroup
        return group.makeIterator().map { EventLoopTaskExecutor(eventLoop: $0, group: group) }
    }

    /// The loop of the current task's preferred executor, when that is one of `client`'s.
    static func preferredLoop(of client: HTTPClient) -> (any EventLoop)? {
        let preferred = withUnsafeCurrentTask { task in
            task?.unownedTaskExecutor?.asTaskExecutor() as? EventLoopTaskExecutor
        }
        guard let preferred, preferred.group == ObjectIdentifier(client.eventLoopGroup) else { return nil }
        return preferred.eventLoop
    }
}
