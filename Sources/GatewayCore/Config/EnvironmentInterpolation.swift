/// `${VAR}` and `${VAR:-default}` substitution in configuration strings (CONFIG.md "Rules").
///
/// - `${VAR}`: the variable's value; an empty value is used as is. Unset is a failure.
/// - `${VAR:-default}`: the variable's value when set and non-empty, else `default` (shell
///   semantics). The default is literal text up to the first `}`: no nesting.
/// - `VAR` is `[A-Za-z_][A-Za-z0-9_]*`. A `$` not followed by `{` is kept as is; a `${` without
///   a closing `}` or with an invalid name is malformed. There is no `$${` escape.
enum EnvironmentInterpolation {
    /// Why a string could not be interpolated. Carries variable names only, never values.
    enum Failure: Error, Equatable {
        /// These variables are referenced without a default and are not set.
        case unset([String])
        /// A `${` that is not `${NAME}` or `${NAME:-default}`.
        case malformed

        /// The message for a configuration issue.
        var message: String {
            switch self {
            case .unset(let names) where names.count == 1:
                "environment variable \(names[0]) is not set"
            case .unset(let names):
                "environment variables \(names.joined(separator: ", ")) are not set"
            case .malformed:
                "malformed ${…}: expected ${NAME} or ${NAME:-default}"
            }
        }
    }

    /// Replaces every `${…}` in `text` from `environment`.
    static func interpolate(
        _ text: String, environment: [String: String]
    ) -> Result<String, Failure> {
        guard text.contains("${") else { return .success(text) }
        var output = ""
        var unset: [String] = []
        var rest = Substring(text)
        while let dollar = rest.firstRange(of: "${") {
            output += rest[..<dollar.lowerBound]
            let afterOpen = rest[dollar.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else { return .failure(.malformed) }
            let body = afterOpen[..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.firstRange(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard isVariableName(name) else { return .failure(.malformed) }
            let value = environment[String(name)]
            if let fallback {
                output += (value?.isEmpty ?? true) ? String(fallback) : value!
            } else if let value {
                output += value
            } else if !unset.contains(String(name)) {
                unset.append(String(name))
            }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        output += rest
        return unset.isEmpty ? .success(output) : .failure(.unset(unset))
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else {
            return false
        }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
