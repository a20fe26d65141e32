import GatewayCore

/// One SQL statement and the rows to run it with (once per row, inside one transaction).
struct Statement {
    var sql: String
    var rows: [[SQLValue]]
}

/// Between the vocabulary and SQLite rows: the statements one batch of changes becomes, and the
/// records read back at start-up.
enum Rows {
    // MARK: Batch → statements

    /// The statements for one batch: one fixed statement per table and kind of change, each run
    /// for every row it has. Within the batch the last change of a row wins, except that a job
    /// never goes back to a lower revision (the upsert refuses that on disk too).
    static func statements(for batch: [StateChange]) -> [Statement] {
        var jobs: [String: Job] = [:], jobOrder: [String] = [], deletedJobs: [String] = []
        var ledger: [LedgerEntry] = []
        var keys: [String: KeyRecord] = [:], keyOrder: [String] = []
        var teams: [String: TeamRecord] = [:], teamOrder: [String] = [], deletedTeams: [String] = []
        var deliveries: [String: WebhookDelivery] = [:], deliveryOrder: [String] = []
        var idempotency: [String: IdempotencyRecord] = [:], idempotencyOrder: [String] = []
        for change in batch {
            switch change {
            case .job(let job):
                if let seen = jobs[job.id] {
                    if job.revision > seen.revision { jobs[job.id] = job }
                } else {
                    jobs[job.id] = job
                    jobOrder.append(job.id)
                }
                deletedJobs.removeAll { $0 == job.id }
            case .jobDeleted(let id):
                jobs[id] = nil
                deletedJobs.append(id)
            case .ledger(let entry):
                ledger.append(entry)
            case .key(let key):
                if keys.updateValue(key, forKey: key.id) == nil { keyOrder.append(key.id) }
            case .team(let team):
                if teams.updateValue(team, forKey: team.name) == nil { teamOrder.append(team.name) }
                deletedTeams.removeAll { $0 == team.name }
            case .teamDeleted(let name):
                teams[name] = nil
                deletedTeams.append(name)
            case .delivery(let delivery):
                if deliveries.updateValue(delivery, forKey: delivery.id) == nil { deliveryOrder.append(delivery.id) }
            case .idempotency(let record):
                let id = record.ownerKeyID + "\u{0}" + record.key
                if idempotency.updateValue(record, forKey: id) == nil { idempotencyOrder.append(id) }
            }
        }
        let statements = [
            Statement(sql: jobUpsert, rows: jobOrder.compactMap { jobs[$0] }.map(jobRow)),
            Statement(sql: "DELETE FROM jobs WHERE id = ?", rows: deletedJobs.map { [.text($0)] }),
            Statement(sql: insert("ledger_entries", ledgerColumns), rows: ledger.map(ledgerRow)),
            Statement(sql: insert("keys", keyColumns, replace: true), rows: keyOrder.compactMap { keys[$0] }.map(keyRow)),
            Statement(sql: insert("teams", teamColumns, replace: true), rows: teamOrder.compactMap { teams[$0] }.map(teamRow)),
            Statement(sql: "DELETE FROM teams WHERE name = ?", rows: deletedTeams.map { [.text($0)] }),
            Statement(sql: insert("webhook_deliveries", deliveryColumns, replace: true), rows: deliveryOrder.compactMap { deliveries[$0] }.map(deliveryRow)),
            Statement(sql: insert("idempotency_keys", idempotencyColumns, replace: true), rows: idempotencyOrder.compactMap { idempotency[$0] }.map(idempotencyRow)),
        ]
        return statements.filter { !$0.rows.isEmpty }
    }

    static func insert(_ table: String, _ columns: [String], replace: Bool = false) -> String {
        (replace ? "INSERT OR REPLACE INTO " : "INSERT INTO ") + table + " (" + columns.joined(separator: ", ") + ") VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
    }

    /// A job row replaces the stored one only with a higher revision.
    static let jobUpsert = insert("jobs", jobColumns) + " ON CONFLICT (id) DO UPDATE SET "
        + jobColumns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ") + " WHERE excluded.revision > jobs.revision"

    // MARK: Columns and rows

    static let jobColumns = [
        "id", "revision", "owner_key_id", "team", "model", "provider", "provider_model", "provider_job_id", "status", "provider_status",
        "created_at_ms", "completed_at_ms", "result_urls", "error_code", "error_message", "cost_micros", "billing_status", "metadata",
        "webhook_url", "front_door",
    ]

