import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPServer

/// Certificates made by the openssl CLI for one test, in a temporary directory (no key committed):
/// a CA, a leaf it signed for `localhost` and `127.0.0.1`, and a self-signed leaf.
struct TestCertificates {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var leafFile: String { directory + "/leaf.pem" }
    var leafKey: String { directory + "/leaf.key" }
    var selfSignedFile: String { directory + "/self.pem" }
    var selfSignedKey: String { directory + "/self.key" }

    init() throws {
        directory = NSTemporaryDirectory() + "kgw-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try Self.openssl(["req", "-x509"] + curve + ["-keyout", directory + "/ca.key", "-out", caFile, "-days", "2", "-subj", "/CN=test CA"])
        try Self.openssl(["req"] + curve + ["-keyout", leafKey, "-out", directory + "/leaf.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-req", "-in", directory + "/leaf.csr", "-CA", caFile, "-CAkey", directory + "/ca.key", "-CAcreateserial",
                          "-out", leafFile, "-days", "2", "-extfile", directory + "/san.ext"])
        try Self.openssl(["req", "-x509"] + curve + ["-keyout", selfSignedKey, "-out", selfSignedFile, "-days", "2", "-subj", "/CN=localhost",
                                                     "-addext", "subjectAltName=DNS:localhost"])
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ClientError(description: "openssl \(arguments.first ?? "") failed") }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("TLS")
struct TLSTests {
    /// A TLS server on a free port answering `/healthz`.
    static func server(certificate: String, key: String) throws -> (HTTPServer, Int) {
        var router = Router()
        router.add("GET", "/healthz") { _ in HTTPResponse(status: 200, body: "ok") }
        let context = try TLSContext(configuration: TLSConfiguration(certificateChainFile: certificate, privateKeyFile: key))
        let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0, eventLoopCount: 1, tls: context), handler: router.handler)
        return (server, try server.start().port)
    }

    /// A blocking client handshake to the server as `host`; on success, one GET /healthz.
    static func exchange(port: Int, host: String, trust: TLSClientConfiguration) throws -> Result<(alpn: String?, answer: String), ClientError> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ClientError(description: "connect failed") }
        let context = try TLSContext(client: trust)
        guard let session = context.makeClientSession(fd: fd, host: host) else { throw ClientError(description: "no session") }
        // A blocking socket: the handshake runs to its end in one call.
        guard session.handshake() == .done else {
            return .failure(ClientError(description: session.verificationFailure ?? "handshake failed"))
        }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { session.send($0) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
            guard case .bytes(let count) = result, count > 0 else { break }
            answer += buffer[..<count]
        }
        return .success((session.negotiatedProtocol, String(decoding: answer, as: UTF8.self)))
    }

    @Test func aClientTrustingTheCAVerifiesTheNameAndTalksHTTP() async throws {
        let files = try TestCertificates()
        defer { files.remove() }
        let (server, port) = try Self.server(certificate: files.leafFile, key: files.leafKey)
        for host in ["localhost", "localhost.", "127.0.0.1"] {
            let outcome = try await blocking { try Self.exchange(port: port, host: host, trust: TLSClientConfiguration(caFile: files.caFile)) }
            let (alpn, answer) = try outcome.get()
            #expect(alpn == "http/1.1", "\(host)")
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.hasSuffix("ok"), "\(host): \(answer)")
        }
        await server.shutdown()
    }

    @Test func aWrongNameAnUntrustedIssuerAndAnUnknownIPAreRefused() async throws {
        let files = try TestCertificates()
        defer { files.remove() }
        let (server, port) = try Self.server(certificate: files.leafFile, key: files.leafKey)
        let trusted = TLSClientConfiguration(caFile: files.caFile)
        let wrongName = try await blocking { try Self.exchange(port: port, host: "gateway.example.com", trust: trusted) }
        #expect(wrongName.failureDescription?.contains("hostname mismatch") == true, "\(wrongName)")
        let wrongIP = try await blocking { try Self.exchange(port: port, host: "127.0.0.2", trust: trusted) }
        #expect(wrongIP.failureDescription?.contains("IP address mismatch") == true, "\(wrongIP)")
        // The system's store does not hold the test CA.
        let system = try await blocking { try Self.exchange(port: port, host: "localhost", trust: TLSClientConfiguration()) }
        #expect(system.failureDescription?.contains("local issuer") == true, "\(system)")
        await server.shutdown()
        let (selfSigned, selfPort) = try Self.server(certificate: files.selfSignedFile, key: files.selfSignedKey)
        let refused = try await blocking { try Self.exchange(port: selfPort, host: "localhost", trust: trusted) }
        #expect(refused.failureDescription?.contains("self-signed") == true, "\(refused)")
        await selfSigned.shutdown()
    }

    @Test func aContextRefusesMissingGarbledAndMismatchedFiles() throws {
        let files = try TestCertificates()
        defer { files.remove() }
        func failure(_ certificate: String, _ key: String) -> String? {
            do {
                _ = try TLSContext(configuration: TLSConfiguration(certificateChainFile: certificate, privateKeyFile: key))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(failure(files.leafFile, files.leafKey) == nil)
        #expect(failure(files.directory + "/missing.pem", files.leafKey)?.contains("cannot read the certificate chain") == true)
        #expect(failure(files.leafFile, files.directory + "/san.ext")?.contains("cannot read the private key") == true)
        let mismatch = failure(files.leafFile, files.selfSignedKey)
        #expect(mismatch?.contains("does not match") == true || mismatch?.contains("key values mismatch") == true, "\(mismatch ?? "nil")")
        #expect(mismatch?.contains("BEGIN") != true, "no key material in the error")
        #expect(try CertificateValidity.notAfter(chainFile: files.leafFile) > Int64(Date().timeIntervalSince1970) + 86_400)
    }
}

extension Result where Failure == ClientError {
    var failureDescription: String? {
        if case .failure(let error) = self { return error.description }
        return nil
    }
}
