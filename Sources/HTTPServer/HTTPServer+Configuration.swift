extension HTTPServer {
    /// Everything the server can be told, each with the default of API.md §10.
    public struct Configuration: Sendable {
        /// Numeric host to bind (`0.0.0.0`, `127.0.0.1`, `::`, `::1`; `localhost` means `127.0.0.1`).
        public var host: String
        /// Port to bind; 0 picks a free port (read it back from `start()`).
        public var port: Int
        /// Parser limits: request line (414), headers (431), body (413).
        public var limits: HTTPParserLimits
        /// Time to receive a whole request head, from its first byte (408 after).
        public var headerTimeout: Duration
        /// Time a kept-alive connection may sit idle; also the most time between body bytes.
        public var idleTimeout: Duration
        /// Time to receive a whole request body, from the end of its head (408 after).
        public var bodyTimeout: Duration
        /// Most open connections; one more is answered 503 and closed.
        public var maxConnections: Int
        /// Time in-flight requests get to finish during a graceful shutdown.
        public var shutdownGrace: Duration
        /// Listen backlog.
        public var backlog: Int32
        /// Number of event loops (threads, shared by every server of the process); defaults to
        /// the number of cores.
        public var eventLoopCount: Int
        /// gzip for response bodies; off by default (an application turns it on).
        public var compression: ResponseCompression
        /// Speak TLS with this context on this listener (`nil`: plain HTTP).
        public var tls: TLSContext?

        /// A configuration with every default.
        public init(
            host: String = "0.0.0.0",
            port: Int = 8080,
            limits: HTTPParserLimits = HTTPParserLimits(),
            headerTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(60),
            bodyTimeout: Duration = .seconds(60),
            maxConnections: Int = 10_000,
            shutdownGrace: Duration = .seconds(25),
            backlog: Int32 = 4096,
            eventLoopCount: Int = System.coreCount,
            compression: ResponseCompression = ResponseCompression(gzip: false),
            tls: TLSContext? = nil
        ) {
            self.host = host
            self.port = port
            self.limits = limits
            self.headerTimeout = headerTimeout
            self.idleTimeout = idleTimeout
            self.bodyTimeout = bodyTimeout
            self.maxConnections = maxConnections
            self.shutdownGrace = shutdownGrace
            self.backlog = backlog
            self.eventLoopCount = eventLoopCount
            self.compression = compression
            self.tls = tls
        }
    }
}

/// Facts about the machine.
public enum System {
    /// The number of online cores (at least 1).
    public static var coreCount: Int {
        #if canImport(Glibc)
        return max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
