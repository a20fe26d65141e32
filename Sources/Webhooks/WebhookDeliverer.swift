import AsyncHTTPClient
import GatewayCore
import NIOCore
import NIOHTTP1
import Synchronization

/// Delivers webhook events (API.md §5): signs each attempt, re-checks the URL policy against the
/// address it connects to (pinned for the connection; redirects are not followed), retries on
/// the configured schedule with ±10 % jitter until a 2xx, stops on 410, and bounds concurrency
/// globally and per destination host so one slow receiver cannot starve the others.
public final class WebhookDeliverer: Sendable {
    /// How deliveries are made.
    public struct Configuration: Sendable {
        /// `webhooks.timeout_s`: one attempt, connect to last byte.
        public var timeout: Duration
        /// `webhooks.retry_schedule_s`: the wait before the 2nd, 3rd, … attempt.
        public var retrySchedule: [Duration]
        public var policy: URLPolicy
        /// Attempts in flight at once, across all destinations.
        public var maxConcurrent: Int
        /// Attempts in flight at once to one host.
        public var maxConcurrentPerHost: Int
        /// Time allowed to resolve a host name.
        public var resolveTimeout: Duration

        public init(timeout: Duration, retrySchedule: [Duration], policy: URLPolicy, maxConcurrent: Int = 64,
                    maxConcurrentPerHost: Int = 4, resolveTimeout: Duration = .seconds(5)) {
            self.timeout = timeout
            self.retrySchedule = retrySchedule
            self.policy = policy
            self.maxConcurrent = maxConcurrent
            self.maxConcurrentPerHost = maxConcurrentPerHost
            self.resolveTimeout = resolveTimeout
        }
    }

    /// Called after every attempt (for logs and metrics).
    public typealias Observer = @Sendable (WebhookDelivery, WebhookDelivery.Attempt) -> Void

    private let configuration: Configuration
    private let outbox: any WebhookOutbox
    private let client: HTTPClient
    private let global: AsyncSemaphore
    private let hosts = Mutex<[String: AsyncSemaphore]>([:])
    private let pinnedClients = Mutex<[String: HTTPClient]>([:])
    private let scheduled = Mutex<[String: Task<Void, Never>]>([:])
    private let observer: Observer?

