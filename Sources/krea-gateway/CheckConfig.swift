import ArgumentParser
import AsyncHTTPClient
import GatewayApp
import GatewayCore
import HTTPServer
import Logging
import Providers
#if canImport(Glibc)
import Glibc
#endif

/// `krea-gateway check-config --config PATH`: validate and print the resolved routes and prices.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print the resolved routing and price tables.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try loadOrExit(options.config)
        // The same start-up checks as serve (e.g. every upstream model is one its adapter serves).
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: ProviderRegistry.clientConfiguration)
        var quiet = Logger(label: "check-config")
        quiet.logLevel = .critical
        do {
            let application = try GatewayApplication(
                configuration: configuration, providers: ProviderRegistry.makeProviders(configuration, client: client), logger: quiet)
            await application.shutdown()
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            printError("configuration \(options.config) is invalid:\n\(error)")
            throw ExitCode(2)
        }
        // The TLS pair was loaded and matched above (as at start); its expiry is checked here.
        if let tls = configuration.server.tls {
            let notAfter: Int64
            do throws(TLSError) {
                notAfter = try CertificateValidity.notAfter(chainFile: tls.certificateFile)
            } catch {
                printError("configuration \(options.config) is invalid:\nserver.tls.cert_file: \(error)")
                throw ExitCode(2)
            }
            let now = Int64(time(nil))
            let expiry = Timestamp(unixMilliseconds: notAfter * 1000).rfc3339
            if notAfter <= now {
                printError("configuration \(options.config) is invalid:\nserver.tls.cert_file: the certificate expired at \(expiry)")
                throw ExitCode(2)
            }
            if notAfter - now < Self.expiryWarning {
                printError("warning: server.tls.cert_file: the certificate expires at \(expiry), within 14 days")
            }
        }
        print(configuration.renderResolvedTables())
        print("configuration \(options.config) is valid")
    }

    /// How early `check-config` warns of a certificate's expiry.
    static let expiryWarning: Int64 = 14 * 86_400
}
