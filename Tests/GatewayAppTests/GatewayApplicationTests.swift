import Foundation
import GatewayCore
import Storage
import HTTPServer
import Logging
import Testing
@testable import GatewayApp

@Suite("GatewayApplication")
struct GatewayApplicationTests {
    @Test func renderError_UsesTheAPIShapeAndKeepsServerHeaders() throws {
        let response = GatewayApplication.renderError(HTTPServerError(
            status: 405, code: "method_not_allowed", message: "POST is not allowed here", headers: ["Allow": "GET, HEAD"]))
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, HEAD")
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.headers["X-Request-Id"]?.hasPrefix("req_") == true)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]]
        #expect(object?["error"]?["type"] == "invalid_request_error")
        #expect(object?["error"]?["code"] == "method_not_allowed")
    }

    @Test func requestID_EchoesASaneIDAndReplacesOthers() {
        #expect(RequestID.resolve("abc-123") == "abc-123")
        #expect(RequestID.resolve(nil).hasPrefix("req_"))
        #expect(RequestID.resolve("").hasPrefix("req_"))
        #expect(RequestID.resolve("has space").hasPrefix("req_"))
        #expect(RequestID.resolve(String(repeating: "x", count: 129)).hasPrefix("req_"))
        #expect(RequestID.resolve(String(repeating: "x", count: 128)) == String(repeating: "x", count: 128))
        #expect(RequestID.generate() != RequestID.generate())
        #expect(RequestID.generate().count == 28)
    }

    @Test func serverConfiguration_TakesEveryServerKey() throws {
        let configuration = try ConfigLoader.parse(yaml: """
            server:
              listen: "127.0.0.1:0"
              max_body_bytes: 2048
              max_connections: 7
              header_timeout_s: 0.5
              idle_timeout_s: 3
              shutdown_grace_s: 1.5
            admin: {master_key: "m"}
            providers: {krea: {kind: krea, base_url: "http://127.0.0.1:1", api_key: "k"}}
            models: {krea-2-medium: {provider: krea, upstream_model: "krea-2/medium", price: {base_usd: "0.03"}}}
            """, environment: [:])
        let server = GatewayApplication.serverConfiguration(configuration.server)
        #expect(server.host == "127.0.0.1")
        #expect(server.port == 0)
        #expect(server.limits.maxBodyBytes == 2048)
        #expect(server.maxConnections == 7)
        #expect(server.headerTimeout == .milliseconds(500))
        #expect(server.idleTimeout == .seconds(3))
        #expect(server.shutdownGrace == .milliseconds(1500))
    }

    @Test func readyz_IsReadyUntilShutdownBegins() async throws {
        var router = Router(renderError: GatewayApplication.renderError)
        let draining = DrainFlag()
        GatewayApplication.addOperationalRoutes(to: &router, draining: draining, stateStore: MemoryStateStore())
        let head = HTTPRequestHead(method: "GET", target: "/readyz", version: .http1_1, headers: ["Host": "t"],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        #expect(await router.respond(to: HTTPRequest(head: head)).status == 200)
        draining.set()
        let drainingResponse = await router.respond(to: HTTPRequest(head: head))
        #expect(drainingResponse.status == 503)
        #expect(String(decoding: drainingResponse.body, as: UTF8.self).contains("\"code\":\"draining\""))
    }
}
