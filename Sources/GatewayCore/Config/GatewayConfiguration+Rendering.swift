import Foundation

extension GatewayConfiguration {
    /// The resolved routing and price tables, as `krea-gateway check-config` prints them:
    /// routes (model → provider, kind, base URL, upstream model, timeout), aliases in fallback
    /// order, Krea front-door paths, and each model's prices (rules in order, then the base).
    ///
    /// Contains no secret: no API key, master key, webhook secret or token, and any user
    /// information in a base URL is removed.
    public func renderResolvedTables() -> String {
        var lines: [String] = []

        lines.append("Routes")
        var routes = [["MODEL", "PROVIDER", "KIND", "BASE URL", "UPSTREAM MODEL", "TIMEOUT"]]
        for model in models {
            let provider = provider(named: model.provider)
            routes.append([
                model.name, model.provider, provider?.kind.rawValue ?? "?",
                provider.map { Self.redactedURL($0.baseURL) } ?? "?", model.upstreamModel,
                provider.map { Self.seconds($0.timeout) } ?? "?",
            ])
        }
        lines += Self.table(routes)

        lines.append("")
        lines.append("Aliases (targets in fallback order)")
        if aliases.isEmpty {
            lines.append("  (none)")
        } else {
            lines += Self.table(aliases.map { [$0.name, $0.targets.joined(separator: " -> ")] })
        }

        lines.append("")
        lines.append("Krea paths")
        let variants = Compat.KreaVariant.allCases.filter { compat.kreaPaths[$0] != nil }
        if variants.isEmpty {
            lines.append("  (none)")
        } else {
            lines += Self.table(variants.map { ["krea-2/\($0.rawValue)", compat.kreaPaths[$0]!] })
        }

        lines.append("")
        lines.append("Prices (USD per image; first matching rule wins, else base)")
        for model in models {
            lines.append("  \(model.name)")
            var rows = model.price.rules.map { ["if \($0.condition)", $0.price.description] }
            rows.append(["base", model.price.base.description])
            lines += Self.table(rows, indent: "    ")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]], indent: String = "  ") -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1
                    ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            return indent + cells.joined(separator: "  ")
        }
    }

    /// A duration as seconds: `30s`, `0.2s`.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard attoseconds != 0 else { return "\(seconds)s" }
        var fraction = String(attoseconds / 1_000_000_000)  // nanoseconds
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }

    /// A URL without any `user:password@`.
    static func redactedURL(_ text: String) -> String {
        guard var components = URLComponents(string: text),
            components.user != nil || components.password != nil
        else { return text }
        components.user = nil
        components.password = nil
        return components.string ?? "<url>"
    }
}
