import CZlib

/// Inflates a body coded `gzip` or `deflate` while it arrives (API.md §11), with the body
/// limit applied to the inflated size: a small body that inflates past it is refused as soon as
/// the output passes the limit, so a decompression bomb costs at most the limit in memory.
///
/// A class for its zlib stream's fixed address. `@unchecked Sendable`: it belongs to one
/// connection's state machine, which only that connection's event loop thread touches; it is
/// never shared.
public final class BodyInflater: @unchecked Sendable {
    /// The content codings this server inflates.
    public enum Coding: Sendable {
        case gzip, deflate

        /// The coding a `Content-Encoding` value names: `nil` for none or `identity`, `.failure`
        /// for a coding this server does not know (or more than one).
        public static func of(_ headers: HTTPHeaders) -> Result<Coding?, HTTPServerError> {
            let codings = headers.listElements("content-encoding").map { $0.lowercased() }.filter { $0 != "identity" }
            switch codings.count {
            case 0: return .success(nil)
            case 1 where codings[0] == "gzip" || codings[0] == "x-gzip": return .success(.gzip)
            case 1 where codings[0] == "deflate": return .success(.deflate)
            default: return .failure(.unsupportedContentEncoding)
            }
        }
    }

    /// Why inflating stopped.
    public enum Failure: Error, Equatable {
        /// The inflated body passed the limit (413).
        case tooLarge
        /// Not a valid stream of the coding, or cut short (400 `invalid_body_encoding`).
        case broken
    }

    private let stream = Zlib.makeStream()
    private let limit: Int
    private var ended = false
    private var open = false
    private var outputChunk = [UInt8](repeating: 0, count: 16 * 1024)

    /// An inflater for `coding`, refusing more than `limit` inflated bytes.
    public init(_ coding: Coding, limit: Int) {
        self.limit = limit
        let bits = coding == .gzip ? Zlib.gzipWindowBits : Zlib.zlibWindowBits
        open = inflateInit2_(stream, bits, zlibVersion(), Zlib.streamSize) == Z_OK
    }

    deinit {
        if open { inflateEnd(stream) }
        stream.deallocate()
    }

    /// Inflates the next piece of the coded body onto `body`.
    public func inflate(_ bytes: some Collection<UInt8>, into body: inout [UInt8]) throws(Failure) {
        guard open else { throw .broken }
        let input = Array(bytes)
        var remaining = input.count
        var consumed = 0
        while remaining > 0 {
            // RFC 1952 §2.2: a gzip body may be several members one after another.
            if ended {
                guard inflateReset(stream) == Z_OK else { throw .broken }
                ended = false
            }
            let (status, used, produced) = input.withUnsafeBufferPointer { inBuffer in
                outputChunk.withUnsafeMutableBufferPointer { out -> (Int32, Int, Int) in
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                    stream.pointee.avail_in = uInt(remaining)
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let status = CZlib.inflate(stream, Z_NO_FLUSH)
                    return (status, remaining - Int(stream.pointee.avail_in), out.count - Int(stream.pointee.avail_out))
                }
            }
            consumed += used
            remaining -= used
            if produced > 0 {
                guard body.count + produced <= limit else { throw .tooLarge }
                body.append(contentsOf: outputChunk[..<produced])
            }
            switch status {
            case Z_OK: continue
            case Z_STREAM_END: ended = true
            case Z_BUF_ERROR where produced == 0 && used == 0: return  // needs more input
            case Z_BUF_ERROR: continue
            default: throw .broken  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR
            }
        }
        // All input taken: drain what zlib still holds back (its output window was full).
        while !ended {
            let (status, produced) = outputChunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                stream.pointee.next_in = nil
                stream.pointee.avail_in = 0
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.pointee.avail_out))
            }
            if produced > 0 {
                guard body.count + produced <= limit else { throw .tooLarge }
                body.append(contentsOf: outputChunk[..<produced])
            }
            if status == Z_STREAM_END { ended = true; break }
            if status == Z_BUF_ERROR || produced == 0 { break }
            guard status == Z_OK else { throw .broken }
        }
    }

    /// The coded body is complete: it must have ended exactly at a stream's end.
    public func finish() throws(Failure) {
        guard open, ended else { throw .broken }
    }
}
