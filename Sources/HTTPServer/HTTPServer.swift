import Dispatch
import Synchronization

/// An HTTP/1.1 server on non-blocking POSIX sockets driven by epoll event loops: no thread per
/// connection, no blocking call on a shared queue. Requests go to one async handler.
///
/// ```swift
/// var router = Router()
/// router.add("GET", "/healthz") { _ in HTTPResponse(status: 200, body: "ok") }
/// let server = HTTPServer(configuration: .init(port: 0), handler: router.handler)
/// let address = try server.start()
/// …
/// await server.shutdown()
/// ```
public final class HTTPServer: Sendable {
    private let context: ServerContext
    private let loops: [EventLoop]
    private let acceptQueue = DispatchQueue(label: "http-server.accept", qos: .userInitiated)
    private let listener = Mutex<Listener?>(nil)
    private let nextLoop = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    /// The TLS context new connections take; `nil` for a plain listener.
    private let tlsContext: Mutex<TLSContext?>

    private struct Listener {
        var socket: Socket
        var source: any DispatchSourceRead
        var address: SocketAddress
    }

    /// The event loops a server with `eventLoopCount` = `count` serves its connections on, as
    /// task executors: for background work of the application (pollers, timers) that should run
    /// beside the connections on the same few threads instead of waking threads of Swift's
    /// global executor. A job must not block: it holds up every connection of its loop.
    public static func taskExecutors(count: Int) -> [any TaskExecutor] {
        EventLoop.shared(count: max(count, 1))
    }

    /// A server that answers with `handler` and renders its own errors (400, 408, 413, 414, 431,
    /// 503, …) with `renderError`.
    public init(configuration: Configuration, handler: @escaping HTTPHandler, renderError: @escaping HTTPErrorRenderer = plainTextErrorRenderer) {
        context = ServerContext(configuration: configuration, handler: handler, renderError: renderError)
        loops = EventLoop.shared(count: max(configuration.eventLoopCount, 1))
        tlsContext = Mutex(configuration.tls)
    }

    /// New connections use `context` from now on (a certificate reload); open ones keep theirs.
    /// Ignored on a plain listener.
    public func replaceTLSContext(_ context: TLSContext) {
        tlsContext.withLock { current in
            if current != nil { current = context }
        }
    }

    /// Binds, listens and starts accepting. Returns the bound address (with the real port when
    /// the configuration asked for port 0).
    @discardableResult
    public func start() throws(SocketError) -> SocketAddress {
        let configuration = context.configuration
        guard let address = SocketAddress(host: configuration.host, port: configuration.port) else {
            throw SocketError(call: "inet_pton", errno: 22)  // EINVAL: not a numeric address
        }
        let socket = try Socket.makeTCP(family: address.family)
        let bound: SocketAddress
        do throws(SocketError) {
            try socket.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            try socket.bind(address)
            try socket.listen(backlog: configuration.backlog)
            bound = try socket.localAddress()
        } catch {
            socket.close()
            throw error
        }
        listener.withLock { listener in
            let source = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: acceptQueue)
            source.setEventHandler { [self] in acceptPending(socket) }
            source.setCancelHandler { socket.close() }
            listener = Listener(socket: socket, source: source, address: bound)
            source.resume()
        }
        return bound
    }

    /// The bound address, once started.
    public var localAddress: SocketAddress? { listener.withLock { $0?.address } }

    /// The number of open connections.
    public var openConnectionCount: Int { context.openConnectionCount }

    /// Accepts what is pending, a bounded number per event so one burst cannot hog the accept
    /// queue (a Dispatch source: accepting is rare next to reading), and hands each connection to
    /// an event loop in turn.
    private func acceptPending(_ listening: Socket) {
        for _ in 0..<256 {
            let accepted: (Socket, SocketAddress?)?
            do throws(SocketError) {
                accepted = try listening.accept()
            } catch {
                // EMFILE/ENFILE and the like: leave the connection in the backlog and try later.
                return
            }
            guard let (socket, peer) = accepted else { return }
            if draining.load(ordering: .sequentiallyConsistent) {
                socket.close()
                continue
            }
            // An answer goes out whole as soon as it is written: without this, the last partial
            // segment of a large answer (TLS writes one record at a time) waits for the client's
            // delayed ACK (Nagle's algorithm), tens of milliseconds.
            try? socket.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
            let loop = loops[nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
            var session: TLSSession?
            if let tls = tlsContext.withLock({ $0 }) {
                session = tls.makeSession(fd: socket.fd)
                guard session != nil else { socket.close(); continue }
            }
            let connection = Connection(socket: socket, remoteAddress: peer?.description, loop: loop, context: context, tls: session)
            guard context.register(connection) else {
                // A TLS client cannot read a plain answer: it is just closed.
                if session == nil { refuseOverloaded(socket) } else { socket.close() }
                continue
            }
            loop.execute { connection.start() }
            // A shutdown that began while this connection was being accepted may have taken its
            // snapshot of open connections before the registration: tell this one too.
            if draining.load(ordering: .sequentiallyConsistent) { connection.beginShutdown() }
        }
    }

    /// Over `maxConnections`: a best-effort 503 and close (API.md §10).
    private func refuseOverloaded(_ socket: Socket) {
        let response = context.renderError(.overloaded)
        let bytes = HTTPResponseEncoder.encode(response, keepAlive: false, requestVersion: .http1_1, isHead: false)
        _ = bytes.withUnsafeBytes { socket.send($0) }
        socket.shutdownWrite()
        socket.close()
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish within the grace
    /// period, closes idle connections, closes what is left when the grace period ends, and
    /// returns when every connection is closed.
    public func shutdown() async {
        draining.store(true, ordering: .sequentiallyConsistent)
        listener.withLock { $0?.source.cancel() }
        for connection in context.openConnections { connection.beginShutdown() }
        let deadline = ContinuousClock.now + context.configuration.shutdownGrace
        while context.openConnectionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for connection in context.openConnections { connection.forceClose() }
        while context.openConnectionCount > 0 {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
