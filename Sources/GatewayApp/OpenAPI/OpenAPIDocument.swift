/// The OpenAPI 3.1 document of every route (API.md §8), served at `GET /openapi.json`:
/// `Resources/openapi.json`, embedded in the binary at build time. `OpenAPITests` checks that it
/// names exactly the routes the gateway registers; `Tests/peer/openapi_peer.py` runs schemathesis
/// against the live gateway with it.
enum OpenAPIDocument {
    static let json = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
