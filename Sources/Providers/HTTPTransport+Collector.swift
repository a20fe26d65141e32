import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

extension HTTPTransport {
    /// An AsyncHTTPClient delegate that records whether the request head went out, keeps the
    /// response head, and accumulates the body up to a cap.
    ///
    /// AsyncHTTPClient calls a delegate on the task's event loop, one call at a time; the state is
    /// still behind a `Mutex` so the class is `Sendable` without `@unchecked`, and so the caller
    /// can read ``progress`` after the task failed.
    final class ResponseCollector: HTTPClientResponseDelegate {
        typealias Response = UpstreamResponse

        /// The body went over the cap.
        struct BodyTooLarge: Error {}

        /// What happened so far.
        struct Progress: Sendable {
            /// The request head has been written to the connection.
            var requestSent = false
            /// The response status, once the head arrived.
            var status: Int?
            /// The response headers, once the head arrived.
            var headers: [(name: String, value: String)] = []
            /// The body bytes kept (at most the cap).
            var body: [UInt8] = []
        }

        private let state = Mutex(Progress())
        private let maxBodyBytes: Int

        init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

        /// A copy of the state.
        var progress: Progress { state.withLock { $0 } }

        func didSendRequestHead(task: HTTPClient.Task<UpstreamResponse>, _ head: HTTPRequestHead) {
            state.withLock { $0.requestSent = true }
        }

        func didReceiveHead(task: HTTPClient.Task<UpstreamResponse>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            state.withLock { progress in
                progress.requestSent = true
                progress.status = Int(head.status.code)
                progress.headers = head.headers.map { (name: $0.name, value: $0.value) }
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<UpstreamResponse>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            let fits = state.withLock { progress in
                let room = maxBodyBytes - progress.body.count
                guard buffer.readableBytes <= room else {
                    // Keep what fits, so a large error page can still be classified by status.
                    progress.body.append(contentsOf: buffer.readableBytesView.prefix(room))
                    return false
                }
                progress.body.append(contentsOf: buffer.readableBytesView)
                return true
            }
            return fits ? task.eventLoop.makeSucceededVoidFuture() : task.eventLoop.makeFailedFuture(BodyTooLarge())
        }

        func didFinishRequest(task: HTTPClient.Task<UpstreamResponse>) throws -> UpstreamResponse {
            let progress = self.progress
            guard let status = progress.status else { throw HTTPClientError.remoteConnectionClosed }
            return UpstreamResponse(status: status, headers: progress.headers, body: progress.body)
        }
    }
}
