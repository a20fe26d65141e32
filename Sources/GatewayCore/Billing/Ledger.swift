import Synchronization

/// Who a budget belongs to.
public enum BudgetOwner: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case team(String)

    public var description: String {
        switch self {
        case .key(let id): return "key \(id)"
        case .team(let name): return "team \(name)"
        }
    }
}

/// A budget that applies to a request: whose it is, and its limit and period.
public struct ApplicableBudget: Sendable, Hashable {
    public var owner: BudgetOwner
    public var budget: GatewayConfiguration.Budget
    public init(owner: BudgetOwner, budget: GatewayConfiguration.Budget) { self.owner = owner; self.budget = budget }
}

/// One budget's figures in one window.
public struct BudgetStanding: Sendable, Equatable {
    public var owner: BudgetOwner
    public var limit: Money
    public var period: GatewayConfiguration.Budget.Period
    public var windowStart: Timestamp
    public var resetsAt: Timestamp?
    public var spent: Money
    public var reserved: Money
    /// `limit − spent − reserved`, never below zero.
    public var remaining: Money { max(.zero, limit - spent - reserved) }
}

/// The answer when a request does not fit (402 `budget_exceeded`).
public struct BudgetExceeded: Error, Sendable, Equatable {
    /// The first budget it does not fit in.
    public var standing: BudgetStanding
    /// The request's price.
    public var price: Money

    /// The API error, naming the budget, its limit, spent, reserved and reset time (API.md §2).
    public var apiError: APIError {
        let resets = standing.resetsAt.map { "resets at \($0.rfc3339)" } ?? "never resets (period total)"
        return APIError(
            status: 402, kind: .budget, code: "budget_exceeded",
            message: "\(standing.period.rawValue) budget of \(standing.owner) exceeded: limit \(standing.limit.apiString) USD, "
                + "spent \(standing.spent.apiString), reserved \(standing.reserved.apiString), this request \(price.apiString); \(resets)")
    }
}

/// One durable ledger line: what happened to one job's money in one (owner, window). The ledger
/// is rebuilt from these at start-up (their sums per account, and the lines of the jobs kept in memory: `Ledger.restore`).
public struct LedgerEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Held at admission.
        case reserve
        /// The hold became spend.
        case charge
        /// The hold was let go.
        case release
        /// The operator reversed a charge.
        case refund
    }

    public var jobID: String
    public var kind: Kind
    public var owner: BudgetOwner
    public var window: Ledger.Window
    public var amount: Money
    public var at: Timestamp

    public init(jobID: String, kind: Kind, owner: BudgetOwner, window: Ledger.Window, amount: Money, at: Timestamp) {
        self.jobID = jobID
        self.kind = kind
        self.owner = owner
        self.window = window
        self.amount = amount
        self.at = at
    }
}

/// Budgets in calendar windows with exact admission (API.md §4): a request is admitted only if its
/// price fits in **every** applicable budget, checked and reserved in one critical section (no
/// `await` inside), so no interleaving of concurrent requests can overspend a limit. Each job's
/// reservation is settled exactly once: charged or released, in the window it was reserved in.
public final class Ledger: Sendable {
    /// One calendar window of one period (a daily and a monthly window may share a start).
    public struct Window: Sendable, Hashable {
        public var period: GatewayConfiguration.Budget.Period
        public var start: Timestamp
        public init(period: GatewayConfiguration.Budget.Period, start: Timestamp) { self.period = period; self.start = start }
    }

    struct Account: Hashable {
        var owner: BudgetOwner
        var window: Window
    }

    struct Totals {
        var spent = Money.zero
        var reserved = Money.zero
    }

    /// A job's hold: the amount in each (owner, window) it was reserved in.
    public struct Reservation: Sendable, Equatable {
        public var amount: Money
        public var accounts: [BudgetOwner: Window]

        /// The durable entries that record `kind` for this hold, one per account (a job with no
        /// budget has none), in a stable order.
        public func entries(_ kind: LedgerEntry.Kind, jobID: String, at time: Timestamp) -> [LedgerEntry] {
            accounts.sorted { $0.key.description < $1.key.description }.map { owner, window in
                LedgerEntry(jobID: jobID, kind: kind, owner: owner, window: window, amount: amount, at: time)
            }
        }
    }

    /// How a reservation ends.
    public enum Settlement: Sendable, Equatable {
        /// The job completed (or its outcome is unknown at `max_age`): spent.
        case charge
        /// The job failed, was cancelled or refused: nothing spent.
        case release
    }

    private struct State: ~Copyable {
        var totals: [Account: Totals] = [:]
        var reservations: [String: Reservation] = [:]
        /// Settled charges by job, for operator refunds.
        var charges: [String: Reservation] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Reserves `price` for `jobID` in every budget, or in none.
    public func reserve(jobID: String, price: Money, budgets: [ApplicableBudget], at now: Timestamp) -> Result<Reservation, BudgetExceeded> {
        state.withLock { state in
            guard state.reservations[jobID] == nil else { return .success(state.reservations[jobID]!) }
            var accounts: [BudgetOwner: Window] = [:]
            for applicable in budgets {
                let start = BudgetWindow.start(of: applicable.budget.period, containing: now)
                let window = Window(period: applicable.budget.period, start: start)
                let totals = state.totals[Account(owner: applicable.owner, window: window)] ?? Totals()
                let committed = totals.spent.adding(totals.reserved).flatMap { $0.adding(price) }
                guard let committed, committed <= applicable.budget.limit else {
                    return .failure(BudgetExceeded(standing: BudgetStanding(
                        owner: applicable.owner, limit: applicable.budget.limit, period: applicable.budget.period, windowStart: start,
                        resetsAt: BudgetWindow.end(of: applicable.budget.period, containing: now),
                        spent: totals.spent, reserved: totals.reserved), price: price))
                }
                accounts[applicable.owner] = window
            }
            for (owner, window) in accounts {
                state.totals[Account(owner: owner, window: window), default: Totals()].reserved += price
            }
            let reservation = Reservation(amount: price, accounts: accounts)
            state.reservations[jobID] = reservation
            return .success(reservation)
        }
    }

