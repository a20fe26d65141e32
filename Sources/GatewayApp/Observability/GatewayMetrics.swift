import CoreMetrics
import GatewayCore
import Prometheus
import Synchronization

/// The gateway's metrics (CONFIG.md `metrics`, API.md §8): counters and histograms recorded as
/// things happen through swift-metrics, gauges computed from the working set when `/metrics` is
/// scraped, all kept in this application's own Prometheus registry (no process-global state,
/// so several gateways in one process — tests — do not mix).
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    private let gauges = Mutex<[String: CoreMetrics.Gauge]>([:])

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
            .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
    }

    // MARK: Recorded as it happens

    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// The handles of each (route, method, status), found with one hash of a small key per
    /// request (this runs on every request, `/healthz` included).
    private let requestHandles = Mutex<[RequestKey: CountAndTime]>([:])

    /// A counter and a histogram recorded together.
    private typealias CountAndTime = (count: CoreMetrics.Counter, time: CoreMetrics.Timer)

    /// One answered request: by route pattern (never the raw path), method and status.
    func request(route: String, method: String, status: Int, duration: Duration) {
        let handles = Self.found(in: requestHandles, RequestKey(route: route, method: method, status: status)) {
            (counter("gateway_http_requests_total", [("route", route), ("method", method), ("status", String(status))]),
             timer("gateway_http_request_duration_seconds", [("route", route), ("method", method)]))
        }
        handles.count.increment()
        handles.time.recordNanoseconds(duration.nanoseconds)
    }

    /// The handles under `key`, made (outside the lock) and kept the first time.
    private static func found<Key: Hashable & Sendable>(in cache: borrowing Mutex<[Key: CountAndTime]>, _ key: Key, make: () -> CountAndTime) -> CountAndTime {
        if let found = cache.withLock({ $0[key] }) { return found }
        let made = make()
        cache.withLock { $0[key] = made }
        return made
    }

    /// One call to a provider: `outcome` is `ok` or the failure kind.
    func upstreamCall(provider: String, operation: String, outcome: String, duration: Duration) {
        let handles = Self.found(in: upstreamHandles, UpstreamKey(provider: provider, operation: operation, outcome: outcome)) {
            (counter("gateway_upstream_requests_total", [("provider", provider), ("operation", operation), ("outcome", outcome)]),
             timer("gateway_upstream_request_duration_seconds", [("provider", provider), ("operation", operation)]))
        }
        handles.count.increment()
        handles.time.recordNanoseconds(duration.nanoseconds)
    }

    private struct UpstreamKey: Hashable {
        var provider: String
        var operation: String
        var outcome: String
    }

    /// The handles of each (provider, operation, outcome), found like ``requestHandles`` (every
    /// submission makes at least two provider calls).
    private let upstreamHandles = Mutex<[UpstreamKey: CountAndTime]>([:])

    /// One webhook attempt: `delivered`, `retrying` (will be tried again) or `failed` (given up).
    func webhookAttempt(outcome: String) {
        counter("gateway_webhook_attempts_total", [("outcome", outcome)]).increment()
    }

    // MARK: Computed when scraped

    /// Sets a gauge to a value (at scrape time).
    func set(_ name: String, _ labels: [(String, String)], _ value: Double) {
        gauge(name, labels).record(value)
    }

    /// The Prometheus text exposition of everything.
    func exposition() -> String { registry.emitToString() }

    // MARK: Handles, created once per label set

    private func counter(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Counter {
        Self.cached(counters, name, labels) { CoreMetrics.Counter(label: $0, dimensions: $1, factory: factory) }
    }

    private func timer(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Timer {
        Self.cached(timers, name, labels) { CoreMetrics.Timer(label: $0, dimensions: $1, factory: factory) }
    }

    private func gauge(_ name: String, _ labels: [(String, String)]) -> CoreMetrics.Gauge {
        Self.cached(gauges, name, labels) { CoreMetrics.Gauge(label: $0, dimensions: $1, factory: factory) }
    }

    /// The handle for a name and label set, made once.
    private static func cached<Metric>(
        _ cache: borrowing Mutex<[String: Metric]>, _ name: String, _ labels: [(String, String)],
        make: (String, [(String, String)]) -> Metric
    ) -> Metric {
        let key = labels.reduce(name) { $0 + "\u{0}" + $1.0 + "=" + $1.1 }
        return cache.withLock { cache in
            if let found = cache[key] { return found }
            let made = make(name, labels)
            cache[key] = made
            return made
        }
    }
}
