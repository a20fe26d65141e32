extension GenerationRequest {
    /// Every top-level field the API accepts.
    static let knownFields: Set<String> = [
        "model", "prompt", "aspect_ratio", "size", "resolution", "quality", "seed", "creativity",
        "image_style_references", "moodboards", "styles", "intensity", "complexity", "movement",
        "nsfw_check", "webhook_url", "metadata",
    ]

    /// Limits that hold for every model (API.md §3); a model may be stricter.
    public static let maxPromptCharacters = 10_000
    public static let maxStyleReferences = 10
    public static let maxMoodboards = 1
    public static let maxMetadataKeys = 16
    public static let maxMetadataBytes = 4096
    public static let maxWebhookURLLength = 2048

    /// Decodes a request body strictly: invalid JSON → `invalid_json`; an unknown field →
    /// `unknown_parameter`; a missing `model`/`prompt` → `missing_parameter`; a wrong type or a
    /// value out of range → `invalid_parameter`, each with `param` naming the top-level field.
    public static func decode(_ body: [UInt8]) throws(APIError) -> GenerationRequest {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw APIError.invalidJSON("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = document else { throw APIError.invalidJSON("the body must be a JSON object") }
        for member in members where !knownFields.contains(member.key) {
            throw APIError.parameter(.unknown, member.key, "unknown parameter \(member.key)")
        }
        // A JSON null is the same as leaving an optional field out.
        let reader = FieldReader(members: members.filter { $0.value != .null })

        let model = try reader.requiredString("model")
        let prompt = try reader.requiredString("prompt")
        guard !model.isEmpty else { throw APIError.parameter(.invalid, "model", "model must not be empty") }
        guard prompt.contains(where: { !$0.isWhitespace }) else {
            throw APIError.parameter(.invalid, "prompt", "prompt must not be empty or blank")
        }
        // Characters never outnumber UTF-8 bytes: most prompts need no count.
        guard prompt.utf8.count <= maxPromptCharacters || prompt.count <= maxPromptCharacters else {
            throw APIError.parameter(.invalid, "prompt", "prompt is longer than \(maxPromptCharacters) characters")
        }
        var request = GenerationRequest(model: model, prompt: prompt)
        request.aspectRatio = try reader.synonym("aspect_ratio", "size")
        request.resolution = try reader.synonym("resolution", "quality")
        request.seed = try reader.integer("seed", in: 0...Int(Int64.max))
        request.creativity = try reader.oneOf("creativity", ["raw", "low", "medium", "high"])
        request.imageStyleReferences = try reader.list("image_style_references", max: maxStyleReferences) { (item: JSONValue, reader: FieldReader) throws(APIError) -> StyleReference in
            let url = try reader.itemString(item, "url", of: "image_style_references")
            return StyleReference(url: url, strength: try reader.itemNumber(item, "strength", of: "image_style_references", required: false))
        }
        request.moodboards = try reader.list("moodboards", max: maxMoodboards) { (item: JSONValue, reader: FieldReader) throws(APIError) -> Moodboard in
            let id = try reader.itemString(item, "id", of: "moodboards")
            return Moodboard(id: id, strength: try reader.itemNumber(item, "strength", of: "moodboards", required: false))
        }
        request.styles = try reader.list("styles", max: nil) { (item: JSONValue, reader: FieldReader) throws(APIError) -> Style in
            let id = try reader.itemString(item, "id", of: "styles")
            let strength = try reader.itemNumber(item, "strength", of: "styles", required: true) ?? 0
            guard (-2.0...2.0).contains(strength) else { throw APIError.parameter(.invalid, "styles", "styles[].strength must be between -2 and 2") }
            return Style(id: id, strength: strength)
        }
        request.intensity = try reader.integer("intensity", in: -100...100)
        request.complexity = try reader.integer("complexity", in: -100...100)
        request.movement = try reader.integer("movement", in: -100...100)
        request.nsfwCheck = try reader.boolean("nsfw_check")
        if let url = try reader.optionalString("webhook_url") {
            guard !url.isEmpty, url.utf8.count <= maxWebhookURLLength else {
                throw APIError(status: 400, kind: .invalidRequest, code: "invalid_webhook_url",
                               message: "webhook_url must be a URL of at most \(maxWebhookURLLength) characters", param: "webhook_url")
            }
            request.webhookURL = url
        }
        if let metadata = reader["metadata"] {
            guard case .object(let entries) = metadata else {
                throw APIError.parameter(.invalid, "metadata", "metadata must be an object, not \(metadata.typeName)")
            }
            guard entries.count <= maxMetadataKeys else {
                throw APIError.parameter(.invalid, "metadata", "metadata has more than \(maxMetadataKeys) keys")
            }
            guard metadata.serialized.utf8.count <= maxMetadataBytes else {
                throw APIError.parameter(.invalid, "metadata", "metadata is larger than \(maxMetadataBytes) bytes serialized")
            }
            request.metadata = metadata
        }
        return request
    }
}

/// Typed access to the top-level fields with the API's error codes.
struct FieldReader {
    /// The members of the object, without nulls. Only known names got here and the parser
    /// refuses duplicates, so there are at most ``GenerationRequest/knownFields``-many: a look
    /// along them costs less than building a dictionary.
    let members: [(key: String, value: JSONValue)]

    subscript(name: String) -> JSONValue? { members.first { $0.key == name }?.value }

    func requiredString(_ name: String) throws(APIError) -> String {
        guard let value = self[name] else { throw APIError.parameter(.missing, name, "\(name) is required") }
        guard let text = value.stringValue else { throw APIError.parameter(.invalid, name, "\(name) must be a string, not \(value.typeName)") }
        return text
    }

    func optionalString(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard let text = value.stringValue else { throw APIError.parameter(.invalid, name, "\(name) must be a string, not \(value.typeName)") }
        return text
    }

    /// Two names for one field (`aspect_ratio`/`size`): either may be sent, both only if equal.
    func synonym(_ name: String, _ other: String) throws(APIError) -> String? {
        let first = try optionalString(name), second = try optionalString(other)
        if let first, let second, first != second {
            throw APIError.parameter(.invalid, other, "\(other) is a synonym of \(name); they disagree (\(second) vs \(first))")
        }
        return first ?? second
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let number = value.integerValue else {
            throw APIError.parameter(.invalid, name, "\(name) must be an integer")
        }
        guard range.contains(number) else {
            throw APIError.parameter(.invalid, name, "\(name) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    func boolean(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard let flag = value.boolValue else { throw APIError.parameter(.invalid, name, "\(name) must be a boolean, not \(value.typeName)") }
        return flag
    }

    func oneOf(_ name: String, _ allowed: [String]) throws(APIError) -> String? {
        guard let text = try optionalString(name) else { return nil }
        guard allowed.contains(text) else {
            throw APIError.parameter(.invalid, name, "\(name) must be one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    func list<T>(_ name: String, max: Int?, item decode: (JSONValue, FieldReader) throws(APIError) -> T) throws(APIError) -> [T]? {
        guard let value = self[name] else { return nil }
        guard case .array(let items) = value else { throw APIError.parameter(.invalid, name, "\(name) must be an array, not \(value.typeName)") }
        if let max, items.count > max { throw APIError.parameter(.invalid, name, "\(name) accepts at most \(max) item\(max == 1 ? "" : "s")") }
        var result: [T] = []
        for item in items { result.append(try decode(item, self)) }
        return result
    }

    /// An item of a list field must be an object with only the documented keys.
    func itemObject(_ item: JSONValue, of list: String, allowed: Set<String>) throws(APIError) -> [String: JSONValue] {
        guard case .object(let members) = item else { throw APIError.parameter(.invalid, list, "\(list) items must be objects") }
        for member in members where !allowed.contains(member.key) {
            throw APIError.parameter(.invalid, list, "\(list) items do not accept \(member.key)")
        }
        return Dictionary(uniqueKeysWithValues: members.filter { $0.value != .null }.map { ($0.key, $0.value) })
    }

    func itemString(_ item: JSONValue, _ key: String, of list: String) throws(APIError) -> String {
        let object = try itemObject(item, of: list, allowed: [key, "strength"])
        guard let text = object[key]?.stringValue, !text.isEmpty else {
            throw APIError.parameter(.invalid, list, "\(list)[].\(key) must be a non-empty string")
        }
        return text
    }

    func itemNumber(_ item: JSONValue, _ key: String, of list: String, required: Bool) throws(APIError) -> Double? {
        guard case .object(let members) = item, let value = members.first(where: { $0.key == key })?.value, value != .null else {
            if required { throw APIError.parameter(.invalid, list, "\(list)[].\(key) is required") }
            return nil
        }
        guard let number = value.doubleValue, number.isFinite else {
            throw APIError.parameter(.invalid, list, "\(list)[].\(key) must be a number")
        }
        return number
    }
}

extension APIError {
    /// The 400 codes about one request field.
    public enum ParameterProblem: String, Sendable {
        case missing = "missing_parameter"
        case invalid = "invalid_parameter"
        case unknown = "unknown_parameter"
        case unsupported = "unsupported_parameter"
    }

    /// A 400 about one field, with `param` set.
    public static func parameter(_ problem: ParameterProblem, _ param: String, _ message: String) -> APIError {
        APIError(status: 400, kind: .invalidRequest, code: problem.rawValue, message: message, param: param)
    }

    /// 400 `invalid_json`.
    public static func invalidJSON(_ message: String) -> APIError {
        APIError(status: 400, kind: .invalidRequest, code: "invalid_json", message: message)
    }
}
