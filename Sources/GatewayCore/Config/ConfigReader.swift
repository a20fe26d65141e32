import Yams

/// Walks Yams nodes and collects issues instead of throwing, so that every problem in a file is
/// reported at once. Every reading method returns `nil` after reporting why (or because the
/// value is absent, where that is allowed); callers only decide defaults.
///
/// Not thread-safe: one reader per load, used synchronously.
final class ConfigReader {
    /// The environment `${VAR}` is read from.
    let environment: [String: String]
    /// The issues so far; each tagged with the provider whose unset variable caused it, when
    /// CONFIG.md exempts it for a provider no model uses.
    private(set) var issues: [(issue: ConfigIssue, exemptUnlessUsed: String?)] = []
    /// The provider whose section is being read (unset variables there are provisional).
    var currentProvider: String?

    init(environment: [String: String]) {
        self.environment = environment
    }

    /// Records a problem at `path`.
    func report(_ path: String, _ message: String) {
        issues.append((ConfigIssue(path: path, message: message), nil))
    }

    /// The issues that stand, given the providers some model uses.
    func finalIssues(usedProviders: Set<String>) -> [ConfigIssue] {
        issues.compactMap { entry in
            if let provider = entry.exemptUnlessUsed, !usedProviders.contains(provider) { return nil }
            return entry.issue
        }
    }

    // MARK: Structure

    /// A mapping read with a fixed set of allowed keys; unknown keys are reported.
    struct Fields {
        /// The mapping's own path.
        let path: String
        /// The entries in file order, null values removed.
        let entries: [(key: String, value: Node)]

        /// The value at `key`, or `nil` when absent or null.
        subscript(key: String) -> Node? {
            entries.first { $0.key == key }?.value
        }

        /// The path of `key` inside this mapping.
        func path(_ key: String) -> String { ConfigReader.join(path, key) }
    }

    /// `parent.key`, or `key` at the root.
    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// Whether a node is YAML null (`~`, `null`, or nothing), as opposed to a quoted `""`.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping with arbitrary (name) keys, in file order, null values kept.
    func entries(_ node: Node, at path: String) -> [(key: String, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            report(path, "expected a mapping")
            return nil
        }
        var result: [(key: String, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, !scalar.string.isEmpty else {
                report(path, "keys must be non-empty strings")
                continue
            }
            result.append((scalar.string, value))
        }
        return result
    }

    /// A mapping whose keys must be among `allowed`; each other key is reported as unknown.
    func fields(_ node: Node, at path: String, allowed: [String]) -> Fields? {
        guard let entries = entries(node, at: path) else { return nil }
        var kept: [(key: String, value: Node)] = []
        for entry in entries {
            if !allowed.contains(entry.key) {
                report(ConfigReader.join(path, entry.key), "unknown key")
            } else if !ConfigReader.isNull(entry.value) {
                kept.append(entry)
            }
        }
        return Fields(path: path, entries: kept)
    }

    /// The items of a sequence.
    func sequence(_ node: Node, at path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(path, "expected a list")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// A scalar's text after `${…}` interpolation. An unset variable under a provider is
    /// reported provisionally (see ``finalIssues(usedProviders:)``).
    func text(_ node: Node, at path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(path, "expected a single value")
            return nil
        }
        switch EnvironmentInterpolation.interpolate(scalar.string, environment: environment) {
        case .success(let text):
            return text
        case .failure(let failure):
            let exempt: String? =
                if case .unset = failure { currentProvider } else { nil }
            issues.append((ConfigIssue(path: path, message: failure.message), exempt))
            return nil
        }
    }

    /// A string that must not be empty.
    func nonEmptyText(_ node: Node, at path: String) -> String? {
        guard let text = text(node, at: path) else { return nil }
        guard !text.isEmpty else {
            report(path, "must not be empty")
            return nil
        }
        return text
    }

    /// An integer of at least `minimum`, written as ASCII digits.
    func integer(_ node: Node, at path: String, minimum: Int) -> Int? {
        guard let text = text(node, at: path) else { return nil }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            report(path, "not an integer")
            return nil
        }
        guard let value = Int(text) else {
            report(path, "integer too large")
            return nil
        }
        guard value >= minimum else {
            report(path, "must be at least \(minimum)")
            return nil
        }
        return value
    }

    /// `true` or `false`.
    func bool(_ node: Node, at path: String) -> Bool? {
        guard let text = text(node, at: path) else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            report(path, "expected true or false")
            return nil
        }
    }

    /// A non-negative number of seconds, fraction allowed (`0.2`), nanosecond resolution.
    func duration(_ node: Node, at path: String) -> Duration? {
        guard let text = text(node, at: path) else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let isDigits = { (part: Substring) in
            !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber }
        }
        guard (parts.count == 1 || parts.count == 2), parts.allSatisfy(isDigits) else {
            report(path, text.hasPrefix("-") ? "must not be negative" : "not a number of seconds")
            return nil
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 9 else {
            report(path, "more than 9 fractional digits")
            return nil
        }
        guard let seconds = Int64(parts[0]), seconds <= 1_000_000_000_000 else {
            report(path, "too large")
            return nil
        }
        let nanoseconds = Int64(fraction + String(repeating: "0", count: 9 - fraction.count))!
        return .seconds(seconds) + .nanoseconds(nanoseconds)
    }

    /// Money: the scalar's own text (so a YAML number `0.0067` stays exact), non-negative,
    /// at most 6 fractional digits.
    func money(_ node: Node, at path: String) -> Money? {
        guard let text = text(node, at: path) else { return nil }
        do {
            return try Money.parse(text)
        } catch {
            report(path, error.description)
            return nil
        }
    }

    /// A secret; the error messages of the reads above never echo the value.
    func secret(_ node: Node, at path: String) -> Secret? {
        text(node, at: path).map { Secret($0) }
    }

    /// One of an enumeration's raw values; the message lists the accepted ones.
    func choice<Value: RawRepresentable & CaseIterable>(
        _ node: Node, at path: String, of _: Value.Type
    ) -> Value? where Value.RawValue == String {
        guard let text = text(node, at: path) else { return nil }
        if let value = Value(rawValue: text) { return value }
        let accepted = Value.allCases.map(\.rawValue).joined(separator: ", ")
        report(path, "must be one of \(accepted) (got \"\(text)\")")
        return nil
    }

    /// A list of non-empty strings.
    func stringList(_ node: Node, at path: String) -> [String]? {
        guard let items = sequence(node, at: path) else { return nil }
        var result: [String] = []
        var complete = true
        for (index, item) in items.enumerated() {
            if let text = nonEmptyText(item, at: "\(path)[\(index)]") {
                result.append(text)
            } else {
                complete = false
            }
        }
        return complete ? result : nil
    }
}
