import CZlib

/// One zlib stream (inflate or deflate) at a fixed address: zlib keeps a pointer back to its
/// `z_stream` and refuses a moved one, so the stream lives on the heap for its whole life.
enum Zlib {
    /// `windowBits` for a gzip wrapper (RFC 1952): 15 + 16.
    static let gzipWindowBits: Int32 = 15 + 16
    /// `windowBits` for a zlib wrapper (RFC 1950), which HTTP's `deflate` coding is (RFC 9110 §8.4.1.2).
    static let zlibWindowBits: Int32 = 15

    static func makeStream() -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        return stream
    }

    static var streamSize: Int32 { Int32(MemoryLayout<z_stream>.size) }
}

/// gzip (RFC 1952) of a whole body, for responses: one call, output sized by `deflateBound`.
public enum Gzip {
    /// The body gzipped at `level` (1 fastest … 9 smallest), or `nil` if zlib fails (then the
    /// body goes out as it is).
    public static func compress(_ body: [UInt8], level: Int32 = 6) -> [UInt8]? {
        let stream = Zlib.makeStream()
        defer { stream.deallocate() }
        guard deflateInit2_(stream, level, Z_DEFLATED, Zlib.gzipWindowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Zlib.streamSize) == Z_OK else {
            return nil
        }
        defer { deflateEnd(stream) }
        let bound = Int(deflateBound(stream, uLong(body.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let produced: Int? = body.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.pointee.avail_in = uInt(input.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                guard deflate(stream, Z_FINISH) == Z_STREAM_END else { return nil }
                return out.count - Int(stream.pointee.avail_out)
            }
        }
        guard let produced else { return nil }
        output.removeLast(output.count - produced)
        return output
    }
}
