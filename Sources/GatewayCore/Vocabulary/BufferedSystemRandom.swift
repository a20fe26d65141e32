#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The kernel's random bytes (`/dev/urandom`, the source `SystemRandomNumberGenerator` reads
/// through `getrandom`), read 4 KiB at a time and handed out 64 bits per `next()`. The standard
/// generator makes one system call per 64 bits, and every submission draws ids (a job id here, a
/// job id and a UUID in the simulators).
///
/// For identifiers. Secrets (admin-created keys, webhook secrets) keep drawing from
/// `SystemRandomNumberGenerator` directly. The buffer lives in this process only: the gateway
/// never forks, so no two processes hand out the same bytes.
public struct BufferedSystemRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        Self.pool.withLock { $0.next() }
    }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        static let words = 512
        var buffer = [UInt64](repeating: 0, count: Pool.words)
        var index = Pool.words

        mutating func next() -> UInt64 {
            if index == buffer.count { refill() }
            defer { index += 1 }
            return buffer[index]
        }

        private mutating func refill() {
            #if canImport(Glibc)
            if Pool.urandom >= 0 {
                let filled = buffer.withUnsafeMutableBytes { bytes -> Bool in
                    var offset = 0
                    while offset < bytes.count {
                        let count = read(Pool.urandom, bytes.baseAddress! + offset, bytes.count - offset)
                        if count > 0 {
                            offset += count
                        } else if count < 0, errno == EINTR {
                            continue
                        } else {
                            return false
                        }
                    }
                    return true
                }
                if filled { index = 0; return }
            }
            #endif
            var system = SystemRandomNumberGenerator()
            for position in buffer.indices { buffer[position] = system.next() }
            index = 0
        }

        #if canImport(Glibc)
        /// `/dev/urandom`, opened once (Glibc does not export `getrandom`); -1 when it cannot be,
        /// and then the buffer is filled from `SystemRandomNumberGenerator`.
        static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        #endif
    }
}
