import ArgumentParser
import GatewayCore

/// `krea-gateway check-config --config PATH`: validate and print the resolved routes and prices.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print the resolved routing and price tables.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try loadOrExit(options.config)
        print(configuration.renderResolvedTables())
        print("configuration \(options.config) is valid")
    }
}
