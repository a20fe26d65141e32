import Foundation
import Testing
@testable import GatewayCore

@Suite("Job, ids and timestamps")
struct JobTests {
    @Test func generationID_IsWellFormedAndSortsByTime() {
        let early = GenerationID.make(at: Timestamp(unixMilliseconds: 1_763_700_000_000))
        let late = GenerationID.make(at: Timestamp(unixMilliseconds: 1_763_700_000_001))
        #expect(GenerationID.isWellFormed(early))
        #expect(early.count == 30)
        #expect(early < late)
        #expect(GenerationID.make() != GenerationID.make())
        #expect(!GenerationID.isWellFormed("gen_short"))
        #expect(!GenerationID.isWellFormed("gen_0123456789ABCDEFGHJKMNPQRU"))  // U is not Crockford
    }

    @Test func generationID_EncodesTheULIDLayout() {
        // All-zero and all-one inputs pin the bit layout: 48 bits of time, then 80 random bits.
        #expect(GenerationID.encode(milliseconds: 0, randomHigh: 0, randomLow: 0) == String(repeating: "0", count: 26))
        #expect(GenerationID.encode(milliseconds: 0xFFFF_FFFF_FFFF, randomHigh: .max, randomLow: .max) == "7" + String(repeating: "Z", count: 25))
        #expect(GenerationID.encode(milliseconds: 1, randomHigh: 0, randomLow: 0) == "000000000" + "1" + String(repeating: "0", count: 16))
    }

    @Test func timestamp_FormatsRFC3339UTC() {
        #expect(Timestamp(unixMilliseconds: 1_795_255_200_000).rfc3339 == "2026-11-21T10:00:00Z")
        #expect(Timestamp(unixMilliseconds: 951_782_400_999).rfc3339 == "2000-02-29T00:00:00Z")
        #expect(Timestamp(unixMilliseconds: 0).adding(.seconds(90)).rfc3339 == "1970-01-01T00:01:30Z")
    }

    @Test func job_RendersTheAPIObject() throws {
        var job = Job(id: "gen_01", ownerKeyID: "k", model: "fast", provider: "evolink", providerModel: "krea-2-turbo",
                      cost: Money(parsing: "0.0067")!, createdAt: Timestamp(unixMilliseconds: 1_795_255_200_000),
                      metadata: .object([("ticket", .string("DES-42"))]))
        var object = try JSONSerialization.jsonObject(with: Data(job.jsonObject.utf8)) as! [String: Any]
        #expect(object["status"] as? String == "queued")
        #expect(object["cost_usd"] as? String == "0.0067")
        #expect(object["billing_status"] as? String == "reserved")
        #expect(object["result"] is NSNull && object["error"] is NSNull && object["completed_at"] is NSNull)
        #expect((object["metadata"] as? [String: String]) == ["ticket": "DES-42"])
        job.status = .completed
        job.resultURLs = ["https://img/1.png"]
        job.completedAt = Timestamp(unixMilliseconds: 1_795_255_260_000)
        object = try JSONSerialization.jsonObject(with: Data(job.jsonObject.utf8)) as! [String: Any]
        #expect((object["result"] as? [String: [String]]) == ["urls": ["https://img/1.png"]])
        #expect(object["completed_at"] as? String == "2026-11-21T10:01:00Z")
    }

    @Test func money_APIStringHasAtLeastThreeDigits() {
        #expect(Money(parsing: "0.03")!.apiString == "0.030")
        #expect(Money(parsing: "0.0067")!.apiString == "0.0067")
        #expect(Money(parsing: "20")!.apiString == "20.000")
    }
}
