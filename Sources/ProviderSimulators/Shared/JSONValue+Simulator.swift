import GatewayCore
import HTTPServer
import Foundation

extension JSONValue {
    /// An integer number.
    static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// The value as plain Swift values for assertions: objects as `[String: any Sendable]`, arrays
    /// as `[any Sendable]`, integers as `Int`, other numbers as `Double`, null as `NSNull`.
    var sendableValue: any Sendable {
        switch self {
        case .null: return NSNull()
        case .bool(let value): return value
        case .number(let text):
            if let integer = Int(text) { return integer }
            return Double(text) ?? 0
        case .string(let value): return value
        case .array(let items): return items.map(\.sendableValue)
        case .object(let members):
            var dictionary: [String: any Sendable] = [:]
            for member in members { dictionary[member.key] = member.value.sendableValue }
            return dictionary
        }
    }

    /// The members of an object, or nil.
    var members: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The items of an array, or nil.
    var items: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

extension HTTPResponse {
    /// A JSON answer.
    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: value.serialized)
    }
}
