import Testing
@testable import HTTPServer

@Suite("Router")
struct RouterTests {
    func request(_ method: String, _ target: String) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(
            method: method, target: target, version: .http1_1, headers: ["Host": "t"],
            framing: .none, keepAlive: true, expectsContinue: false))
    }

    func makeRouter() -> Router {
        var router = Router()
        router.add("GET", "/v1/generations") { _ in HTTPResponse(status: 200, body: "list") }
        router.add("POST", "/v1/generations") { _ in HTTPResponse(status: 202, body: "create") }
        router.add("GET", "/v1/generations/{id}") { r in HTTPResponse(status: 200, body: "get \(r.pathParameters["id"]!)") }
        router.add("DELETE", "/v1/generations/{id}") { r in HTTPResponse(status: 200, body: "delete \(r.pathParameters["id"]!)") }
        router.add("GET", "/v1/generations/special") { _ in HTTPResponse(status: 200, body: "literal") }
        router.add("POST", "/admin/keys/{id}/rotate") { r in HTTPResponse(status: 200, body: "rotate \(r.pathParameters["id"]!)") }
        return router
    }

    @Test func router_MatchesLiteralsAndParameters() async {
        let router = makeRouter()
        #expect(await router.respond(to: request("GET", "/v1/generations")).body == Array("list".utf8))
        #expect(await router.respond(to: request("GET", "/v1/generations/gen_1?x=1")).body == Array("get gen_1".utf8))
        #expect(await router.respond(to: request("DELETE", "/v1/generations/gen_2")).body == Array("delete gen_2".utf8))
        #expect(await router.respond(to: request("POST", "/admin/keys/k1/rotate")).body == Array("rotate k1".utf8))
    }

    @Test func router_LiteralWinsOverParameter() async {
        #expect(await makeRouter().respond(to: request("GET", "/v1/generations/special")).body == Array("literal".utf8))
    }

    @Test func router_ParameterFallsBackWhenTheLiteralHasNoMethod() async {
        // DELETE exists only under {id}: /special must still reach it.
        #expect(await makeRouter().respond(to: request("DELETE", "/v1/generations/special")).body == Array("delete special".utf8))
    }

    @Test func router_UnknownPathIs404AndWrongMethodIs405WithAllow() async {
        let router = makeRouter()
        #expect(await router.respond(to: request("GET", "/v2/nothing")).status == 404)
        #expect(await router.respond(to: request("GET", "/v1/generations/a/b")).status == 404)
        let wrong = await router.respond(to: request("PUT", "/v1/generations"))
        #expect(wrong.status == 405)
        #expect(wrong.headers["Allow"] == "GET, HEAD, POST")
    }

    /// A frozen router looks literal routes up by path first; it must answer exactly as the walk
    /// of the tree does (which an unfrozen router uses).
    @Test("a frozen router answers as the tree walk does", arguments: [
        ("GET", "/v1/generations"), ("POST", "/v1/generations"), ("HEAD", "/v1/generations"),
        ("PUT", "/v1/generations"), ("GET", "/v1/generations/"), ("GET", "//v1//generations"),
        ("GET", "/v1/generations/special"), ("DELETE", "/v1/generations/special"), ("HEAD", "/v1/generations/special"),
        ("GET", "/v1/generations/gen_1?x=1"), ("GET", "/v1/generations/sp%65cial"), ("POST", "/admin/keys/k1/rotate"),
        ("GET", "/v2/nothing"), ("GET", "/"), ("GET", "*"), ("GET", "http://gw.example/v1/generations"),
        ("OPTIONS", "/v1/generations/special"),
    ])
    func router_FrozenLookupMatchesTheTreeWalk(method: String, target: String) async {
        let walking = makeRouter()
        var frozen = makeRouter()
        frozen.freeze()
        let expected = await walking.respond(to: request(method, target))
        let got = await frozen.respond(to: request(method, target))
        #expect(got.status == expected.status)
        #expect(got.body == expected.body)
        #expect(got.headers["Allow"] == expected.headers["Allow"])
        #expect(got.route == expected.route)
    }

    @Test func router_RoutesAddedAfterFreezingAreFound() async {
        var router = makeRouter()
        router.freeze()
        router.add("GET", "/v1/generations") { _ in HTTPResponse(status: 200, body: "replaced") }
        router.add("GET", "/later") { _ in HTTPResponse(status: 200, body: "later") }
        #expect(await router.respond(to: request("GET", "/v1/generations")).body == Array("replaced".utf8))
        #expect(await router.respond(to: request("GET", "/later")).body == Array("later".utf8))
    }

    @Test func router_MalformedPercentEscapeDoesNotMatchAParameter() async {
        #expect(await makeRouter().respond(to: request("GET", "/v1/generations/%zz")).status == 404)
    }
}
