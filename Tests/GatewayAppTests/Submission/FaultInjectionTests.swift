import Foundation
import GatewayCore
import NIOHTTP1
import Testing
@testable import GatewayApp
#if canImport(Glibc)
import Glibc
#endif

/// Fault injection against the simulators (issue: proof of quality): for each fault, the
/// documented status or job outcome, no crash, and no money leaked — after every case the
/// ledger's spent + reserved per budget equals what the jobs say.
@Suite("Fault injection")
struct FaultInjectionTests {
    static let keys = """
        keys:
          - {id: key-a, name: "A", key: "\(GatewayHarness.keyA)", budget: {limit_usd: "100.000", period: total}}
        """

    /// Spent + reserved of key-a in the ledger equals the sum over its jobs that hold or spent
    /// money; every job is in one of the three billing states that match its status.
    static func expectLedgerMatchesJobs(_ harness: GatewayHarness, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let totals = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }
        let ledger = totals.reduce(Money.zero) { $0 + $1.spent + $1.reserved }
        let jobs = harness.application.jobs.residentJobs.filter { $0.ownerKeyID == "key-a" }
        let held = jobs.filter { $0.billingStatus != .released }.reduce(Money.zero) { $0 + $1.cost }
        #expect(ledger == held, "\(label): ledger \(ledger.apiString) vs jobs \(held.apiString)", sourceLocation: sourceLocation)
        for job in jobs {
            let consistent = switch job.billingStatus {
            case .reserved: !job.status.isTerminal
            case .charged: job.status == .completed || job.status == .failed
            case .released: job.status == .failed || job.status == .cancelled
            }
            #expect(consistent, "\(label): job \(job.id) is \(job.status.rawValue) with billing \(job.billingStatus.rawValue)", sourceLocation: sourceLocation)
        }
    }

    static func waitAllTerminal(_ harness: GatewayHarness, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while harness.application.jobs.residentJobs.contains(where: { !$0.status.isTerminal }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func providerAnswersThatAreSlowGarbledOrMisshapenKeepTheJobChargedAndAnswerTheDocumentedStatus() async throws {
        // Generous provider timeout: on a loaded CI machine a garbage answer must still come back
        // before it (0.5 s was missed once); the slow case sleeps well past it.
        let harness = try await GatewayHarness(providerTimeout: 2, keysYAML: Self.keys)
        for (prompt, status, code) in [
            ("[sim:delay=4000]", 504, "upstream_timeout"), ("[sim:garbage]", 502, "upstream_error"), ("[sim:wrongshape]", 502, "upstream_error"),
        ] {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p \#(prompt)"}"#)
            #expect(reply.status == status && reply.error["code"] as? String == code, "\(prompt): \(reply.text)")
            // The provider may have created (and billed) it: kept, failed, charged.
            let kept = try #require(harness.application.jobs.job(id: reply.header("X-Generation-Id") ?? ""))
            #expect(kept.status == .failed && kept.billingStatus == .charged)
            Self.expectLedgerMatchesJobs(harness, prompt)
        }
        #expect(try await harness.send(.GET, "/healthz", key: nil).status == 200)
        await harness.stop()
    }

    @Test func stormsOf429And5xxAreRefusedWithNothingHeldAndAnAliasFallsBack() async throws {
        let harness = try await GatewayHarness(keysYAML: Self.keys)
        harness.krea.injectSubmissionFailures(status: 429, count: 20)
        for _ in 0..<20 {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#)
            #expect(reply.status == 503 && reply.error["code"] as? String == "upstream_unavailable" && reply.header("Retry-After") != nil)
        }
        harness.krea.injectSubmissionFailures(status: 500, count: 10)
        for _ in 0..<10 { #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).status == 502) }
        #expect(harness.application.jobs.residentJobs.isEmpty, "refused submissions keep no job")
        Self.expectLedgerMatchesJobs(harness, "after the storms")
        // A burst on the alias's first target: every request lands on the second, at its price.
        harness.evolink.injectSubmissionFailures(status: 503, count: 5)
        for _ in 0..<5 {
            let reply = try await harness.generate(#"{"model":"fast","prompt":"p"}"#)
            #expect(reply.status == 202 && reply.json["provider"] as? String == "krea" && reply.header("X-Gateway-Cost-USD") == "0.030")
        }
        // And the storm is over: the provider takes work again.
        #expect(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).status == 202)
        try await Self.waitAllTerminal(harness)
        Self.expectLedgerMatchesJobs(harness, "after the fallbacks")
        await harness.stop()
    }

    @Test func aProviderThatResetsEveryConnectionIsAConnectionErrorWithNothingHeld() async throws {
        let resetter = try ResettingListener()
        let harness = try await GatewayHarness(providerTimeout: 1, keysYAML: Self.keys, kreaURL: "http://127.0.0.1:\(resetter.port)")
        for _ in 0..<5 {
            let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#)
            #expect([502, 503].contains(reply.status), "\(reply.status) \(reply.text)")
            #expect(reply.error["type"] as? String == "upstream_error")
        }
        #expect(resetter.accepted >= 5)
        Self.expectLedgerMatchesJobs(harness, "after resets")
        // The gateway itself is unharmed, and the other provider still works.
        #expect(try await harness.generate(#"{"model":"krea-2-turbo","prompt":"p"}"#).status == 202)
        await harness.stop()
        resetter.stop()
    }

    @Test func duplicatedLateUnknownAndForgedCallbacksSettleEachJobOnce() async throws {
        let harness = try await GatewayHarness(callbacks: true, stepDelay: .milliseconds(30), pollInterval: 5, keysYAML: Self.keys, callbackCopies: 3)
        var ids: [String] = []
        for _ in 0..<5 {
            ids.append(try #require(try await harness.generate(#"{"model":"krea-2-medium","prompt":"p"}"#).json["id"] as? String))
        }
        try await Self.waitAllTerminal(harness)
        for id in ids { #expect(harness.application.jobs.job(id: id)?.status == .completed) }
        let tokens = CallbackToken(masterKey: GatewayHarness.masterKey)
        // Late and repeated: the job is re-read from the provider, nothing changes.
        for id in ids {
            let late = try await harness.send(.POST, "/v1/provider-callbacks/\(id)/\(tokens.token(for: id))", key: nil, json: #"{"status":"processing"}"#)
            #expect(late.status == 200)
        }
        // Unknown job, forged token: 404, nothing read.
        #expect(try await harness.send(.POST, "/v1/provider-callbacks/gen_unknown/\(tokens.token(for: "gen_unknown"))", key: nil, json: "{}").status == 404)
        #expect(try await harness.send(.POST, "/v1/provider-callbacks/\(ids[0])/\(String(repeating: "0", count: 32))", key: nil, json: "{}").status == 404)
        try await Task.sleep(for: .milliseconds(200))
        Self.expectLedgerMatchesJobs(harness, "after callbacks")
        let charged = harness.application.ledger.allTotals.filter { $0.owner == .key("key-a") }.reduce(Money.zero) { $0 + $1.spent }
        #expect(charged == Money(micros: 150_000), "five jobs charged once each")
        await harness.stop()
    }

    @Test func aProviderThatNeverFinishesEndsAtMaxAgeCharged() async throws {
        let harness = try await GatewayHarness(extraYAML: "jobs: {max_age_s: 0.5}", keysYAML: Self.keys)
        let reply = try await harness.generate(#"{"model":"krea-2-medium","prompt":"p [sim:never]"}"#)
        let done = try await harness.waitTerminal(try #require(reply.json["id"] as? String))
        #expect(done.json["status"] as? String == "failed" && done.json["billing_status"] as? String == "charged")
        Self.expectLedgerMatchesJobs(harness, "after max_age")
        await harness.stop()
    }
}

/// A TCP listener that accepts every connection, reads a little, and closes it with a reset
/// (SO_LINGER 0): a provider that drops every request.
final class ResettingListener: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let counter = NSLock()
    private var count = 0
    /// Signalled when the accepting thread has returned.
    private let finished = DispatchSemaphore(value: 0)

    var accepted: Int { counter.lock(); defer { counter.unlock() }; return count }

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        listen(descriptor, 64)
        let thread = Thread { [self] in
            defer { finished.signal() }
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { return }
                counter.lock(); count += 1; counter.unlock()
                var buffer = [UInt8](repeating: 0, count: 512)
                _ = recv(client, &buffer, buffer.count, 0)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(client)
            }
        }
        thread.start()
    }

    /// Wakes the accepting thread and closes the listening socket once that thread is gone: a
    /// thread that called `accept` on a closed number could take a connection from whatever
    /// socket the number was given to next. If it does not return in time the socket is left
    /// open rather than risk that.
    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        guard finished.wait(timeout: .now() + 5) == .success else { return }
        close(descriptor)
    }
}
