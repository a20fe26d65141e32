import Synchronization

/// Jobs by id, forgetting the oldest beyond a capacity, so a soak run of a million submissions
/// holds a bounded working set. Every operation is one short critical section.
final class JobStore<Job: Sendable>: Sendable {
    private struct State {
        var jobs: [String: Job] = [:]
        /// Ids in creation order; the prefix before `head` is already forgotten.
        var order: [String] = []
        var head = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    /// Stores a new job; false (and nothing stored) when the id is taken.
    func insert(_ job: Job, id: String) -> Bool {
        state.withLock { state in
            guard state.jobs[id] == nil else { return false }
            state.jobs[id] = job
            state.order.append(id)
            while state.jobs.count > capacity, state.head < state.order.count {
                state.jobs[state.order[state.head]] = nil
                state.head += 1
            }
            if state.head >= 1024, state.head * 2 >= state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            return true
        }
    }

    func get(_ id: String) -> Job? { state.withLock { $0.jobs[id] } }

    /// Runs `body` on the stored job in place; nil when the id is unknown.
    func update<Result>(_ id: String, _ body: (inout Job) -> Result) -> Result? {
        state.withLock { state in
            guard var job = state.jobs[id] else { return nil }
            let result = body(&job)
            state.jobs[id] = job
            return result
        }
    }

    var count: Int { state.withLock { $0.jobs.count } }
}
