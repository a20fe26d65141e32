import ArgumentParser

/// `krea-gateway`: one endpoint for image generation, routed to Krea and Evolink with exact budgets.
@main
struct KreaGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "krea-gateway",
        abstract: "A self-hosted gateway for image generation with exact per-key and per-team budgets.",
        subcommands: [Serve.self, Demo.self, CheckConfig.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the subcommands that read a configuration file.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String = "config/gateway.yaml"
}
