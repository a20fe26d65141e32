import GatewayCore

/// Counts and money over jobs, grouped by what reports and metrics ask about. The gateway keeps
/// one for every job it ever admitted (in memory, updated with each change), so reports stay
/// whole after old jobs leave memory; at start-up the store computes it from every stored job.
public struct JobTally: Sendable, Equatable {
    public struct Group: Sendable, Hashable {
        /// Days since 1970-01-01 (UTC) of the job's creation.
        public var day: Int64
        public var ownerKeyID: String
        public var team: String?
        public var model: String
        public var provider: String
        public var status: JobStatus
        public var billingStatus: BillingStatus

        public init(day: Int64, ownerKeyID: String, team: String?, model: String, provider: String, status: JobStatus, billingStatus: BillingStatus) {
            self.day = day
            self.ownerKeyID = ownerKeyID
            self.team = team
            self.model = model
            self.provider = provider
            self.status = status
            self.billingStatus = billingStatus
        }

        public init(_ job: Job) {
            self.init(day: Self.day(of: job.createdAt), ownerKeyID: job.ownerKeyID, team: job.team, model: job.model,
                      provider: job.provider, status: job.status, billingStatus: job.billingStatus)
        }

        /// The UTC day a timestamp falls in (floor division: the same day SQL's `/` gives for
        /// every timestamp after 1970).
        public static func day(of time: Timestamp) -> Int64 {
            let milliseconds = time.unixMilliseconds
            return milliseconds >= 0 ? milliseconds / 86_400_000 : -((-milliseconds - 1) / 86_400_000) - 1
        }
    }

    public struct Figures: Sendable, Equatable {
        public var count: Int
        /// The jobs' prices, summed.
        public var cost: Money
        public init(count: Int, cost: Money) { self.count = count; self.cost = cost }
    }

    public private(set) var groups: [Group: Figures] = [:]

    public init() {}

    public mutating func add(_ job: Job) { add(Group(job), Figures(count: 1, cost: job.cost)) }

    public mutating func remove(_ job: Job) { add(Group(job), Figures(count: -1, cost: Money(micros: -job.cost.micros))) }

    /// Replaces `old`'s contribution with `new`'s.
    public mutating func replace(_ old: Job, with new: Job) {
        let before = Group(old), after = Group(new)
        if before == after && old.cost == new.cost { return }
        remove(old)
        add(new)
    }

    public mutating func add(_ group: Group, _ figures: Figures) {
        var sum = groups[group] ?? Figures(count: 0, cost: .zero)
        sum.count += figures.count
        sum.cost += figures.cost
        groups[group] = sum.count == 0 && sum.cost == .zero ? nil : sum
    }
}

/// An owner's spent and reserved money in one budget window, summed over every ledger line.
public struct LedgerBalance: Sendable, Hashable {
    public var owner: BudgetOwner
    public var window: Ledger.Window
    public var spent: Money
    public var reserved: Money

    public init(owner: BudgetOwner, window: Ledger.Window, spent: Money, reserved: Money) {
        self.owner = owner
        self.window = window
        self.spent = spent
        self.reserved = reserved
    }
}

/// How many requests a key made in one window: each stored job counts once in its UTC day and
/// once in every budget window it was reserved in.
public struct RequestCount: Sendable, Hashable {
    public var keyID: String
    public var window: Ledger.Window
    public var count: Int

    public init(keyID: String, window: Ledger.Window, count: Int) {
        self.keyID = keyID
        self.window = window
        self.count = count
    }
}

extension StoredState {
    /// What `load(keepingFinished:)` returns, computed from a whole record: the memory store's
    /// answer, and the reference the SQLite store's queries are tested against.
    static func loading(
        keys: [KeyRecord], teams: [TeamRecord], jobs allJobs: [Job], ledger allLedger: [LedgerEntry],
        deliveries: [WebhookDelivery], idempotency: [IdempotencyRecord], keepingFinished: Int
    ) -> StoredState {
        var state = StoredState()
        state.keys = keys
        state.teams = teams
        state.deliveries = deliveries
        state.idempotency = idempotency
        let sorted = allJobs.sorted { $0.id < $1.id }

        var tally = JobTally()
        for job in sorted { tally.add(job) }
        state.jobTally = tally

        var balances: [Ledger.Window: [BudgetOwner: (spent: Money, reserved: Money)]] = [:]
        var held: [String: Int] = [:]
        var reserveWindows: [String: Set<Ledger.Window>] = [:]
        for entry in allLedger {
            var balance = balances[entry.window]?[entry.owner] ?? (.zero, .zero)
            switch entry.kind {
            case .reserve:
                balance.reserved += entry.amount
                held[entry.jobID, default: 0] += 1
                reserveWindows[entry.jobID, default: []].insert(entry.window)
            case .charge:
                balance.reserved -= entry.amount
                balance.spent += entry.amount
                held[entry.jobID, default: 0] -= 1
            case .release:
                balance.reserved -= entry.amount
                held[entry.jobID, default: 0] -= 1
            case .refund:
                balance.spent -= entry.amount
            }
            balances[entry.window, default: [:]][entry.owner] = balance
        }
        state.ledgerBalances = balances.flatMap { window, owners in
            owners.map { LedgerBalance(owner: $0.key, window: window, spent: $0.value.spent, reserved: $0.value.reserved) }
        }

        var counts: [String: [Ledger.Window: Int]] = [:]
        for job in sorted {
            let day = Ledger.Window(period: .daily, start: BudgetWindow.start(of: .daily, containing: job.createdAt))
            for window in (reserveWindows[job.id] ?? []).union([day]) { counts[job.ownerKeyID, default: [:]][window, default: 0] += 1 }
        }
        state.requestCounts = counts.flatMap { key, windows in windows.map { RequestCount(keyID: key, window: $0.key, count: $0.value) } }

        // Open jobs, the newest finished ones, and finished ones recovery must repair: a
        // reservation never settled, or a webhook URL without its event.
        let withEvents = Set(deliveries.map(\.jobID))
        let newestFinished = Set(sorted.reversed().lazy.filter(\.status.isTerminal).prefix(keepingFinished).map(\.id))
        state.jobs = sorted.filter { job in
            !job.status.isTerminal || newestFinished.contains(job.id) || (held[job.id] ?? 0) > 0
                || (job.webhookURL != nil && !withEvents.contains(job.id))
        }
        var linesByJob: [String: [LedgerEntry]] = [:]
        for entry in allLedger { linesByJob[entry.jobID, default: []].append(entry) }
        state.ledger = state.jobs.flatMap { linesByJob[$0.id] ?? [] }
        return state
    }
}
