import GatewayCore
import Logging
import Providers
import Storage

extension GatewayApplication {
    /// Opens the state store `state.dir` names (SQLite in WAL mode there; memory for `""`),
    /// builds the application over it and recovers what it holds. An unusable store is a
    /// start-up error, never a silent fallback to memory.
    public static func open(configuration: GatewayConfiguration, providers: [String: any ImageProvider], keepingFinishedJobs: Int? = nil,
                            logger: Logger) async throws(StartupError) -> GatewayApplication {
        let stateStore: any StateStore
        if let directory = configuration.state.directory {
            do {
                stateStore = try await SQLiteStateStore.open(directory: directory)
            } catch {
                throw StartupError(description: error.description)
            }
        } else {
            stateStore = MemoryStateStore()
        }
        let application: GatewayApplication
        do {
            application = try GatewayApplication(configuration: configuration, providers: providers, stateStore: stateStore, keepingFinishedJobs: keepingFinishedJobs, logger: logger)
        } catch {
            await stateStore.close()
            throw error
        }
        do {
            try await application.recover()
        } catch {
            await stateStore.close()
            throw error
        }
        return application
    }

    /// Start-up recovery: loads keys, teams, the ledger, jobs and the outbox back into memory,
    /// then ends what a crash left half-done and resumes the rest — polling of open jobs,
    /// delivery of pending webhooks. Call once, before `start()`.
    public func recover() async throws(StartupError) {
        let state: StoredState
        do {
            state = try await stateStore.load(keepingFinished: jobs.keepingFinished)
        } catch {
            throw StartupError(description: error.description)
        }
        for ignored in keys.restore(keys: state.keys, teams: state.teams) {
            logger.warning("stored admin key or team ignored: the configuration now declares the same id", metadata: ["id": "\(ignored)"])
        }
        ledger.restore(totals: state.ledgerBalances.map { ($0.owner, $0.window, $0.spent, $0.reserved) }, entries: state.ledger)
        jobs.restore(state.jobs, tally: state.jobTally)
        outbox.restore(state.deliveries)
        idempotency.restore(state.idempotency)
        for counted in state.requestCounts { rateLimiter.count(keyID: counted.keyID, in: counted.window, requests: counted.count) }

        var repairs: [StateChange] = []
        var resumed = 0, interrupted = 0
        let deliveryIDs = Set(state.deliveries.map(\.jobID))
        for job in state.jobs {
            if !job.status.isTerminal {
                rateLimiter.resumeRunning(keyID: job.ownerKeyID)
                if job.providerJobID == nil {
                    // Stopped between reserving and recording the provider's answer: the client
                    // never got a 202, but the provider may have created (and billed) the job.
                    interrupted += 1
                    tracker.fail(jobID: job.id, error: JobError(
                        code: "submission_interrupted",
                        message: "the gateway stopped while submitting this generation; the provider may have created it, so it is charged"))
                } else {
                    resumed += 1
                    tracker.track(job)
                }
                continue
            }
            // A terminal job whose settlement or event did not reach the disk with it (an older
            // build wrote them apart): finish both now.
            if let open = ledger.reservation(jobID: job.id) {
                let charged = job.billingStatus == .charged
                ledger.settle(jobID: job.id, charged ? .charge : .release)
                repairs += open.entries(charged ? .charge : .release, jobID: job.id, at: clock.now()).map(StateChange.ledger)
            }
            if !deliveryIDs.contains(job.id), let delivery = settlement.event(for: job, at: clock.now()) {
                outbox.insert(delivery, together: [])
            }
        }
        if !repairs.isEmpty { _ = stateStore.enqueue(repairs) }
        do {
            try await stateStore.commit([])
        } catch {
            throw StartupError(description: "cannot record the recovery in \(stateStore.location): \(error)")
        }
        webhooks.resumePending()
        logger.info("state recovered", metadata: [
            "store": "\(stateStore.location)", "jobs_in_memory": "\(state.jobs.count)",
            "jobs_stored": "\(state.jobTally.groups.values.reduce(0) { $0 + $1.count })", "resumed_jobs": "\(resumed)",
            "interrupted_submissions": "\(interrupted)", "pending_webhooks": "\(outbox.deliveries(state: .pending).count)",
            "ledger_entries": "\(state.ledger.count)", "admin_keys": "\(state.keys.count)"])
    }
}
