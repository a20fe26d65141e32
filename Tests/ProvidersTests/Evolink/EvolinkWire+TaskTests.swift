import GatewayCore
@testable import Providers
import Testing

@Suite struct EvolinkWireTaskTests {
    static let taskID = "task-unified-1763719200-a1b2c3d4"

    @Test func snapshot_SubmissionAnswerIsQueued() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("submission"))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.taskID, status: .queued, providerStatus: "pending"))
    }

    @Test(arguments: [("pending", JobStatus.queued), ("processing", .running)])
    func snapshot_MapsNonTerminalStatuses(evolinkStatus: String, expected: JobStatus) throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_\(evolinkStatus)"))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.taskID, status: expected, providerStatus: evolinkStatus))
    }

    @Test func snapshot_CompletedCarriesResults() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_completed"))
        #expect(snapshot.status == .completed)
        #expect(snapshot.resultURLs == ["https://files.evolink.ai/output/task-unified-1763719200-a1b2c3d4/0.png"])
    }

    @Test func snapshot_FailedWithStringCode() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_failed_string_code"))
        #expect(snapshot.status == .failed)
        #expect(snapshot.providerStatus == "failed")
        #expect(snapshot.error == JobError(code: "upstream_error", message: "generation_timeout: Generation timed out"))
    }

    @Test func snapshot_FailedWithIntegerCode() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_failed_integer_code"))
        #expect(snapshot.status == .failed)
        #expect(snapshot.error == JobError(code: "upstream_error", message: "500: Service error, please retry"))
    }

    @Test func snapshot_FailedByContentPolicy() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_failed_content_policy"))
        #expect(snapshot.status == .failed)
        #expect(snapshot.error?.code == "content_policy_violation")
    }

    @Test func snapshot_RequestCancelledIsCancelled() throws {
        let snapshot = try EvolinkWire.snapshot(from: Fixture.evolink("task_failed_request_cancelled"))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: Self.taskID, status: .cancelled, providerStatus: "failed"))
    }

    @Test func snapshot_FailedWithoutErrorIsUpstreamError() throws {
        let snapshot = try EvolinkWire.snapshot(from: Array(#"{"id":"t1","status":"failed"}"#.utf8))
        #expect(snapshot.error == JobError(code: "upstream_error", message: "the provider reported the task as failed without a reason"))
    }

    @Test func snapshot_UnknownStatusKeepsPolling() throws {
        let snapshot = try EvolinkWire.snapshot(from: Array(#"{"id":"t1","status":"queued_for_gpu"}"#.utf8))
        #expect(snapshot == ProviderJobSnapshot(providerJobID: "t1", status: .running, providerStatus: "queued_for_gpu"))
    }

    @Test(arguments: [
        "<html>",
        #"{"status":"pending"}"#,
        #"{"id":"t1"}"#,
        #"{"id":"t1","status":"completed"}"#,
        #"{"id":"t1","status":"completed","results":[]}"#,
        #"{"id":"t1","status":"completed","results":[1]}"#,
    ])
    func snapshot_RefusesWronglyShapedAnswers(body: String) {
        let error = #expect(throws: ProviderError.self) { try EvolinkWire.snapshot(from: Array(body.utf8)) }
        #expect(error?.kind == .invalidResponse)
    }

    @Test func taskID_InCallbackIsTheID() throws {
        #expect(EvolinkWire.taskID(inCallback: try Fixture.evolink("task_completed")) == Self.taskID)
        #expect(EvolinkWire.taskID(inCallback: Array(#"{"job_id":"x"}"#.utf8)) == nil)
    }
}
