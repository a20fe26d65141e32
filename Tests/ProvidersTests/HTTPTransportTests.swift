import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import NIOCore
@testable import Providers
import Testing

@Suite struct HTTPTransportTests {
    static func classify(_ error: any Error, sent: Bool) -> ProviderError {
        HTTPTransport.transportError(error, requestSent: sent, timeout: .seconds(30), providerName: "krea")
    }

    @Test func transportError_DeadlineAndTimeoutsAreTimeout() {
        for error in [HTTPClientError.deadlineExceeded, .readTimeout, .writeTimeout] {
            let mapped = Self.classify(error, sent: true)
            #expect(mapped.kind == .timeout)
            #expect(mapped.jobMayExist)
            #expect(mapped.message == "no answer from provider krea within 30 s")
        }
        // Kept conservative even when the head-sent signal did not arrive (it can lose a race).
        #expect(Self.classify(HTTPClientError.deadlineExceeded, sent: false).kind == .timeout)
    }

    @Test func transportError_BeforeTheRequestWentOutIsConnectionFailed() {
        let refused = Self.classify(IOError(errnoCode: ECONNREFUSED, reason: "connect"), sent: false)
        #expect(refused.kind == .connectionFailed)
        #expect(refused.allowsFallback)
        #expect(refused.message == "could not reach provider krea (connection refused)")
        #expect(Self.classify(HTTPClientError.connectTimeout, sent: false).message == "could not reach provider krea (connect timeout)")
        #expect(Self.classify(HTTPClientError.remoteConnectionClosed, sent: false).kind == .connectionFailed)
        #expect(Self.classify(HTTPClientError.cancelled, sent: false).kind == .connectionFailed)
    }

    @Test func transportError_AfterTheRequestWentOutMayHaveCreatedAJob() {
        let closed = Self.classify(HTTPClientError.remoteConnectionClosed, sent: true)
        #expect(closed.kind == .invalidResponse)
        #expect(closed.jobMayExist)
        #expect(!closed.allowsFallback)
        #expect(closed.message == "the connection to provider krea failed after the request was sent (remote closed the connection)")
        #expect(Self.classify(IOError(errnoCode: ECONNRESET, reason: "read"), sent: true).kind == .invalidResponse)
        #expect(Self.classify(HTTPClientError.cancelled, sent: true).kind == .timeout)
        #expect(Self.classify(HTTPTransport.ResponseCollector.BodyTooLarge(), sent: true).kind == .invalidResponse)
    }

    @Test func pathSegment_OnlyUnreservedIDs() {
        #expect(HTTPTransport.pathSegment(forJobID: "5f0c1a52-3b7e-4d4a-9e1f-0a2b3c4d5e6f") != nil)
        #expect(HTTPTransport.pathSegment(forJobID: "task-unified-1763719200-a1b2c3d4") != nil)
        for bad in ["", ".", "..", "a/b", "a?b", "a#b", "a b", "%2e%2e", "ünï", String(repeating: "a", count: 257)] {
            #expect(HTTPTransport.pathSegment(forJobID: bad) == nil, "\(bad)")
        }
        #expect(HTTPTransport.percentEncoded("a b/ü") == "a%20b%2F%C3%BC")
        #expect(HTTPTransport.pathSegments(forModel: "krea-2/medium") == "krea-2/medium")
        // Names that need encoding or have empty segments take the general path.
        #expect(HTTPTransport.pathSegments(forModel: "/krea 2//médium/") == "krea%202/m%C3%A9dium")
        #expect(HTTPTransport.pathSegments(forModel: "a//b") == "a/b")
        #expect(HTTPTransport.pathSegments(forModel: "a?b/c#d") == "a%3Fb/c%23d")
    }

    @Test func describe_Durations() {
        #expect(HTTPTransport.describe(.seconds(30)) == "30 s")
        #expect(HTTPTransport.describe(.milliseconds(300)) == "0.3 s")
        #expect(HTTPTransport.describe(.milliseconds(1250)) == "1.25 s")
        #expect(HTTPTransport.timeAmount(.milliseconds(1250)) == .milliseconds(1250))
    }

    @Test func redacting_ScrubsTheKey() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let transport = HTTPTransport(providerName: "krea", configuration: providerConfiguration(.krea, baseURL: "http://127.0.0.1:1/"), client: client)
        #expect(transport.baseURL == "http://127.0.0.1:1")
        #expect(transport.redacting("bad token \(testAPIKey)!") == "bad token <redacted>!")
        let error = transport.redacting(ProviderError(kind: .authentication, message: "key \(testAPIKey)"))
        #expect(!error.message.contains(testAPIKey))
        try await client.shutdown()
    }
}
