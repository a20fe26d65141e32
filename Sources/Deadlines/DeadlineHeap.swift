/// A binary min-heap of payloads by deadline, ties in insertion order: the HTTP event loops' timers,
/// and any other "wake me at" list (the gateway's first-poll schedule and `Prefer: wait`
/// deadlines).
public struct DeadlineHeap<Deadline: Comparable, Payload> {
    private var entries: [(deadline: Deadline, sequence: UInt64, payload: Payload)] = []
    private var sequence: UInt64 = 0

    public init() {}

    /// The earliest deadline, if any.
    public var earliest: Deadline? { entries.first?.deadline }
    public var count: Int { entries.count }

    public mutating func insert(deadline: Deadline, _ payload: Payload) {
        sequence &+= 1
        entries.append((deadline, sequence, payload))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// The payload with the earliest deadline when that deadline is at or before `now`, removed.
    public mutating func popDue(now: Deadline) -> Payload? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(from: 0)
        }
        return first.payload
    }

    /// Removes every entry whose payload matches, keeping the order of the rest (O(n)).
    public mutating func removeAll(where shouldRemove: (Payload) -> Bool) {
        entries.removeAll { shouldRemove($0.payload) }
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, precedes(left, smallest) { smallest = left }
            if right < entries.count, precedes(right, smallest) { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        entries[a].deadline != entries[b].deadline ? entries[a].deadline < entries[b].deadline : entries[a].sequence < entries[b].sequence
    }
}

extension DeadlineHeap: Sendable where Deadline: Sendable, Payload: Sendable {}
