import GatewayCore
import Webhooks

/// The one terminal event of a job (API.md §5).
enum WebhookEvent {
    /// `{"type": "generation.<status>", "timestamp": "<RFC 3339>", "data": <job object>}`, with the
    /// `webhook-id` `msg_<job id>` so that every retry (and any redelivery) carries the same id.
    static func delivery(for job: Job, url: String, secret: Secret, at now: Timestamp) -> WebhookDelivery {
        let type = "generation.\(job.status.rawValue)"
        // A job created through the Krea paths gets the Krea-shaped job, as Krea itself sends it
        // (API.md §7); every other job the gateway's event.
        let body = job.frontDoor == .krea
            ? KreaRoutes.job(job)
            : "{\"type\":\"\(type)\",\"timestamp\":\"\(now.rfc3339)\",\"data\":\(job.jsonObject)}"
        return WebhookDelivery(id: "msg_" + job.id, jobID: job.id, url: url, type: type, body: Array(body.utf8), secret: secret, createdAt: now)
    }
}
