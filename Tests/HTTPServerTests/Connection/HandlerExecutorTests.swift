import Dispatch
import Foundation
@testable import HTTPServer
import Synchronization
import Testing

/// `HTTPServer.Configuration.handlerExecutors`: handlers that suspend continue on an executor
/// of the application's, and their answers are written from its thread, while reading,
/// parsing and pipelining stay on the server's loops.
@Suite("Handler executors")
struct HandlerExecutorTests {
    /// A task executor of the test's own: one serial Dispatch queue, recognisable from inside.
    final class QueueExecutor: TaskExecutor, Sendable {
        let queue: DispatchQueue
        private static let key = DispatchSpecificKey<Int>()
        private let identity: Int
        let jobs = Atomic<Int>(0)

        init(_ identity: Int) {
            self.identity = identity
            queue = DispatchQueue(label: "test.handler-executor.\(identity)")
            queue.setSpecific(key: Self.key, value: identity)
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            jobs.wrappingAdd(1, ordering: .relaxed)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }

        /// The executor whose queue runs the caller, if any (0: none of these).
        static var current: Int { DispatchQueue.getSpecific(key: key) ?? 0 }
    }

    static func routes(_ router: inout Router) {
        // Answers at once: finishes on the loop, before any executor is involved.
        router.add("GET", "/now/{n}") { request in HTTPResponse(status: 200, body: "now \(request.pathParameters["n"] ?? "-") \(QueueExecutor.current)") }
        // Suspends on a continuation resumed from another thread later (as a client library's
        // future would): resumes on the connection's executor and answers from there. (Not
        // `Task.sleep`, whose wake-up may run the task on a global thread.)
        router.add("GET", "/later/{n}") { request in
            let n = Int(request.pathParameters["n"] ?? "0") ?? 0
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .microseconds((50 - n % 50) * 20)) { continuation.resume() }
            }
            return HTTPResponse(status: 200, body: "later \(n) \(QueueExecutor.current)")
        }
    }

    @Test func suspendedHandlersFinishOnTheirExecutorAndAnswersKeepTheirOrder() async throws {
        let executors = [QueueExecutor(1), QueueExecutor(2)]
        let test = try TestServer.start(configure: { $0.handlerExecutors = executors }, routes: Self.routes)
        defer { Task { await test.server.shutdown() } }
        let count = 600
        let texts = try await blocking {
            let client = try RawClient(port: test.port)
            try client.send((0..<count).map { $0 % 3 == 0 ? "GET /later/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /now/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            return try (0..<count).map { _ in try client.readResponse().text }
        }
        #expect(texts.count == count)
        var executorsSeen: Set<String> = []
        var resumedOnExecutor = 0
        for (index, text) in texts.enumerated() {
            let parts = text.split(separator: " ")
            #expect(parts.count == 3 && parts[1] == "\(index)", "answer \(index) was \(text)")
            if index % 3 == 0 {
                #expect(parts.first == "later")
                // Continued on the connection's executor — unless the continuation was resumed
                // before the handler got to suspend (a loaded machine), when it simply went on
                // where it was, on the loop.
                if parts.last != "0" {
                    resumedOnExecutor += 1
                    executorsSeen.insert(String(parts.last ?? ""))
                }
            } else {
                #expect(parts.first == "now")
                #expect(parts.last == "0", "an inline answer ran on an executor: \(text)")
            }
        }
        // One connection: one executor, the same for every handler of it; most waits really wait.
        #expect(executorsSeen.count == 1)
        #expect(resumedOnExecutor > count / 3 / 2)
    }

    @Test func manyConnectionsAnsweredFromExecutorThreadsWhileTheLoopsRead() async throws {
        let executors = [QueueExecutor(1), QueueExecutor(2), QueueExecutor(3)]
        let test = try TestServer.start(configure: { $0.handlerExecutors = executors }, routes: Self.routes)
        defer { Task { await test.server.shutdown() } }
        let connections = 24, perConnection = 60
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    try await blocking {
                        let client = try RawClient(port: test.port)
                        var texts: [String] = []
                        // Two at a time in flight: a pipelined request waits behind an answer
                        // that another thread is writing.
                        for pair in stride(from: 0, to: perConnection, by: 2) {
                            try client.send("GET /later/\(pair) HTTP/1.1\r\nHost: t\r\n\r\nGET /now/\(pair + 1) HTTP/1.1\r\nHost: t\r\n\r\n")
                            texts.append(try client.readResponse().text)
                            texts.append(try client.readResponse().text)
                        }
                        _ = connection
                        return texts
                    }
                }
            }
            var all: [[String]] = []
            for try await texts in group { all.append(texts) }
            return all
        }
        #expect(results.count == connections)
        for texts in results {
            #expect(texts.count == perConnection)
            for (index, text) in texts.enumerated() {
                #expect(text.hasPrefix(index % 2 == 0 ? "later \(index) " : "now \(index) "), "got \(text) at \(index)")
            }
        }
        #expect(executors.allSatisfy { $0.jobs.load(ordering: .relaxed) > 0 })
    }
}
