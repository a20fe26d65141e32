/// One problem found in a configuration file.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// Where: a dotted path with list indices from 0, e.g. `models.krea-2-medium.price.rules[1].usd`.
    /// Empty for problems with the file as a whole (unreadable, YAML syntax).
    public var path: String
    /// What, in a few words (`not a decimal`, `unknown key`). Never contains a secret.
    public var message: String

    /// An issue at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or just the message when there is no path.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

/// Why a configuration was refused: every problem found, in file order where possible.
///
/// The loader does not stop at the first problem; fix them all at once.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, never empty.
    public var issues: [ConfigIssue]

    /// An error made of these issues.
    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }

    /// Whether some issue is at exactly `path`.
    public func hasIssue(at path: String) -> Bool {
        issues.contains { $0.path == path }
    }
}
