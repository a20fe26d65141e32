/// An ordered list of header fields. Repeated fields are kept as separate entries, never
/// last-wins; names compare case-insensitively (RFC 9110 §5.1).
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The fields in the order they were received or added.
    public private(set) var fields: [(name: String, value: String)]

    /// An empty header list.
    public init() { fields = [] }

    /// Headers from name/value pairs, in order.
    public init(_ pairs: [(String, String)]) {
        // Room for a couple more: a response's headers usually get one or two added on the way
        // out (a request id, `Allow`), and growing a full array means a second allocation.
        fields = []
        fields.reserveCapacity(pairs.count + 2)
        for (name, value) in pairs { fields.append((name: name, value: value)) }
    }

    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// Appends a field, keeping any earlier field of the same name.
    public mutating func add(name: String, value: String) { fields.append((name: name, value: value)) }

    /// Replaces every field of this name with one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        fields.append((name: name, value: value))
    }

    /// Removes every field of this name.
    public mutating func remove(name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// The first value of the named field.
    public subscript(_ name: String) -> String? {
        fields.first { Self.namesEqual($0.name, name) }?.value
    }

    /// Every value of the named field, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// Every comma-separated element of every field of this name, trimmed, empty elements
    /// dropped (RFC 9110 §5.6.1).
    public func listElements(_ name: String) -> [Substring] {
        var elements: [Substring] = []
        for value in values(name) {
            for part in value.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = part.trimmingOWS()
                if !trimmed.isEmpty { elements.append(trimmed) }
            }
        }
        return elements
    }

    /// Whether a comma-separated field contains the token, compared case-insensitively.
    public func containsToken(_ token: String, in name: String) -> Bool {
        listElements(name).contains { Self.namesEqual(String($0), token) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII case-insensitive comparison, enough for field names and tokens.
    static func namesEqual(_ lhs: String, _ rhs: String) -> Bool { namesEqual(lhs.utf8, rhs.utf8) }

    /// ASCII case-insensitive comparison of UTF-8 bytes (field names, tokens such as an
    /// authentication scheme).
    public static func namesEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var i = a.startIndex, j = b.startIndex
        while i < a.endIndex {
            let x = a[i], y = b[j]
            if x != y {
                let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
                if lx != ly { return false }
            }
            a.formIndex(after: &i)
            b.formIndex(after: &j)
        }
        return true
    }
}

extension Substring {
    /// Trims optional whitespace (SP and HTAB) at both ends.
    func trimmingOWS() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
