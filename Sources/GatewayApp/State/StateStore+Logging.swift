import Logging
import Storage

extension StateStore {
    /// Waits until everything queued up to `ticket` (everything queued so far, without one) is
    /// durable; logs and answers false when the store fails.
    func awaitDurable(_ ticket: StoreTicket? = nil, logger: Logger) async -> Bool {
        do throws(StoreError) {
            try await waitUntilDurable(ticket ?? enqueue([]))
            return true
        } catch {
            logger.error("state store write failed", metadata: ["error": "\(error)"])
            return false
        }
    }
}
