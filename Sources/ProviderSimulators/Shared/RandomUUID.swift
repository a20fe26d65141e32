import Foundation

/// Random (version 4) UUIDs from the standard library's system generator.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every identifier:
/// three system calls, and the simulator made three per submission. `SystemRandomNumberGenerator`
/// is one `getrandom` call per 64 bits and needs no file descriptor.
enum RandomUUID {
    /// A new random UUID (RFC 9562 version 4, variant 10).
    static func make() -> UUID {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
            bytes[index + 8] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant 10
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// A new random UUID as lowercase text (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
    static func string() -> String { make().uuidString.lowercased() }
}
