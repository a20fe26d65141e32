import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// Resolves a host name with `getaddrinfo` on a thread of its own (never on the cooperative
/// pool), bounded by a deadline.
public enum HostResolver {
    public static func resolve(_ host: String, timeout: Duration) async -> [IPAddress] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[IPAddress], Never>) in
            let once = ResumeOnce(continuation)
            Thread.detachNewThread { once.resume(lookup(host)) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.timeInterval) {
                once.resume([])
            }
        }
    }

    static func lookup(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == AF_INET, let raw = entry.pointee.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                addresses.append(.v4(UInt32(bigEndian: address)))
            } else if entry.pointee.ai_family == AF_INET6, let raw = entry.pointee.ai_addr {
                let bytes = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                addresses.append(.v6(bytes))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}

/// Resumes a continuation once, whichever of two racers comes first.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>
    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }
    func resume(_ value: Value) {
        let pending = continuation.withLock { stored -> CheckedContinuation<Value, Never>? in
            defer { stored = nil }
            return stored
        }
        pending?.resume(returning: value)
    }
}

import Synchronization
