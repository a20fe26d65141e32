import Foundation
import GatewayCore

/// Checks a Krea generation body against PROVIDERS.md §Krea: the root object is closed (an unknown
/// key is a 400), types and ranges are a 422.
///
/// The simulator also enforces the gateway's **Decisions** (so an adapter that forgets them fails
/// its tests): `aspect_ratio` and `resolution` are required, and every style reference and moodboard carries a
/// strength.
enum KreaRequestValidator {
    /// Why a body is refused.
    enum Refusal: Error, Equatable {
        /// 400 `{"error": …}`: not JSON, not an object, or an unknown key.
        case badRequest(String)
        /// 422 `{"message": …}`: a known key with a wrong type or value.
        case unprocessable(String)
    }

    static let aspectRatios: Set<String> = ["1:1", "4:3", "3:2", "16:9", "2.35:1", "4:5", "2:3", "9:16"]
    static let resolutions: Set<String> = ["1K"]
    static let creativities: Set<String> = ["raw", "low", "medium", "high"]
    static let knownKeys: Set<String> = [
        "prompt", "aspect_ratio", "resolution", "seed", "creativity", "image_style_references",
        "moodboards", "styles", "intensity", "complexity", "movement",
    ]

    /// The prompt of a valid body.
    static func validate(_ body: [UInt8]) throws(Refusal) -> String {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .badRequest("invalid JSON body: \(error.message)")
        }
        guard let members = value.members else { throw .badRequest("the body must be a JSON object") }
        if let unknown = members.first(where: { !knownKeys.contains($0.key) }) {
            throw .badRequest("unknown field \"\(unknown.key)\"")
        }
        guard let prompt = value["prompt"]?.stringValue, !prompt.isEmpty else {
            throw .unprocessable("prompt is required and must be a non-empty string")
        }
        try requireEnum(value, "aspect_ratio", aspectRatios, required: true)
        try requireEnum(value, "resolution", resolutions, required: true)
        try requireEnum(value, "creativity", creativities, required: false)
        try requireInteger(value["seed"], "seed", 0...2_147_483_647)
        for slider in ["intensity", "complexity", "movement"] {
            try requireInteger(value[slider], slider, -100...100)
        }
        try validateStyleReferences(value["image_style_references"])
        try validateMoodboards(value["moodboards"])
        try validateStyles(value["styles"])
        return prompt
    }

    private static func requireEnum(_ value: JSONValue, _ key: String, _ allowed: Set<String>, required: Bool) throws(Refusal) {
        guard let field = value[key] else {
            if required { throw .unprocessable("\(key) is required") }
            return
        }
        guard let text = field.stringValue, allowed.contains(text) else {
            throw .unprocessable("\(key) must be one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private static func requireInteger(_ field: JSONValue?, _ name: String, _ range: ClosedRange<Int>) throws(Refusal) {
        guard let field else { return }
        guard let number = field.integerValue, range.contains(number) else {
            throw .unprocessable("\(name) must be an integer in \(range.lowerBound)…\(range.upperBound)")
        }
    }

    private static func requireNumber(_ field: JSONValue?, _ name: String, _ range: ClosedRange<Double>, required: Bool) throws(Refusal) {
        guard let field else {
            if required { throw .unprocessable("\(name) is required") }
            return
        }
        guard let number = field.doubleValue, range.contains(number) else {
            throw .unprocessable("\(name) must be a number in \(range.lowerBound)…\(range.upperBound)")
        }
    }

    private static func array(_ field: JSONValue?, _ name: String, max: Int?) throws(Refusal) -> [JSONValue] {
        guard let field else { return [] }
        guard let items = field.items else { throw .unprocessable("\(name) must be an array") }
        if let max, items.count > max { throw .unprocessable("\(name) accepts at most \(max) items") }
        return items
    }

    private static func validateStyleReferences(_ field: JSONValue?) throws(Refusal) {
        for (index, item) in try array(field, "image_style_references", max: 10).enumerated() {
            let name = "image_style_references[\(index)]"
            guard item.members != nil else { throw .unprocessable("\(name) must be an object") }
            guard let url = item["url"]?.stringValue, !url.isEmpty, url.utf8.count <= 1024,
                  url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("data:")
            else { throw .unprocessable("\(name).url must be an http(s) or data URI of at most 1024 characters") }
            try requireNumber(item["strength"], "\(name).strength", -2...2, required: true)
        }
    }

    private static func validateMoodboards(_ field: JSONValue?) throws(Refusal) {
        for (index, item) in try array(field, "moodboards", max: 1).enumerated() {
            let name = "moodboards[\(index)]"
            guard item.members != nil else { throw .unprocessable("\(name) must be an object") }
            guard let id = item["id"]?.stringValue, UUID(uuidString: id) != nil else {
                throw .unprocessable("\(name).id must be a UUID")
            }
            try requireNumber(item["strength"], "\(name).strength", -0.5...1.5, required: true)
        }
    }

    private static func validateStyles(_ field: JSONValue?) throws(Refusal) {
        for (index, item) in try array(field, "styles", max: nil).enumerated() {
            let name = "styles[\(index)]"
            guard item.members != nil else { throw .unprocessable("\(name) must be an object") }
            guard let id = item["id"]?.stringValue, !id.isEmpty else { throw .unprocessable("\(name).id is required") }
            try requireNumber(item["strength"], "\(name).strength", -2...2, required: true)
        }
    }
}
