/// Byte-level grammar of RFC 9110 / RFC 9112 used by the parser.
enum HTTPSyntax {
    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// field-vchar, SP or HTAB (RFC 9110 §5.5); NUL, CR, LF, other controls and DEL are refused.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// Parses `name ":" OWS value OWS`.
    static func parseFieldLine(_ line: ArraySlice<UInt8>) -> Result<(name: String, value: String), HTTPParserError> {
        // RFC 9112 §5.2: a line starting with whitespace is obsolete line folding; refused.
        guard let first = line.first, first != 0x20, first != 0x09 else {
            return .failure(.malformed("obsolete line folding is not accepted"))
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return .failure(.malformed("header line without a colon"))
        }
        let name = line[line.startIndex..<colon]
        // RFC 9112 §5.1: no whitespace between the field name and the colon.
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            return .failure(.malformed("invalid header field name"))
        }
        var valueStart = colon + 1, valueEnd = line.endIndex
        while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy(isFieldValueByte) else {
            return .failure(.malformed("invalid byte in a header field value"))
        }
        return .success((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    /// Parses `chunk-size [ chunk-ext ]` (RFC 9112 §7.1) and returns the size.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) -> Result<Int, HTTPParserError> {
        var size = 0, digits = 0, index = line.startIndex
        while index < line.endIndex, let value = PercentDecoding.hexValue(line[index]) {
            digits += 1
            // More than 15 hex digits could overflow Int: a chunk-size overflow is a framing error.
            guard digits <= 15 else { return .failure(.malformed("chunk size overflows")) }
            size = size << 4 | Int(value)
            index += 1
        }
        guard digits > 0 else { return .failure(.malformed("invalid chunk size")) }
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ); ignored but validated.
        let rest = line[index...]
        if !rest.isEmpty {
            var trimmed = rest.drop { $0 == 0x20 || $0 == 0x09 }
            guard trimmed.first == UInt8(ascii: ";") else { return .failure(.malformed("invalid chunk size")) }
            trimmed = trimmed.dropFirst()
            guard trimmed.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                return .failure(.malformed("invalid chunk extension"))
            }
        }
        return .success(size)
    }
}
