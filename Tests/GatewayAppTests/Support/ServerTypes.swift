import HTTPServer

// NIOHTTP1 (imported by the HTTP client tests) has its own HTTPHeaders and HTTPRequest; these
// aliases name our server's types where both are in scope.
typealias ServerHeaders = HTTPHeaders
typealias ServerRequest = HTTPRequest
typealias Server = HTTPServer
