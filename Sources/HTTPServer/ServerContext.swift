import Synchronization

/// What every connection of one server shares: the handler, the error renderer, the
/// configuration, and the registry of open connections (for `max_connections` and shutdown).
final class ServerContext: Sendable {
    let configuration: HTTPServer.Configuration
    let machineConfiguration: ConnectionStateMachine<MonotonicClock>.Configuration
    let handler: HTTPHandler
    let renderError: HTTPErrorRenderer
    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])

    init(configuration: HTTPServer.Configuration, handler: @escaping HTTPHandler, renderError: @escaping HTTPErrorRenderer) {
        self.configuration = configuration
        self.handler = handler
        self.renderError = renderError
        let limits = configuration.limits
        machineConfiguration = .init(
            headerTimeout: configuration.headerTimeout,
            idleTimeout: configuration.idleTimeout,
            maxBufferedBytes: limits.maxRequestLineBytes + limits.maxHeaderBytes + limits.maxBodyBytes,
            compression: configuration.compression,
            bodyTimeout: configuration.bodyTimeout)
    }

    /// Registers a connection unless the server is full; returns whether it was registered.
    func register(_ connection: Connection) -> Bool {
        connections.withLock { open in
            guard open.count < configuration.maxConnections else { return false }
            open[ObjectIdentifier(connection)] = connection
            return true
        }
    }

    func connectionClosed(_ connection: Connection) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    var openConnections: [Connection] { connections.withLock { Array($0.values) } }
    var openConnectionCount: Int { connections.withLock { $0.count } }
}
