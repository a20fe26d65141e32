import Testing
@testable import GatewayCore

@Suite("RateLimiter")
struct RateLimiterTests {
    @Test func rpm_IsARollingMinuteWithRetryAfter() {
        let limiter = RateLimiter()
        let limits = RateLimiter.Limits(rpm: 3, maxConcurrent: nil)
        let start = Timestamp(unixMilliseconds: 1_000_000)
        for offset in [0, 10_000, 20_000] {
            #expect((try? limiter.admit(keyID: "k", limits: limits, at: start.adding(.milliseconds(offset))).get()) != nil)
        }
        guard case .failure(let refused) = limiter.admit(keyID: "k", limits: limits, at: start.adding(.seconds(30))) else {
            Issue.record("the fourth request in a minute is refused"); return
        }
        #expect(refused.status == 429 && refused.code == "rate_limited")
        #expect(refused.retryAfterSeconds == 30)
        // One minute after the first request, room again.
        #expect((try? limiter.admit(keyID: "k", limits: limits, at: start.adding(.milliseconds(60_001))).get()) != nil)
    }

    @Test func maxConcurrent_CountsRunningJobs() {
        let limiter = RateLimiter()
        let limits = RateLimiter.Limits(rpm: nil, maxConcurrent: 2)
        let now = Timestamp(unixMilliseconds: 5_000)
        _ = limiter.admit(keyID: "k", limits: limits, at: now)
        _ = limiter.admit(keyID: "k", limits: limits, at: now)
        guard case .failure(let refused) = limiter.admit(keyID: "k", limits: limits, at: now) else { Issue.record("third refused"); return }
        #expect(refused.code == "too_many_concurrent_jobs")
        #expect(refused.retryAfterSeconds != nil)
        limiter.finished(keyID: "k")
        #expect((try? limiter.admit(keyID: "k", limits: limits, at: now).get()) != nil)
        #expect(limiter.counts(keyID: "k", at: now).running == 2)
    }

    @Test func rollBack_UndoesAnAdmission() {
        let limiter = RateLimiter()
        let limits = RateLimiter.Limits(rpm: 1, maxConcurrent: 1)
        let now = Timestamp(unixMilliseconds: 9_000)
        _ = limiter.admit(keyID: "k", limits: limits, at: now)
        limiter.rollBack(keyID: "k", admittedAt: now)
        #expect((try? limiter.admit(keyID: "k", limits: limits, at: now).get()) != nil)
    }
}
