import Synchronization

/// Job ids: `gen_` + 26 Crockford base32 characters: 48 bits of Unix milliseconds then 80 random
/// bits (the ULID layout), so ids sort by creation time and cannot be guessed.
public enum GenerationID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id for the given time.
    public static func make(at time: Timestamp = .now()) -> String {
        var generator = BufferedSystemRandom()
        let random = (high: UInt16.random(in: .min ... .max, using: &generator), low: generator.next() as UInt64)
        return "gen_" + encode(milliseconds: UInt64(max(time.unixMilliseconds, 0)), randomHigh: random.high, randomLow: random.low)
    }

    static func encode(milliseconds: UInt64, randomHigh: UInt16, randomLow: UInt64) -> String {
        // 128 bits: 48-bit time, 80-bit random, written as 26 base32 digits (the first holds 3 bits).
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | UInt64(randomHigh)
        let low = randomLow
        var out = [UInt8](repeating: 0, count: 26)
        for position in 0..<26 {
            let bitFromRight = (25 - position) * 5
            let value: UInt64
            if bitFromRight >= 64 {
                value = (high >> (bitFromRight - 64)) & 0x1F
            } else if bitFromRight + 5 <= 64 {
                value = (low >> bitFromRight) & 0x1F
            } else {
                let lowBits = 64 - bitFromRight
                value = ((low >> bitFromRight) | (high << lowBits)) & 0x1F
            }
            out[position] = alphabet[Int(value)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the text has the shape of a job id (used to answer 404 early on garbage).
    public static func isWellFormed(_ text: String) -> Bool {
        text.hasPrefix("gen_") && text.utf8.count == 30 && text.utf8.dropFirst(4).allSatisfy { alphabet.contains($0) }
    }
}
