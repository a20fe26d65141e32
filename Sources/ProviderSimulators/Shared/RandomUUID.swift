import Foundation
import GatewayCore

/// Random (version 4) UUIDs from the kernel's generator, through ``BufferedSystemRandom``.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every identifier:
/// three system calls, and the simulator made three per submission; `SystemRandomNumberGenerator`
/// is still one `getrandom` call per 64 bits.
enum RandomUUID {
    /// A new random UUID (RFC 9562 version 4, variant 10).
    static func make() -> UUID {
        var generator = BufferedSystemRandom()
        // Byte 6's high nibble is the version (4), byte 8's top two bits the variant (10).
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000
        let low = (generator.next() as UInt64) & ~(0xC0 << 56) | (0x80 << 56)
        return UUID(uuid: unsafeBitCast((high.bigEndian, low.bigEndian), to: uuid_t.self))
    }

    /// A new random UUID as lowercase text (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
    static func string() -> String { make().uuidString.lowercased() }
}
