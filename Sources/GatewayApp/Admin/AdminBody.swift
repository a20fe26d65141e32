import GatewayCore

/// Strict reading of admin request bodies: unknown fields, wrong types and bad values are 400s
/// with `param`, like the public API.
struct AdminBody {
    let fields: [String: JSONValue]
    /// Fields present with an explicit `null` (meaning "remove" in a PATCH).
    let nulls: Set<String>

    static func parse(_ body: [UInt8], allowed: Set<String>) throws(APIError) -> AdminBody {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body.isEmpty ? Array("{}".utf8) : body)
        } catch {
            throw APIError.invalidJSON("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = document else { throw APIError.invalidJSON("the body must be a JSON object") }
        for member in members where !allowed.contains(member.key) {
            throw APIError.parameter(.unknown, member.key, "unknown parameter \(member.key)")
        }
        return AdminBody(
            fields: Dictionary(uniqueKeysWithValues: members.filter { $0.value != .null }.map { ($0.key, $0.value) }),
            nulls: Set(members.filter { $0.value == .null }.map(\.key)))
    }

    func has(_ name: String) -> Bool { fields[name] != nil || nulls.contains(name) }

    func string(_ name: String, required: Bool = false) throws(APIError) -> String? {
        guard let value = fields[name] else {
            if required { throw APIError.parameter(.missing, name, "\(name) is required") }
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty else { throw APIError.parameter(.invalid, name, "\(name) must be a non-empty string") }
        return text
    }

    func positiveInteger(_ name: String) throws(APIError) -> Int? {
        guard let value = fields[name] else { return nil }
        guard let number = value.integerValue, number >= 1 else { throw APIError.parameter(.invalid, name, "\(name) must be an integer of at least 1") }
        return number
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = fields[name] else { return nil }
        guard let flag = value.boolValue else { throw APIError.parameter(.invalid, name, "\(name) must be a boolean") }
        return flag
    }

    func strings(_ name: String) throws(APIError) -> [String]? {
        guard let value = fields[name] else { return nil }
        guard case .array(let items) = value else { throw APIError.parameter(.invalid, name, "\(name) must be an array of strings") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue, !text.isEmpty else { throw APIError.parameter(.invalid, name, "\(name) must be an array of strings") }
            result.append(text)
        }
        return result
    }

    /// `{"limit_usd": "20.00", "period": "daily"}`; money as a string or number, exact.
    func budget(_ name: String) throws(APIError) -> GatewayConfiguration.Budget? {
        guard let value = fields[name] else { return nil }
        guard case .object(let members) = value else { throw APIError.parameter(.invalid, name, "\(name) must be an object with limit_usd and period") }
        for member in members where member.key != "limit_usd" && member.key != "period" {
            throw APIError.parameter(.invalid, name, "\(name) does not accept \(member.key)")
        }
        let limitText: String?
        switch value["limit_usd"] {
        case .string(let text): limitText = text
        case .number(let text): limitText = text
        default: limitText = nil
        }
        guard let limitText, let limit = Money(parsing: limitText) else {
            throw APIError.parameter(.invalid, name, "\(name).limit_usd must be a non-negative decimal with at most 6 fractional digits")
        }
        guard let periodText = value["period"]?.stringValue, let period = GatewayConfiguration.Budget.Period(rawValue: periodText) else {
            throw APIError.parameter(.invalid, name, "\(name).period must be one of daily, weekly, monthly, total")
        }
        return GatewayConfiguration.Budget(limit: limit, period: period)
    }
}
