import Synchronization

/// An append-only log that keeps the newest `capacity` entries, safe to share between threads.
final class BoundedLog<Entry: Sendable>: Sendable {
    private struct State {
        var entries: [Entry] = []
        /// Index of the oldest retained entry; the prefix before it is dropped lazily.
        var start = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(capacity, 1) }

    func append(_ entry: Entry) {
        state.withLock { state in
            state.entries.append(entry)
            if state.entries.count - state.start > capacity { state.start += 1 }
            // Compact once the dropped prefix is as large as what is kept: amortized O(1).
            if state.start >= capacity { state.entries.removeFirst(state.start); state.start = 0 }
        }
    }

    /// The retained entries, oldest first.
    func snapshot() -> [Entry] { state.withLock { Array($0.entries[$0.start...]) } }

    func removeAll() { state.withLock { $0 = State() } }
}