    /// Ends a job's reservation and returns it, or `nil` when there was none (already settled, or
    /// never reserved): a second settlement changes nothing. `record` runs inside the critical
    /// section with the reservation being settled, so a durable record of a release is queued
    /// before any reservation that could use the money it frees.
    @discardableResult
    public func settle(jobID: String, _ settlement: Settlement, record: (Reservation) -> Void = { _ in }) -> Reservation? {
        state.withLock { state in
            guard let reservation = state.reservations.removeValue(forKey: jobID) else { return nil }
            record(reservation)
            for (owner, window) in reservation.accounts {
                let account = Account(owner: owner, window: window)
                state.totals[account, default: Totals()].reserved -= reservation.amount
                if settlement == .charge { state.totals[account, default: Totals()].spent += reservation.amount }
            }
            if settlement == .charge { state.charges[jobID] = reservation }
            return reservation
        }
    }

    /// Reverses a job's charge (operator correction). Returns what was refunded, or `nil` when the
    /// job has no charge to refund. `record` runs inside the critical section (see `settle`).
    public func refund(jobID: String, record: (Reservation) -> Void = { _ in }) -> Reservation? {
        state.withLock { state in
            guard let charge = state.charges.removeValue(forKey: jobID) else { return nil }
            record(charge)
            for (owner, window) in charge.accounts {
                state.totals[Account(owner: owner, window: window), default: Totals()].spent -= charge.amount
            }
            return charge
        }
    }

    /// Start-up recovery without reading every line ever written: each account's totals as the
    /// store summed them, and the lines of the jobs kept in memory, which rebuild their open
    /// reservations and refundable charges.
    public func restore(totals: [(owner: BudgetOwner, window: Window, spent: Money, reserved: Money)], entries: some Sequence<LedgerEntry>) {
        state.withLock { state in
            for account in totals {
                state.totals[Account(owner: account.owner, window: account.window)] = Totals(spent: account.spent, reserved: account.reserved)
            }
            for entry in entries { Self.rebuildHolds(entry, in: &state) }
        }
    }

    /// Brings back the refundable charge of a charged job that had left memory, from its lines
    /// (none for a job no budget applied to), so that `refund` can reverse it. Totals are
    /// untouched: they never forgot it.
    public func restoreCharge(jobID: String, amount: Money, entries: [LedgerEntry]) {
        state.withLock { state in
            guard state.charges[jobID] == nil else { return }
            var charge = Reservation(amount: amount, accounts: [:])
            for entry in entries where entry.jobID == jobID && entry.kind == .charge { charge.accounts[entry.owner] = entry.window }
            state.charges[jobID] = charge
        }
    }

    /// Forgets settled charges of jobs that left memory (their lines stay in the store).
    public func forgetCharges(jobIDs: some Sequence<String>) {
        state.withLock { state in
            for id in jobIDs { state.charges[id] = nil }
        }
    }

    /// Whether a settled charge of the job is held for refunds.
    public func hasCharge(jobID: String) -> Bool { state.withLock { $0.charges[jobID] != nil } }

    private static func rebuildHolds(_ entry: LedgerEntry, in state: inout State) {
        switch entry.kind {
        case .reserve:
            state.reservations[entry.jobID, default: Reservation(amount: entry.amount, accounts: [:])].accounts[entry.owner] = entry.window
        case .charge, .release:
            if entry.kind == .charge {
                state.charges[entry.jobID, default: Reservation(amount: entry.amount, accounts: [:])].accounts[entry.owner] = entry.window
            }
            state.reservations[entry.jobID]?.accounts[entry.owner] = nil
            if state.reservations[entry.jobID]?.accounts.isEmpty == true { state.reservations[entry.jobID] = nil }
        case .refund:
            state.charges[entry.jobID]?.accounts[entry.owner] = nil
            if state.charges[entry.jobID]?.accounts.isEmpty == true { state.charges[entry.jobID] = nil }
        }
    }

    /// A budget's figures in the window containing `now`.
    public func standing(of applicable: ApplicableBudget, at now: Timestamp) -> BudgetStanding {
        let start = BudgetWindow.start(of: applicable.budget.period, containing: now)
        let window = Window(period: applicable.budget.period, start: start)
        let totals = state.withLock { $0.totals[Account(owner: applicable.owner, window: window)] } ?? Totals()
        return BudgetStanding(
            owner: applicable.owner, limit: applicable.budget.limit, period: applicable.budget.period, windowStart: start,
            resetsAt: BudgetWindow.end(of: applicable.budget.period, containing: now), spent: totals.spent, reserved: totals.reserved)
    }

    /// Spent and reserved of an owner in one window.
    public func totals(of owner: BudgetOwner, in window: Window) -> (spent: Money, reserved: Money) {
        let totals = state.withLock { $0.totals[Account(owner: owner, window: window)] } ?? Totals()
        return (totals.spent, totals.reserved)
    }

    /// Every (owner, window) with its spent and reserved, for reports and the ledger invariant.
    public var allTotals: [(owner: BudgetOwner, window: Window, spent: Money, reserved: Money)] {
        state.withLock { state in state.totals.map { ($0.key.owner, $0.key.window, $0.value.spent, $0.value.reserved) } }
    }

    /// The open reservation of a job, if any.
    public func reservation(jobID: String) -> Reservation? { state.withLock { $0.reservations[jobID] } }
}
