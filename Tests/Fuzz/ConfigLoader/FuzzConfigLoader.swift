// libFuzzer target for the configuration loader (see Tests/Fuzz/run); without FUZZING it replays
// files through the same check.
import FuzzSupport
import GatewayCore

/// Any YAML: the loader returns a configuration or its errors, never crashes; a configuration it
/// accepts renders its tables.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let configuration = try? ConfigLoader.parse(yaml: text, environment: ["FUZZ": "x"]) {
        _ = configuration.renderResolvedTables()
    }
}

@main
struct Fuzz {
    static func main() { FuzzCorpus.main(fuzzOne) }
}
