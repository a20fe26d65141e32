import GatewayCore
@testable import Providers
import Testing

@Suite struct KreaWireJobTests {
    static let jobID = "5f0c1a52-3b7e-4d4a-9e1f-0a2b3c4d5e6f"

    @Test(arguments: [
        ("backlogged", JobStatus.queued), ("queued", .queued), ("scheduled", .queued),
        ("processing", .running), ("sampling", .running), ("intermediate-complete", .running),
    ])
    func snapshot_MapsNonTerminalStatuses(kreaStatus: String, expected: JobStatus) throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_\(kreaStatus)"))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.jobID, status: expected, providerStatus: kreaStatus))
    }

    @Test func snapshot_CompletedCarriesResultURLs() throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_completed"))
        #expect(snapshot.status == .completed)
        #expect(snapshot.providerStatus == "completed")
        #expect(snapshot.resultURLs == ["https://gen.krea.ai/images/9b2e4f10-1c3d-4e5f-8a9b-0c1d2e3f4a5b.png"])
        #expect(snapshot.error == nil)
    }

    @Test func snapshot_FailedWithStringError() throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_failed_string_error"))
        #expect(snapshot.status == .failed)
        #expect(snapshot.error == JobError(code: "upstream_error", message: "The sampler ran out of memory"))
    }

    @Test func snapshot_FailedWithObjectError() throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_failed_object_error"))
        #expect(snapshot.status == .failed)
        #expect(snapshot.error == JobError(code: "upstream_error", message: "Generation failed, please retry (internal)"))
    }

    @Test func snapshot_FailedByContentPolicy() throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_failed_content_policy"))
        #expect(snapshot.error?.code == "content_policy_violation")
        #expect(snapshot.error?.message == "Prompt rejected by our content policy")
    }

    @Test func snapshot_Cancelled() throws {
        let snapshot = try KreaWire.snapshot(from: Fixture.krea("job_cancelled"))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.jobID, status: .cancelled, providerStatus: "cancelled"))
    }

    @Test func jobError_Shapes() {
        #expect(KreaWire.jobError(from: nil) == JobError(code: "upstream_error", message: "the provider reported the job as failed without a reason"))
        #expect(KreaWire.jobError(from: .null).code == "upstream_error")
        #expect(KreaWire.jobError(from: .object([("code", .string("nsfw_content"))])).code == "content_policy_violation")
        #expect(KreaWire.jobError(from: .object([("code", .string("oom"))])).code == "upstream_error")
        #expect(KreaWire.jobError(from: .object([("code", .string("content_policy_violation"))])) ==
                JobError(code: "content_policy_violation", message: "the provider reported content_policy_violation"))
        #expect(KreaWire.jobError(from: .object([("detail", .string("NSFW content detected"))])).code == "content_policy_violation")
        #expect(KreaWire.jobError(from: .object([("code", .number("13"))])).message == "the provider reported 13")
        #expect(KreaWire.jobError(from: .object([("weird", .bool(true))])).message == #"{"weird":true}"#)
        let long = String(repeating: "x", count: 1000)
        #expect(KreaWire.jobError(from: .string(long)).message.count == ProviderText.maxMessageLength + 1)
    }

    // "Terminal ⇔ completed_at is set": when they disagree, the status wins.
    @Test func snapshot_StatusWinsOverCompletedAt() throws {
        let completedNoTimestamp = #"{"job_id":"j1","status":"completed","completed_at":null,"result":{"urls":["https://gen.krea.ai/images/a.png"]}}"#
        #expect(try KreaWire.snapshot(from: Array(completedNoTimestamp.utf8)).status == .completed)
        let runningWithTimestamp = #"{"job_id":"j1","status":"processing","completed_at":"2026-11-21T10:00:21Z","result":null}"#
        #expect(try KreaWire.snapshot(from: Array(runningWithTimestamp.utf8)).status == .running)
    }

    @Test func snapshot_UnknownStatusDecidedByCompletedAt() throws {
        let open = #"{"job_id":"j1","status":"upscaling","completed_at":null,"result":null}"#
        #expect(try KreaWire.snapshot(from: Array(open.utf8)) == ProviderJobSnapshot(providerJobID: "j1", status: .running, providerStatus: "upscaling"))
        let doneWithURLs = #"{"job_id":"j1","status":"finished","completed_at":"2026-11-21T10:00:21Z","result":{"urls":["https://gen.krea.ai/images/a.png"]}}"#
        #expect(try KreaWire.snapshot(from: Array(doneWithURLs.utf8)).status == .completed)
        let doneWithout = #"{"job_id":"j1","status":"errored","completed_at":"2026-11-21T10:00:21Z","result":null}"#
        let failed = try KreaWire.snapshot(from: Array(doneWithout.utf8))
        #expect(failed.status == .failed)
        #expect(failed.error?.code == "upstream_error")
    }

    @Test(arguments: [
        "not json",
        "[]",
        #"{"status":"queued"}"#,
        #"{"job_id":"","status":"queued"}"#,
        #"{"job_id":"j1"}"#,
        #"{"job_id":7,"status":"queued"}"#,
        #"{"job_id":"j1","status":"completed","completed_at":"2026-11-21T10:00:21Z","result":null}"#,
        #"{"job_id":"j1","status":"completed","completed_at":"2026-11-21T10:00:21Z","result":{"urls":[]}}"#,
    ])
    func snapshot_RefusesWronglyShapedAnswers(body: String) {
        let error = #expect(throws: ProviderError.self) { try KreaWire.snapshot(from: Array(body.utf8)) }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.jobMayExist == true)
    }

    @Test func jobID_InCallbackIsTheJobID() throws {
        #expect(KreaWire.jobID(inCallback: try Fixture.krea("job_completed")) == Self.jobID)
        #expect(KreaWire.jobID(inCallback: Array(#"{"id":"x"}"#.utf8)) == nil)
        #expect(KreaWire.jobID(inCallback: Array("garbage".utf8)) == nil)
    }
}
