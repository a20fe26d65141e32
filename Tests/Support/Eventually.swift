/// Lets other tasks run until `condition` holds, for at most `limit` of real time: after a manual
/// clock moves, the tasks it woke still need a turn on the thread pool before their effects show.
public func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
}
