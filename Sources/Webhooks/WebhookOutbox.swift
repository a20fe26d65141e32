import GatewayCore

/// Where deliveries are kept. In memory today; the durable store implements the same seam so that
/// pending deliveries survive a restart (API.md §5).
public protocol WebhookOutbox: Sendable {
    /// Adds a delivery; returns false if one with this id exists (one event per job).
    func insert(_ delivery: WebhookDelivery) -> Bool
    /// Replaces a delivery's record.
    func update(_ delivery: WebhookDelivery)
    func delivery(id: String) -> WebhookDelivery?
    /// Deliveries in a state (all when nil), oldest first.
    func deliveries(state: WebhookDelivery.State?) -> [WebhookDelivery]
}
