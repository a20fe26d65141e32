import GatewayCore
import Storage
import Webhooks

/// The webhook outbox: deliveries in memory for the deliverer, every change also queued to the
/// durable store, so pending deliveries survive a restart with the same `webhook-id`.
final class JournaledOutbox: WebhookOutbox {
    private let memory = InMemoryOutbox()
    private let stateStore: any StateStore

    init(stateStore: any StateStore) { self.stateStore = stateStore }

    func insert(_ delivery: WebhookDelivery) -> Bool { insert(delivery, together: []).inserted }

    /// Adds a delivery and queues it in the same transaction as `changes` (a job's terminal state
    /// and its settlement): the event exists on disk exactly when the outcome does. `changes` are
    /// queued even when the delivery already exists. Returns whether it was new, and the ticket
    /// of the transaction to wait for before the first attempt.
    @discardableResult
    func insert(_ delivery: WebhookDelivery, together changes: [StateChange]) -> (inserted: Bool, ticket: StoreTicket) {
        let inserted = memory.insert(delivery)
        let ticket = stateStore.enqueue(inserted ? changes + [.delivery(delivery)] : changes)
        return (inserted, ticket)
    }

    func update(_ delivery: WebhookDelivery) {
        memory.update(delivery)
        _ = stateStore.enqueue([.delivery(delivery)])
    }

    func delivery(id: String) -> WebhookDelivery? { memory.delivery(id: id) }

    func deliveries(state: WebhookDelivery.State?) -> [WebhookDelivery] { memory.deliveries(state: state) }

    /// Puts back deliveries read from the store (start-up); nothing is written.
    func restore(_ deliveries: [WebhookDelivery]) {
        for delivery in deliveries { _ = memory.insert(delivery) }
    }
}
