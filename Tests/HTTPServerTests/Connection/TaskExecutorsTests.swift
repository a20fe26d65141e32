import Testing
@testable import HTTPServer

@Suite("HTTPServer.taskExecutors")
struct TaskExecutorsTests {
    /// A task that prefers one of the server's loops starts on that loop's thread and comes back
    /// to it after every suspension (a sleep resumes from a timer thread, a yield from the loop).
    @Test func tasks_RunOnTheLoopTheyPreferBeforeAndAfterSuspensions() async throws {
        let executors = HTTPServer.taskExecutors(count: 2)
        #expect(executors.count == 2)
        for executor in executors {
            let loop = try #require(executor as? EventLoop)
            let onLoop = await Task.detached(executorPreference: executor) { () -> [Bool] in
                var seen = [loop.inLoop]
                try? await Task.sleep(for: .milliseconds(5))
                seen.append(loop.inLoop)
                await Task.yield()
                seen.append(loop.inLoop)
                return seen
            }.value
            #expect(onLoop == [true, true, true])
        }
    }

    /// They are the loops a server with that many loops uses, not new ones.
    @Test func executors_AreTheSharedLoops() throws {
        let first = try #require(HTTPServer.taskExecutors(count: 1).first as? EventLoop)
        let again = try #require(HTTPServer.taskExecutors(count: 3).first as? EventLoop)
        #expect(first === again)
        #expect(HTTPServer.taskExecutors(count: 0).count == 1)
    }
}
