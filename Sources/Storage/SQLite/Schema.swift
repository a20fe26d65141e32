/// The SQLite schema as a list of forward migrations. `PRAGMA user_version` is the number of
/// migrations applied; a database at version N gets migrations N+1… in one transaction each at
/// start-up. A migration is never edited once released: change the schema by appending one.
enum Schema {
    static let migrations: [[String]] = [
        // 1: keys, teams, jobs, the ledger, the webhook outbox.
        [
            """
            CREATE TABLE keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                team TEXT,
                sha256 TEXT NOT NULL UNIQUE,
                budget_limit_micros INTEGER,
                budget_period TEXT,
                models TEXT,
                rpm INTEGER,
                max_concurrent INTEGER,
                webhook_secret TEXT,
                created_at_ms INTEGER NOT NULL,
                revoked_at_ms INTEGER
            ) STRICT
            """,
            """
            CREATE TABLE teams (
                name TEXT PRIMARY KEY,
                budget_limit_micros INTEGER,
                budget_period TEXT,
                created_at_ms INTEGER NOT NULL
            ) STRICT
            """,
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                revision INTEGER NOT NULL,
                owner_key_id TEXT NOT NULL,
                team TEXT,
                model TEXT NOT NULL,
                provider TEXT NOT NULL,
                provider_model TEXT NOT NULL,
                provider_job_id TEXT,
                status TEXT NOT NULL,
                provider_status TEXT,
                created_at_ms INTEGER NOT NULL,
                completed_at_ms INTEGER,
                result_urls TEXT,
                error_code TEXT,
                error_message TEXT,
                cost_micros INTEGER NOT NULL,
                billing_status TEXT NOT NULL,
                metadata TEXT,
                webhook_url TEXT
            ) STRICT
            """,
            "CREATE INDEX jobs_by_owner ON jobs (owner_key_id, id)",
            """
            CREATE TABLE ledger_entries (
                seq INTEGER PRIMARY KEY,
                job_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('reserve', 'charge', 'release', 'refund')),
                owner_kind TEXT NOT NULL CHECK (owner_kind IN ('key', 'team')),
                owner TEXT NOT NULL,
                period TEXT NOT NULL,
                window_start_ms INTEGER NOT NULL,
                amount_micros INTEGER NOT NULL,
                at_ms INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX ledger_by_job ON ledger_entries (job_id)",
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                job_id TEXT NOT NULL,
                url TEXT NOT NULL,
                type TEXT NOT NULL,
                body BLOB NOT NULL,
                secret TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts TEXT NOT NULL,
                next_attempt_at_ms INTEGER,
                created_at_ms INTEGER NOT NULL
            ) STRICT
            """,
        ],
        // 2: idempotency records (API.md §3 `Idempotency-Key`), and pending deliveries found
        // without a table scan.
        [
            """
            CREATE TABLE idempotency_keys (
                owner_key_id TEXT NOT NULL,
                key TEXT NOT NULL,
                request_sha256 TEXT NOT NULL,
                job_id TEXT,
                response_status INTEGER,
                response_body TEXT,
                created_at_ms INTEGER NOT NULL,
                PRIMARY KEY (owner_key_id, key)
            ) STRICT
            """,
            "CREATE INDEX webhook_deliveries_by_state ON webhook_deliveries (state, created_at_ms)",
        ],
        // 3: the API a job came through (its webhook event is shaped for that API).
        [
            "ALTER TABLE jobs ADD COLUMN front_door TEXT NOT NULL DEFAULT 'gateway'",
        ],
    ]

    /// The version this build writes.
    static var latestVersion: Int { migrations.count }
}
