import GatewayCore

extension SQLiteStateStore {
    /// Start-up reads (see `StoredState`): the jobs recovery needs and totals over the rest, so
    /// start-up time grows with the history (a few table scans) but memory does not.
    static func load(from connection: SQLiteConnection, keepingFinished: Int) throws -> StoredState {
        var state = StoredState()
        state.keys = try connection.execute("SELECT * FROM keys ORDER BY id").map(Rows.key)
        state.teams = try connection.execute("SELECT * FROM teams ORDER BY name").map(Rows.team)

        var jobs: [String: Job] = [:]
        let open = "('queued', 'running')"
        for sql in [
            "SELECT * FROM jobs WHERE status IN \(open)",
            "SELECT * FROM jobs WHERE status NOT IN \(open) ORDER BY id DESC LIMIT \(Int64(clamping: keepingFinished))",
            // A reservation never settled (an older build wrote the settlement apart).
            """
            SELECT * FROM jobs WHERE id IN (SELECT job_id FROM ledger_entries GROUP BY job_id
                HAVING SUM(kind = 'reserve') > SUM(kind IN ('charge', 'release')))
            """,
            // A finished job with a webhook URL but no event.
            "SELECT * FROM jobs WHERE webhook_url IS NOT NULL AND status NOT IN \(open) AND id NOT IN (SELECT job_id FROM webhook_deliveries)",
        ] {
            for job in try connection.execute(sql).map(Rows.job) { jobs[job.id] = job }
        }
        state.jobs = jobs.values.sorted { $0.id < $1.id }
        for job in state.jobs {
            state.ledger += try connection.execute("SELECT * FROM ledger_entries WHERE job_id = ? ORDER BY seq", [.text(job.id)], cached: true)
                .map(Rows.ledgerEntry)
        }

        state.ledgerBalances = try connection.execute("""
            SELECT owner_kind, owner, period, window_start_ms,
                SUM(CASE kind WHEN 'charge' THEN amount_micros WHEN 'refund' THEN -amount_micros ELSE 0 END) AS spent_micros,
                SUM(CASE kind WHEN 'reserve' THEN amount_micros WHEN 'refund' THEN 0 ELSE -amount_micros END) AS reserved_micros
            FROM ledger_entries GROUP BY owner_kind, owner, period, window_start_ms
            """).map(Rows.ledgerBalance)

        for row in try connection.execute("""
            SELECT created_at_ms / 86400000 AS day, owner_key_id, team, model, provider, status, billing_status,
                COUNT(*) AS jobs, SUM(cost_micros) AS cost_micros
            FROM jobs GROUP BY day, owner_key_id, team, model, provider, status, billing_status
            """) {
            let (group, figures) = try Rows.tallyGroup(row)
            state.jobTally.add(group, figures)
        }

        // Each job once in its UTC day and once in every window it was reserved in (UNION drops
        // the reservation's daily window when it is the creation day).
        state.requestCounts = try connection.execute("""
            SELECT owner_key_id, period, window_start_ms, COUNT(*) AS requests FROM (
                SELECT owner_key_id, 'daily' AS period, (created_at_ms / 86400000) * 86400000 AS window_start_ms, id FROM jobs
                UNION
                SELECT jobs.owner_key_id, ledger_entries.period, ledger_entries.window_start_ms, jobs.id
                FROM ledger_entries JOIN jobs ON jobs.id = ledger_entries.job_id WHERE ledger_entries.kind = 'reserve'
            ) GROUP BY owner_key_id, period, window_start_ms
            """).map(Rows.requestCount)

        state.deliveries = try connection.execute("SELECT * FROM webhook_deliveries ORDER BY created_at_ms, id").map(Rows.delivery)
        state.idempotency = try connection.execute("SELECT * FROM idempotency_keys ORDER BY created_at_ms").map(Rows.idempotency)
        return state
    }
}
