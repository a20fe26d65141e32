import ArgumentParser
import AsyncHTTPClient
import GatewayApp
import GatewayCore
import Logging
import Providers

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
        print(configuration.renderResolvedTables())
        print("configuration \(options.config) is valid")
    }
}
