import GatewayCore
import Storage
import Webhooks

/// What happens once when a job ends, exactly once per job (the job registry makes one terminal
/// transition however many callbacks and polls race): a completed job's hold becomes spend in the
/// window it was reserved in, a failed or cancelled one's is released; the key's running count
/// drops; and a job with a webhook gets its one event. The terminal job, its ledger lines and its
/// event are queued to the durable store as one transaction, and the event's first attempt waits
/// until that transaction is durable (side effects follow the durable write).
final class Settlement: Sendable {
    private let keys: KeyRing
    private let ledger: Ledger
    private let rateLimiter: RateLimiter
    private let outbox: JournaledOutbox
    private let stateStore: any StateStore
    private let defaultWebhookSecret: Secret?
    private let clock: any GatewayClock
    private let startDelivery: @Sendable (_ deliveryID: String) -> Void

    /// `startDelivery` hands a stored delivery to the deliverer.
    init(keys: KeyRing, ledger: Ledger, rateLimiter: RateLimiter, outbox: JournaledOutbox, stateStore: any StateStore,
         defaultWebhookSecret: Secret?, clock: any GatewayClock, startDelivery: @escaping @Sendable (_ deliveryID: String) -> Void) {
        self.keys = keys
        self.ledger = ledger
        self.rateLimiter = rateLimiter
        self.outbox = outbox
        self.stateStore = stateStore
        self.defaultWebhookSecret = defaultWebhookSecret
        self.clock = clock
        self.startDelivery = startDelivery
    }

    /// Settles a job that has just become terminal.
    func settle(_ job: Job) {
        let now = clock.now()
        let outcome: Ledger.Settlement = job.billingStatus == .charged ? .charge : .release
        let delivery = event(for: job, at: now)
        var stored: StoreTicket?
        func record(_ changes: [StateChange]) {
            guard let delivery else { _ = stateStore.enqueue(changes); return }
            let (inserted, ticket) = outbox.insert(delivery, together: changes)
            if inserted { stored = ticket }
        }
        let settled = ledger.settle(jobID: job.id, outcome) { reservation in
            record([.job(job)] + reservation.entries(outcome == .charge ? .charge : .release, jobID: job.id, at: now).map(StateChange.ledger))
        }
        if settled == nil { record([.job(job)]) }
        rateLimiter.finished(keyID: job.ownerKeyID)
        guard let delivery, let stored else { return }
        // The first attempt waits for the transaction that holds the outcome and the event: sent
        // earlier, a crash could make the job end again after the restart and send a second,
        // different event under the same webhook-id. A failed write sends nothing now; the
        // delivery is pending in memory and on disk with whatever the store kept.
        let store = stateStore, start = startDelivery
        Task {
            do throws(StoreError) {
                try await store.waitUntilDurable(stored)
            } catch {
                return
            }
            start(delivery.id)
        }
    }

    /// The job's one terminal event, when it has a webhook and a secret to sign it with (the
    /// key's own, or `webhooks.secret`).
    func event(for job: Job, at now: Timestamp) -> WebhookDelivery? {
        guard let url = job.webhookURL, let secret = keys.key(id: job.ownerKeyID)?.webhookSecret ?? defaultWebhookSecret else { return nil }
        return WebhookEvent.delivery(for: job, url: url, secret: secret, at: now)
    }
}
