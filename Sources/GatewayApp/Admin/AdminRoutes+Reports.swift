import GatewayCore
import Logging
import Storage
import HTTPServer

extension AdminRoutes {
    /// `GET /admin/spend?group_by=key|team|model|provider&from=YYYY-MM-DD&to=YYYY-MM-DD`: jobs
    /// created in the UTC date range (inclusive; both optional), grouped. `spent_usd` sums charged
    /// jobs and `reserved_usd` jobs still held, so the totals equal the ledger's.
    func spend(_ request: HTTPRequest) -> HTTPResponse {
        let query = request.queryParameters
        let groupBy = query["group_by"] ?? "key"
        guard ["key", "team", "model", "provider"].contains(groupBy) else {
            return .error(.parameter(.invalid, "group_by", "group_by must be one of key, team, model, provider"))
        }
        var fromDay: Int64?, toDay: Int64?
        if let text = query["from"], !text.isEmpty {
            guard let day = Self.parseDate(text) else { return .error(.parameter(.invalid, "from", "from must be a date YYYY-MM-DD")) }
            fromDay = JobTally.Group.day(of: day)
        }
        if let text = query["to"], !text.isEmpty {
            guard let day = Self.parseDate(text) else { return .error(.parameter(.invalid, "to", "to must be a date YYYY-MM-DD")) }
            toDay = JobTally.Group.day(of: day)
        }
        if let fromDay, let toDay, fromDay > toDay { return .error(.parameter(.invalid, "from", "from is after to")) }

        // From the tally over every job admitted, so old jobs count after they left memory.
        struct Row { var requests = 0, completed = 0, failed = 0, cancelled = 0; var spent = Money.zero, reserved = Money.zero }
        var rows: [String?: Row] = [:]
        for (tallied, figures) in jobs.tally.groups {
            if let fromDay, tallied.day < fromDay { continue }
            if let toDay, tallied.day > toDay { continue }
            let group: String?
            switch groupBy {
            case "team": group = tallied.team
            case "model": group = tallied.model
            case "provider": group = tallied.provider
            default: group = tallied.ownerKeyID
            }
            var row = rows[group] ?? Row()
            row.requests += figures.count
            switch tallied.status {
            case .completed: row.completed += figures.count
            case .failed: row.failed += figures.count
            case .cancelled: row.cancelled += figures.count
            case .queued, .running: break
            }
            switch tallied.billingStatus {
            case .charged: row.spent += figures.cost
            case .reserved: row.reserved += figures.cost
            case .released: break
            }
            rows[group] = row
        }
        let data = rows.sorted { ($0.key ?? "") < ($1.key ?? "") }.map { group, row in
            "{\"group\":" + (group.map(JSONText.quoted) ?? "null") + ",\"requests\":\(row.requests),\"completed\":\(row.completed)"
                + ",\"failed\":\(row.failed),\"cancelled\":\(row.cancelled),\"spent_usd\":\"\(row.spent.apiString)\",\"reserved_usd\":\"\(row.reserved.apiString)\"}"
        }
        return .json(200, "{\"object\":\"list\",\"group_by\":\"\(groupBy)\",\"data\":[" + data.joined(separator: ",") + "],\"next\":null}")
    }

    /// `GET /admin/generations?key=&status=&limit=&after=`: any key's jobs, newest first.
    func generations(_ request: HTTPRequest) async -> HTTPResponse {
        let query = request.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...100).contains(value) else { return .error(.parameter(.invalid, "limit", "limit must be an integer from 1 to 100")) }
            limit = value
        }
        var status: JobStatus?
        if let text = query["status"], !text.isEmpty {
            guard let value = JobStatus(rawValue: text) else { return .error(.parameter(.invalid, "status", "status must be one of queued, running, completed, failed, cancelled")) }
            status = value
        }
        let key = query["key"].flatMap { $0.isEmpty ? nil : $0 }
        let page: (jobs: [Job], hasMore: Bool)
        do {
            page = try await jobs.page(owner: key, status: status, limit: limit, after: query["after"].flatMap { $0.isEmpty ? nil : $0 })
        } catch {
            logger.error("cannot read stored generations", metadata: ["error": "\(error)"])
            return .error(.storageUnavailable)
        }
        let next = page.hasMore ? page.jobs.last.map { JSONText.quoted($0.id) } ?? "null" : "null"
        return .json(200, "{\"object\":\"list\",\"data\":[" + page.jobs.map(\.jsonObject).joined(separator: ",") + "],\"next\":\(next)}")
    }

    /// `POST /admin/generations/{id}/refund`: releases a charged job's money (operator correction).
    func refund(_ request: HTTPRequest) async -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let job: Job
        do {
            guard let found = try await jobs.lookup(id: id) else { return .error(.notFound("no generation \(id)")) }
            // A job that left memory comes back to be changed, with its charge from the ledger lines.
            let resident = jobs.rehydrate(found)
            job = resident.job
            if resident.inserted && job.billingStatus == .charged && !ledger.hasCharge(jobID: id) {
                ledger.restoreCharge(jobID: id, amount: job.cost, entries: try await stateStore.ledgerEntries(jobID: id))
            }
        } catch {
            logger.error("cannot read a stored generation", metadata: ["error": "\(error)", "job_id": "\(id)"])
            return .error(.storageUnavailable)
        }
        var refunded: Job?
        var ticket: StoreTicket?
        if job.billingStatus == .charged {
            // The job row and the refund lines are queued inside the ledger's critical section:
            // the money a refund frees is on disk before anything that reuses it.
            _ = ledger.refund(jobID: id) { charge in
                refunded = jobs.refunded(id: id)
                if let refunded {
                    ticket = stateStore.enqueue([.job(refunded)] + charge.entries(.refund, jobID: id, at: clock.now()).map(StateChange.ledger))
                }
            }
        }
        guard let refunded else {
            return .error(APIError(status: 409, kind: .invalidRequest, code: "not_refundable", message: "generation \(id) has no charge to refund (billing_status \(job.billingStatus.rawValue))"))
        }
        guard await stateStore.awaitDurable(ticket, logger: logger) else {
            return .error(.storageUnavailable)
        }
        return .json(200, refunded.jsonObject)
    }

    /// `YYYY-MM-DD` as 00:00 UTC of that day.
    static func parseDate(_ text: String) -> Timestamp? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = BudgetWindow.daysFromCivil(year: year, month: month, day: day)
        // Refuse dates that do not exist (2026-02-30 would roll over).
        let back = BudgetWindow.civilDate(fromDays: days)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return Timestamp(unixMilliseconds: days * 86_400_000)
    }
}
