// GET /healthz -> 200 {"status":"ok"} (Content-Type: application/json), like the gateway and nginx.
// Usage: hummingbird-hello [PORT]   (default 8080; binds 127.0.0.1 only)
// Uses Hummingbird's defaults: the shared NIO event loop group (one loop per core).
import Hummingbird
import Logging

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8080 : 8080
let body = ByteBuffer(string: #"{"status":"ok"}"#)

let router = Router()
router.get("healthz") { _, _ -> Response in
    Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: .init(byteBuffer: body)
    )
}
var logger = Logger(label: "hummingbird-hello")
logger.logLevel = .warning
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    logger: logger
)
try await app.runService()