    static func jobRow(_ job: Job) -> [SQLValue] {
        [
            .text(job.id), .integer(Int64(job.revision)), .text(job.ownerKeyID), text(job.team), .text(job.model), .text(job.provider),
            .text(job.providerModel), text(job.providerJobID), .text(job.status.rawValue), text(job.providerStatus),
            integer(job.createdAt.unixMilliseconds), integer(job.completedAt?.unixMilliseconds), text(job.resultURLs.map(stringArray)),
            text(job.error?.code), text(job.error?.message), integer(job.cost.micros), .text(job.billingStatus.rawValue),
            text(job.metadata?.serialized), text(job.webhookURL), .text(job.frontDoor.rawValue),
        ]
    }

    static let ledgerColumns = ["job_id", "kind", "owner_kind", "owner", "period", "window_start_ms", "amount_micros", "at_ms"]

    static func ledgerRow(_ entry: LedgerEntry) -> [SQLValue] {
        let (kind, owner): (String, String)
        switch entry.owner {
        case .key(let id): (kind, owner) = ("key", id)
        case .team(let name): (kind, owner) = ("team", name)
        }
        return [
            .text(entry.jobID), .text(entry.kind.rawValue), .text(kind), .text(owner), .text(entry.window.period.rawValue),
            integer(entry.window.start.unixMilliseconds), integer(entry.amount.micros), integer(entry.at.unixMilliseconds),
        ]
    }

    static let keyColumns = [
        "id", "name", "team", "sha256", "budget_limit_micros", "budget_period", "models", "rpm", "max_concurrent", "webhook_secret",
        "created_at_ms", "revoked_at_ms",
    ]

    static func keyRow(_ key: KeyRecord) -> [SQLValue] {
        [
            .text(key.id), .text(key.name), text(key.team), .text(key.sha256Hex), integer(key.budget?.limit.micros),
            text(key.budget?.period.rawValue), text(key.models.map(stringArray)), integer(key.rpm), integer(key.maxConcurrent),
            text(key.webhookSecret?.value), integer(key.createdAt.unixMilliseconds), integer(key.revokedAt?.unixMilliseconds),
        ]
    }

    static let teamColumns = ["name", "budget_limit_micros", "budget_period", "created_at_ms"]

    static func teamRow(_ team: TeamRecord) -> [SQLValue] {
        [.text(team.name), integer(team.budget?.limit.micros), text(team.budget?.period.rawValue), integer(team.createdAt.unixMilliseconds)]
    }

    static let deliveryColumns = ["id", "job_id", "url", "type", "body", "secret", "state", "attempts", "next_attempt_at_ms", "created_at_ms"]

    static func deliveryRow(_ delivery: WebhookDelivery) -> [SQLValue] {
        let attempts = delivery.attempts.map { attempt in
            "{\"at_ms\":\(attempt.at.unixMilliseconds),\"status\":" + (attempt.status.map(String.init) ?? "null")
                + ",\"error\":" + (attempt.error.map(JSONText.quoted) ?? "null") + ",\"latency_ms\":\(attempt.latencyMilliseconds)}"
        }
        return [
            .text(delivery.id), .text(delivery.jobID), .text(delivery.url), .text(delivery.type), .blob(delivery.body),
            .text(delivery.secret.value), .text(delivery.state.rawValue), .text("[" + attempts.joined(separator: ",") + "]"),
            integer(delivery.nextAttemptAt?.unixMilliseconds), integer(delivery.createdAt.unixMilliseconds),
        ]
    }

    static let idempotencyColumns = ["owner_key_id", "key", "request_sha256", "job_id", "response_status", "response_body", "created_at_ms"]

    static func idempotencyRow(_ record: IdempotencyRecord) -> [SQLValue] {
        [
            .text(record.ownerKeyID), .text(record.key), .text(record.requestHash), text(record.jobID), integer(record.responseStatus),
            text(record.responseBody), integer(record.createdAt.unixMilliseconds),
        ]
    }

