import GatewayCore
import Synchronization

/// The outbox in memory (`state.dir: ""`, and until the durable store lands).
public final class InMemoryOutbox: WebhookOutbox {
    private let records = Mutex<[String: WebhookDelivery]>([:])

    public init() {}

    public func insert(_ delivery: WebhookDelivery) -> Bool {
        records.withLock { records in
            guard records[delivery.id] == nil else { return false }
            records[delivery.id] = delivery
            return true
        }
    }

    public func update(_ delivery: WebhookDelivery) { records.withLock { $0[delivery.id] = delivery } }

    public func delivery(id: String) -> WebhookDelivery? { records.withLock { $0[id] } }

    public func deliveries(state: WebhookDelivery.State?) -> [WebhookDelivery] {
        records.withLock { records in
            records.values.filter { state == nil || $0.state == state }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }
}
