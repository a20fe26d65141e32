import Testing
@testable import GatewayCore

@Suite("Ledger")
struct LedgerTests {
    static let price = Money(parsing: "0.030")!
    static let now = BudgetWindowTests.at(2026, 11, 21, 10)

    static func budget(_ limit: String, _ period: GatewayConfiguration.Budget.Period = .daily) -> GatewayConfiguration.Budget {
        GatewayConfiguration.Budget(limit: Money(parsing: limit)!, period: period)
    }

    @Test func reserve_AdmitsExactlyWhatFitsUnderConcurrency() async {
        let ledger = Ledger()
        let budgets = [ApplicableBudget(owner: .key("k"), budget: Self.budget("0.300"))]
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<500 {
                group.addTask {
                    if case .success = ledger.reserve(jobID: "job-\(index)", price: Self.price, budgets: budgets, at: Self.now) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 10)
        let standing = ledger.standing(of: budgets[0], at: Self.now)
        #expect(standing.reserved == Self.price * 10)
        #expect(standing.remaining == .zero)
    }

    @Test func reserve_TeamBudgetSharedByThreeKeysAdmitsExactlyWhatFits() async {
        let ledger = Ledger()
        let team = ApplicableBudget(owner: .team("design"), budget: Self.budget("0.150", .monthly))
        let keys = ["a", "b", "c"].map { ApplicableBudget(owner: .key($0), budget: Self.budget("1.000")) }
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<500 {
                group.addTask {
                    let budgets = [keys[index % 3], team]
                    if case .success = ledger.reserve(jobID: "job-\(index)", price: Self.price, budgets: budgets, at: Self.now) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 5)
        #expect(ledger.standing(of: team, at: Self.now).reserved == Self.price * 5)
        // The keys hold exactly the admitted reservations between them: nothing half-reserved.
        let keyReserved = keys.map { ledger.standing(of: $0, at: Self.now).reserved }.reduce(Money.zero, +)
        #expect(keyReserved == Self.price * 5)
    }

    @Test func reserve_IsAllOrNothingAcrossKeyAndTeam() {
        let ledger = Ledger()
        let key = ApplicableBudget(owner: .key("k"), budget: Self.budget("1.000"))
        let team = ApplicableBudget(owner: .team("t"), budget: Self.budget("0.050", .monthly))
        #expect((try? ledger.reserve(jobID: "a", price: Self.price, budgets: [key, team], at: Self.now).get()) != nil)
        guard case .failure(let exceeded) = ledger.reserve(jobID: "b", price: Self.price, budgets: [key, team], at: Self.now) else {
            Issue.record("the team budget should refuse"); return
        }
        #expect(exceeded.standing.owner == .team("t"))
        // Nothing was reserved in the key's budget for the refused job.
        #expect(ledger.standing(of: key, at: Self.now).reserved == Self.price)
        let error = exceeded.apiError
        #expect(error.status == 402 && error.code == "budget_exceeded" && error.kind == .budget)
        #expect(error.message.contains("team t") && error.message.contains("limit 0.050") && error.message.contains("reserved 0.030")
                && error.message.contains("resets at 2026-12-01T00:00:00Z"))
    }

    @Test func settle_OnceAndInTheReservationWindow() {
        let ledger = Ledger()
        let key = ApplicableBudget(owner: .key("k"), budget: Self.budget("1.000"))
        let lateEvening = BudgetWindowTests.at(2026, 11, 21, 23, 59, 59)
        _ = ledger.reserve(jobID: "a", price: Self.price, budgets: [key], at: lateEvening)
        #expect(ledger.settle(jobID: "a", .charge) != nil)
        #expect(ledger.settle(jobID: "a", .charge) == nil)
        #expect(ledger.settle(jobID: "a", .release) == nil)
        // Settled after midnight, the spend stays in the day it was reserved in.
        #expect(ledger.standing(of: key, at: lateEvening).spent == Self.price)
        #expect(ledger.standing(of: key, at: BudgetWindowTests.at(2026, 11, 22, 0, 0, 1)).spent == .zero)
    }

    @Test func release_MakesRoomAgainAndRefundReversesACharge() {
        let ledger = Ledger()
        let key = ApplicableBudget(owner: .key("k"), budget: Self.budget("0.030"))
        _ = ledger.reserve(jobID: "a", price: Self.price, budgets: [key], at: Self.now)
        guard case .failure = ledger.reserve(jobID: "b", price: Self.price, budgets: [key], at: Self.now) else { Issue.record("full"); return }
        ledger.settle(jobID: "a", .release)
        #expect((try? ledger.reserve(jobID: "b", price: Self.price, budgets: [key], at: Self.now).get()) != nil)
        ledger.settle(jobID: "b", .charge)
        #expect(ledger.refund(jobID: "b")?.amount == Self.price)
        #expect(ledger.refund(jobID: "b") == nil)
        #expect(ledger.standing(of: key, at: Self.now).spent == .zero)
    }

    @Test func totalPeriod_NeverStartsAgain() {
        let ledger = Ledger()
        let key = ApplicableBudget(owner: .key("k"), budget: Self.budget("0.030", .total))
        _ = ledger.reserve(jobID: "a", price: Self.price, budgets: [key], at: Self.now)
        ledger.settle(jobID: "a", .charge)
        guard case .failure(let exceeded) = ledger.reserve(jobID: "b", price: Self.price, budgets: [key], at: BudgetWindowTests.at(2030, 1, 1)) else {
            Issue.record("a total budget never resets"); return
        }
        #expect(exceeded.apiError.message.contains("never resets"))
    }
}