    private static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    private static func integer(_ value: (some BinaryInteger)?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    private static func stringArray(_ values: [String]) -> String { "[" + values.map(JSONText.quoted).joined(separator: ",") + "]" }

    // MARK: Rows → records

    /// A stored value that this build cannot read back.
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func job(_ row: SQLRow) throws -> Job {
        let id = try text(row, "id")
        guard let status = JobStatus(rawValue: try text(row, "status")) else { throw Unreadable(description: "job \(id): unknown status") }
        guard let billing = BillingStatus(rawValue: try text(row, "billing_status")) else { throw Unreadable(description: "job \(id): unknown billing status") }
        var job = Job(
            id: id, ownerKeyID: try text(row, "owner_key_id"), model: try text(row, "model"), provider: try text(row, "provider"),
            providerModel: try text(row, "provider_model"), cost: Money(micros: try int64(row, "cost_micros")),
            createdAt: Timestamp(unixMilliseconds: try int64(row, "created_at_ms")),
            metadata: try optionalText(row, "metadata").map { try json($0, "job \(id) metadata") },
            webhookURL: try optionalText(row, "webhook_url"))
        job.revision = Int(try int64(row, "revision"))
        job.team = try optionalText(row, "team")
        job.providerJobID = try optionalText(row, "provider_job_id")
        job.status = status
        job.providerStatus = try optionalText(row, "provider_status")
        job.completedAt = try optionalInt64(row, "completed_at_ms").map(Timestamp.init(unixMilliseconds:))
        job.resultURLs = try optionalText(row, "result_urls").map { try strings($0, "job \(id) result_urls") }
        if let code = try optionalText(row, "error_code") {
            job.error = JobError(code: code, message: try optionalText(row, "error_message") ?? "")
        }
        job.billingStatus = billing
        // Schema 3 added the column (older rows read back as `gateway`).
        if let door = try optionalText(row, "front_door") {
            guard let frontDoor = FrontDoor(rawValue: door) else { throw Unreadable(description: "job \(id): unknown front door") }
            job.frontDoor = frontDoor
        }
        return job
    }

    static func ledgerEntry(_ row: SQLRow) throws -> LedgerEntry {
        let jobID = try text(row, "job_id")
        guard let kind = LedgerEntry.Kind(rawValue: try text(row, "kind")),
              let period = GatewayConfiguration.Budget.Period(rawValue: try text(row, "period")) else {
            throw Unreadable(description: "ledger entry for \(jobID): unknown kind or period")
        }
        return LedgerEntry(
            jobID: jobID, kind: kind, owner: try owner(row, of: "ledger entry for \(jobID)"), window: try window(row, period: period),
            amount: Money(micros: try int64(row, "amount_micros")), at: Timestamp(unixMilliseconds: try int64(row, "at_ms")))
    }

    static func ledgerBalance(_ row: SQLRow) throws -> LedgerBalance {
        let owner = try owner(row, of: "ledger balance")
        guard let period = GatewayConfiguration.Budget.Period(rawValue: try text(row, "period")) else {
            throw Unreadable(description: "ledger balance of \(owner): unknown period")
        }
        return LedgerBalance(
            owner: owner, window: try window(row, period: period),
            spent: Money(micros: try int64(row, "spent_micros")), reserved: Money(micros: try int64(row, "reserved_micros")))
    }

    static func tallyGroup(_ row: SQLRow) throws -> (JobTally.Group, JobTally.Figures) {
        guard let status = JobStatus(rawValue: try text(row, "status")),
              let billing = BillingStatus(rawValue: try text(row, "billing_status")) else {
            throw Unreadable(description: "job totals: unknown status or billing status")
        }
        let group = JobTally.Group(
            day: try int64(row, "day"), ownerKeyID: try text(row, "owner_key_id"), team: try optionalText(row, "team"),
            model: try text(row, "model"), provider: try text(row, "provider"), status: status, billingStatus: billing)
        return (group, JobTally.Figures(count: Int(try int64(row, "jobs")), cost: Money(micros: try int64(row, "cost_micros"))))
    }

    static func requestCount(_ row: SQLRow) throws -> RequestCount {
        guard let period = GatewayConfiguration.Budget.Period(rawValue: try text(row, "period")) else {
            throw Unreadable(description: "request counts: unknown period")
        }
        return RequestCount(keyID: try text(row, "owner_key_id"), window: try window(row, period: period), count: Int(try int64(row, "requests")))
    }

    private static func owner(_ row: SQLRow, of what: String) throws -> BudgetOwner {
        let name = try text(row, "owner")
        switch try text(row, "owner_kind") {
        case "key": return .key(name)
        case "team": return .team(name)
        default: throw Unreadable(description: "\(what): unknown owner kind")
        }
    }

    private static func window(_ row: SQLRow, period: GatewayConfiguration.Budget.Period) throws -> Ledger.Window {
        Ledger.Window(period: period, start: Timestamp(unixMilliseconds: try int64(row, "window_start_ms")))
    }

    static func key(_ row: SQLRow) throws -> KeyRecord {
        let id = try text(row, "id")
        return KeyRecord(
            id: id, name: try text(row, "name"), team: try optionalText(row, "team"), sha256Hex: try text(row, "sha256"),
            budget: try budget(row, of: "key \(id)"), models: try optionalText(row, "models").map { try strings($0, "key \(id) models") },
            rpm: try optionalInt64(row, "rpm").map { Int($0) }, maxConcurrent: try optionalInt64(row, "max_concurrent").map { Int($0) },
            webhookSecret: try optionalText(row, "webhook_secret").map { Secret($0) },
            createdAt: Timestamp(unixMilliseconds: try int64(row, "created_at_ms")),
            revokedAt: try optionalInt64(row, "revoked_at_ms").map(Timestamp.init(unixMilliseconds:)), source: .admin)
    }

    static func team(_ row: SQLRow) throws -> TeamRecord {
        let name = try text(row, "name")
        return TeamRecord(
            name: name, budget: try budget(row, of: "team \(name)"), createdAt: Timestamp(unixMilliseconds: try int64(row, "created_at_ms")),
            source: .admin)
    }

    static func delivery(_ row: SQLRow) throws -> WebhookDelivery {
        let id = try text(row, "id")
        guard case .blob(let body)? = row.column("body") else { throw Unreadable(description: "webhook delivery \(id): no body") }
        guard let state = WebhookDelivery.State(rawValue: try text(row, "state")) else { throw Unreadable(description: "webhook delivery \(id): unknown state") }
        var delivery = WebhookDelivery(
            id: id, jobID: try text(row, "job_id"), url: try text(row, "url"), type: try text(row, "type"),
            body: body,
            secret: Secret(try text(row, "secret")), createdAt: Timestamp(unixMilliseconds: try int64(row, "created_at_ms")))
        delivery.state = state
        delivery.nextAttemptAt = try optionalInt64(row, "next_attempt_at_ms").map(Timestamp.init(unixMilliseconds:))
        guard case .array(let attempts) = try json(try text(row, "attempts"), "webhook delivery \(id) attempts") else {
            throw Unreadable(description: "webhook delivery \(id): attempts is not a list")
        }
        delivery.attempts = try attempts.map { attempt in
            guard let at = attempt["at_ms"]?.integerValue, let latency = attempt["latency_ms"]?.integerValue else {
                throw Unreadable(description: "webhook delivery \(id): unreadable attempt")
            }
            return WebhookDelivery.Attempt(
                at: Timestamp(unixMilliseconds: Int64(at)), status: attempt["status"]?.integerValue, error: attempt["error"]?.stringValue,
                latencyMilliseconds: latency)
        }
        return delivery
    }

    static func idempotency(_ row: SQLRow) throws -> IdempotencyRecord {
        IdempotencyRecord(
            ownerKeyID: try text(row, "owner_key_id"), key: try text(row, "key"), requestHash: try text(row, "request_sha256"),
            jobID: try optionalText(row, "job_id"), responseStatus: try optionalInt64(row, "response_status").map { Int($0) },
            responseBody: try optionalText(row, "response_body"), createdAt: Timestamp(unixMilliseconds: try int64(row, "created_at_ms")))
    }

    // MARK: Reading values

    private static func budget(_ row: SQLRow, of owner: String) throws -> GatewayConfiguration.Budget? {
        let limit = try optionalInt64(row, "budget_limit_micros"), period = try optionalText(row, "budget_period")
        switch (limit, period) {
        case (nil, nil): return nil
        case (let limit?, let period?):
            guard let period = GatewayConfiguration.Budget.Period(rawValue: period) else { throw Unreadable(description: "\(owner): unknown budget period") }
            return GatewayConfiguration.Budget(limit: Money(micros: limit), period: period)
        default: throw Unreadable(description: "\(owner): a budget needs both a limit and a period")
        }
    }

    private static func text(_ row: SQLRow, _ column: String) throws -> String {
        guard let value = try optionalText(row, column) else { throw Unreadable(description: "\(column) is missing") }
        return value
    }

    private static func optionalText(_ row: SQLRow, _ column: String) throws -> String? {
        switch row.column(column) {
        case .text(let value): return value
        case .null, nil: return nil
        default: throw Unreadable(description: "\(column) is not text")
        }
    }

    private static func int64(_ row: SQLRow, _ column: String) throws -> Int64 {
        guard let value = try optionalInt64(row, column) else { throw Unreadable(description: "\(column) is missing") }
        return value
    }

    private static func optionalInt64(_ row: SQLRow, _ column: String) throws -> Int64? {
        switch row.column(column) {
        case .integer(let value): return Int64(value)
        case .null, nil: return nil
        default: throw Unreadable(description: "\(column) is not an integer")
        }
    }

    private static func json(_ text: String, _ what: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw Unreadable(description: "\(what): \(error)")
        }
    }

    private static func strings(_ text: String, _ what: String) throws -> [String] {
        guard case .array(let items) = try json(text, what) else { throw Unreadable(description: "\(what) is not a list") }
        return try items.map { item in
            guard let value = item.stringValue else { throw Unreadable(description: "\(what) holds a non-string") }
            return value
        }
    }
}