    public init(configuration: Configuration, outbox: any WebhookOutbox, observer: Observer? = nil) {
        self.configuration = configuration
        self.outbox = outbox
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.clientConfiguration(dnsOverride: [:]))
        self.global = AsyncSemaphore(permits: configuration.maxConcurrent)
        self.observer = observer
    }

    static func clientConfiguration(dnsOverride: [String: String]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = dnsOverride
        // No span per delivery: the gateway bootstraps no tracer (see ProviderRegistry).
        configuration.tracing.tracer = nil
        return configuration
    }

    /// Records a new event and sends it. A second event for the same job is ignored.
    public func enqueue(_ delivery: WebhookDelivery) {
        guard outbox.insert(delivery) else { return }
        schedule(delivery.id, after: .zero)
    }

    /// Sends a delivery its caller already put in the outbox (together with other changes).
    public func deliver(storedID id: String) { schedule(id, after: .zero, unlessScheduled: true) }

    /// Schedules every pending delivery (start-up recovery).
    public func resumePending() {
        let now = Timestamp.now()
        for delivery in outbox.deliveries(state: .pending) {
            let wait = max(.zero, Duration.milliseconds((delivery.nextAttemptAt ?? now).unixMilliseconds - now.unixMilliseconds))
            schedule(delivery.id, after: wait, unlessScheduled: true)
        }
    }

    /// Sends a delivery again now (operator redelivery); `nil` for an unknown id.
    public func retry(id: String) -> WebhookDelivery? {
        guard var delivery = outbox.delivery(id: id) else { return nil }
        delivery.state = .pending
        delivery.nextAttemptAt = .now()
        outbox.update(delivery)
        schedule(id, after: .zero)
        return delivery
    }

    public func deliveries(state: WebhookDelivery.State?) -> [WebhookDelivery] { outbox.deliveries(state: state) }

    /// Stops scheduling (pending deliveries stay in the outbox) and closes connections.
    public func shutdown() async {
        let tasks = scheduled.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in tasks { task.cancel() }
        let clients = pinnedClients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in clients { try? await client.shutdown() }
        try? await client.shutdown()
    }

    /// Schedules the next attempt of a delivery, replacing any scheduled one; with
    /// `unlessScheduled`, a delivery that already has an attempt scheduled is left alone (so
    /// recovery and the terminal transition never send the same event twice at once).
    private func schedule(_ id: String, after wait: Duration, unlessScheduled: Bool = false) {
        scheduled.withLock { scheduled in
            if unlessScheduled, scheduled[id] != nil { return }
            scheduled[id] = Task { [self] in
                if wait > .zero {
                    do { try await Task.sleep(for: wait) } catch { return }
                }
                await attempt(id)
            }
        }
    }

    // MARK: One attempt

    private func attempt(_ id: String) async {
        guard var delivery = outbox.delivery(id: id), delivery.state == .pending else { return }
        let started = ContinuousClock.now
        let at = Timestamp.now()
        let outcome = await send(delivery, at: at)
        let elapsed = ContinuousClock.now - started
        let attempt = WebhookDelivery.Attempt(
            at: at, status: outcome.status, error: outcome.error,
            latencyMilliseconds: Int(elapsed.milliseconds))
        delivery.attempts.append(attempt)
        switch outcome.verdict {
        case .delivered:
            delivery.state = .delivered
            delivery.nextAttemptAt = nil
        case .stop:
            delivery.state = .failed
            delivery.nextAttemptAt = nil
        case .retry:
            let index = delivery.attempts.count - 1
            if index < configuration.retrySchedule.count {
                // ±10 % jitter so that retries of many events do not arrive in step.
                let wait = configuration.retrySchedule[index] * Double.random(in: 0.9...1.1)
                delivery.nextAttemptAt = Timestamp.now().adding(wait)
                outbox.update(delivery)
                observer?(delivery, attempt)
                schedule(id, after: wait)
                return
            }
            delivery.state = .failed
            delivery.nextAttemptAt = nil
        }
        outbox.update(delivery)
        scheduled.withLock { _ = $0.removeValue(forKey: id) }
        observer?(delivery, attempt)
    }

    private enum Verdict { case delivered, retry, stop }

    private func send(_ delivery: WebhookDelivery, at: Timestamp) async -> (verdict: Verdict, status: Int?, error: String?) {
        let target: WebhookTarget
        switch configuration.policy.check(delivery.url) {
        case .failure: return (.stop, nil, "refused_url")
        case .success(let checked): target = checked
        }
        // The address connected to is the one checked (a name is resolved here and pinned).
        var client = self.client
        if target.literalAddress == nil {
            let addresses = target.host == "localhost" || target.host.hasSuffix(".localhost")
                ? [IPAddress.v4(0x7F00_0001)] : await HostResolver.resolve(target.host, timeout: configuration.resolveTimeout)
            guard let address = addresses.first else { return (.retry, nil, "dns_failure") }
            guard addresses.allSatisfy({ configuration.policy.permits($0, host: target.host) }) else {
                return (.stop, nil, "refused_address")
            }
            client = pinnedClient(host: target.host, address: address)
        }
        // Bounded per destination (host and port): a slow receiver holds at most this many permits.
        let destination = "\(target.host):\(target.port)"
        let hostPermits = hosts.withLock { hosts in
            if let existing = hosts[destination] { return existing }
            let created = AsyncSemaphore(permits: configuration.maxConcurrentPerHost)
            hosts[destination] = created
            return created
        }
        await hostPermits.acquire()
        defer { hostPermits.release() }
        await global.acquire()
        defer { global.release() }

        guard let signer = try? WebhookSigner(secret: delivery.secret.value) else { return (.stop, nil, "invalid_secret") }
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "krea-gateway/\(GatewayVersion.current)")
        for header in signer.headers(id: delivery.id, timestamp: at.unixSeconds, body: delivery.body) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(configuration.timeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return (.delivered, status, nil) }
            if status == 410 { return (.stop, status, nil) }
            return (.retry, status, nil)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return (.retry, nil, "timeout")
        } catch {
            return (.retry, nil, "connection_failed")
        }
    }

    /// A client whose resolution of `host` is pinned to the checked address (TLS still verifies
    /// the host name).
    private func pinnedClient(host: String, address: IPAddress) -> HTTPClient {
        let key = "\(host)=\(address)"
        return pinnedClients.withLock { clients in
            if let existing = clients[key] { return existing }
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.clientConfiguration(dnsOverride: [host: address.description]))
            clients[key] = created
            return created
        }
    }
}
