import GatewayCore
import GatewayTestSupport
import Storage
import Synchronization
import Testing
@testable import GatewayApp

/// Settlement on its own: the ledger, the store, the outbox and the rate limiter, no socket.
@Suite("Settlement")
struct SettlementTests {
    /// Delivery ids handed to the deliverer.
    final class Started: Sendable {
        let ids = Mutex<[String]>([])
    }

    struct Fixture {
        let clock = ManualClock()
        let store: any StateStore
        let ledger = Ledger()
        let rateLimiter = RateLimiter()
        let keys: KeyRing
        let outbox: JournaledOutbox
        let started = Started()
        let settlement: Settlement
        let budget = ApplicableBudget(owner: .team("design"), budget: .init(limit: Money(micros: 1_000_000), period: .monthly))

        init(defaultSecret: Secret? = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), store: any StateStore = MemoryStateStore(retaining: true)) throws {
            self.store = store
            let configuration = try ConfigLoader.parse(yaml: """
                admin: {master_key: "m"}
                providers: {krea: {kind: krea, base_url: "http://127.0.0.1:9", api_key: "k"}}
                models: {m: {provider: krea, upstream_model: "krea-2/medium", price: {base_usd: "0.030"}}}
                keys: [{id: key-a, name: "A", key: "kgw_settle_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]
                """, environment: [:])
            keys = KeyRing(configuration: configuration)
            outbox = JournaledOutbox(stateStore: store)
            let started = self.started
            settlement = Settlement(
                keys: keys, ledger: ledger, rateLimiter: rateLimiter, outbox: outbox, stateStore: store,
                defaultWebhookSecret: defaultSecret, clock: clock, startDelivery: { id in started.ids.withLock { $0.append(id) } })
        }

        /// A job of key-a holding 0.030 in the design budget, ended as `status`.
        func endedJob(_ status: JobStatus, webhook: String? = "https://hooks.example.com/x") -> Job {
            var job = Job(id: GenerationID.make(at: clock.now()), ownerKeyID: "key-a", model: "m", provider: "krea", providerModel: "krea-2/medium",
                          cost: Money(micros: 30_000), createdAt: clock.now(), metadata: nil, webhookURL: webhook)
            _ = ledger.reserve(jobID: job.id, price: job.cost, budgets: [budget], at: clock.now())
            rateLimiter.resumeRunning(keyID: "key-a")
            job.status = status
            job.billingStatus = status == .completed ? .charged : .released
            return job
        }

        var standing: BudgetStanding { ledger.standing(of: budget, at: clock.now()) }
    }

    @Test func aCompletedJobIsChargedOnceWithOneEvent() async throws {
        let fixture = try Fixture()
        let job = fixture.endedJob(.completed)
        fixture.settlement.settle(job)
        fixture.settlement.settle(job)  // seen again (a late callback): nothing more happens
        #expect(fixture.standing.spent == Money(micros: 30_000) && fixture.standing.reserved == .zero)
        try await eventually { !fixture.started.ids.withLock { $0 }.isEmpty }
        try await Task.sleep(for: .milliseconds(20))
        #expect(fixture.started.ids.withLock { $0 } == ["msg_" + job.id])
        let stored = try await fixture.store.load()
        #expect(stored.ledger.map(\.kind) == [.charge])
        #expect(stored.deliveries.map(\.id) == ["msg_" + job.id])
        #expect(stored.deliveries.first?.type == "generation.completed")
        #expect(stored.jobs.first?.status == .completed)
        #expect(fixture.rateLimiter.counts(keyID: "key-a", at: fixture.clock.now()).running == 0)
    }

    @Test func aFailedJobIsReleased() async throws {
        let fixture = try Fixture()
        fixture.settlement.settle(fixture.endedJob(.failed))
        #expect(fixture.standing.spent == .zero && fixture.standing.reserved == .zero)
        #expect(try await fixture.store.load().ledger.map(\.kind) == [.release])
    }

    /// A job without a webhook, or with nothing to sign its event with, gets no event.
    @Test func noWebhookOrNoSecretMeansNoEvent() async throws {
        let plain = try Fixture()
        plain.settlement.settle(plain.endedJob(.completed, webhook: nil))
        let unsigned = try Fixture(defaultSecret: nil)
        unsigned.settlement.settle(unsigned.endedJob(.completed))
        for fixture in [plain, unsigned] {
            #expect(fixture.started.ids.withLock { $0 }.isEmpty)
            #expect(try await fixture.store.load().deliveries.isEmpty)
            #expect(fixture.standing.spent == Money(micros: 30_000))
        }
    }

    /// The event's time is the clock's, so a test sees the dates it set.
    @Test func theEventIsStampedByTheClock() throws {
        let fixture = try Fixture()
        fixture.clock.advance(by: .seconds(90))
        let event = try #require(fixture.settlement.event(for: fixture.endedJob(.completed), at: fixture.clock.now()))
        #expect(event.createdAt == fixture.clock.now())
    }

    /// The first attempt waits for the transaction that holds the outcome and the event: until
    /// the store says it is durable, nothing is sent.
    @Test func theEventIsSentOnlyOnceItsTransactionIsDurable() async throws {
        let gate = ControllableStore()
        gate.holdDurability()
        let fixture = try Fixture(store: gate)
        fixture.settlement.settle(fixture.endedJob(.completed))
        try await eventually { gate.waiting > 0 }
        try await Task.sleep(for: .milliseconds(30))
        #expect(gate.waiting == 1 && fixture.started.ids.withLock { $0 }.isEmpty, "nothing sent before the write is durable")
        gate.open()
        try await eventually { !fixture.started.ids.withLock { $0 }.isEmpty }
        #expect(fixture.started.ids.withLock { $0 }.count == 1)
    }
}
