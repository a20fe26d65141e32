/// A secret string (API key, master key, webhook secret, bearer token) that never prints itself.
///
/// `description`, `debugDescription`, string interpolation, `print`, `dump` and `Mirror` all show
/// `<redacted>`; read the plaintext only through ``value``, at the point where it is used.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, ExpressibleByStringLiteral
{
    /// The plaintext. Never log it, never put it in an error.
    public let value: String

    /// Wraps a plaintext secret.
    public init(_ value: String) {
        self.value = value
    }

    /// Wraps a literal (tests and defaults).
    public init(stringLiteral value: String) {
        self.value = value
    }

    /// Whether the secret is the empty string.
    public var isEmpty: Bool { value.isEmpty }

    /// Always `<redacted>`.
    public var description: String { "<redacted>" }

    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }

    /// A mirror with no children, so `dump` and reflection cannot reach ``value``.
    public var customMirror: Mirror {
        Mirror(self, children: [], displayStyle: .struct)
    }
}
