import Foundation

/// Provider answers recorded as files under `Fixtures/<provider>/<name>.json`.
enum Fixture {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "no fixture \(name)" }
    }

    /// The bytes of `Fixtures/<provider>/<name>.json`.
    static func bytes(_ provider: String, _ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/\(provider)") else {
            throw Missing(name: "\(provider)/\(name).json")
        }
        return Array(try Data(contentsOf: url))
    }

    static func krea(_ name: String) throws -> [UInt8] { try bytes("krea", name) }
    static func evolink(_ name: String) throws -> [UInt8] { try bytes("evolink", name) }
}
