import GatewayCore

/// Reading and writing helpers the provider wire formats share: numbers into JSON, provider
/// messages trimmed for our errors, and the content-policy wording test.
///
/// (It lives beside ``HTTPTransport`` because the shared files of this target are the transport
/// ones; it has nothing of HTTP in it.)
enum ProviderText {
    /// Longest provider message kept in a `ProviderError` or `JobError`.
    static let maxMessageLength = 300

    /// A provider's message made safe to show: control characters become spaces, whitespace is
    /// trimmed, and it is cut at ``maxMessageLength`` characters with `…`.
    static func message(_ raw: String) -> String {
        var out = ""
        var count = 0
        for character in raw {
            if count == maxMessageLength { out += "…"; break }
            if character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) {
                out += " "
            } else {
                out.append(character)
            }
            count += 1
        }
        return trimmed(out)
    }

    private static func trimmed(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// Phrases by which a provider says it refused the content (lower case). Deliberately
    /// specific: a bare `nsfw` would match Evolink's `nsfw_check` field in a validation message.
    static let contentPolicyPhrases = [
        "content policy", "content_policy", "content-policy", "content moderation", "moderation",
        "nsfw content", "unsafe content", "inappropriate content", "prohibited content", "safety filter",
        "safety system", "safety check", "flagged as",
    ]

    /// Whether `text` reads as a content-policy refusal.
    static func isContentPolicy(_ text: String?) -> Bool {
        guard let text = text?.lowercased(), !text.isEmpty else { return false }
        return contentPolicyPhrases.contains { text.contains($0) }
    }

    /// A strength or other non-money quantity as a JSON number, in the shortest text that reads
    /// back as the same `Double` (`0.5`, `-1.25`, `2.0`). Validation keeps it finite; a
    /// non-finite value (which JSON cannot carry) is written as `0`.
    static func number(_ value: Double) -> JSONValue {
        value.isFinite ? .number(String(describing: value)) : .number("0")
    }

    /// An integer as a JSON number.
    static func number(_ value: Int) -> JSONValue { .number(String(value)) }

    /// An error code that may be a string or an integer (Evolink has both), as text.
    static func code(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text.isEmpty ? nil : text
        case .number(let text)?: return text
        default: return nil
        }
    }

    /// The body as JSON, or `nil` when it is not JSON.
    static func json(_ body: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(body)
    }

    /// A non-empty string member, or `nil`.
    static func string(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }
}
