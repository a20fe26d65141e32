import Foundation
import GatewayCore
import Testing
@testable import GatewayApp

/// `GET /openapi.json` (API.md §8) describes exactly the routes the gateway serves.
@Suite("OpenAPI document")
struct OpenAPITests {
    @Test func theDocumentIsServedAndNamesEveryRouteAndNoOther() async throws {
        let harness = try await GatewayHarness()
        let reply = try await harness.send(.GET, "/openapi.json", key: nil)
        #expect(reply.status == 200 && reply.header("Content-Type") == "application/json")
        let document = try JSONParser.parse(reply.body)
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
        guard case .object(let paths)? = document["paths"] else {
            Issue.record("no paths")
            return
        }
        var documented: Set<String> = []
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, _) in operations where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert(method.uppercased() + " " + path)
            }
        }
        let served = Set(harness.application.routeTable.map { $0.method + " " + $0.pattern })
        #expect(documented == served, "undocumented: \(served.subtracting(documented).sorted()); not served: \(documented.subtracting(served).sorted())")
        await harness.stop()
    }
}
