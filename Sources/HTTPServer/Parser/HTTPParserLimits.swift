/// The limits the parser enforces while bytes accumulate (API.md §10).
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line, without its CRLF (414 beyond).
    public var maxRequestLineBytes: Int
    /// Largest header section: every field line with its CRLF (431 beyond). Trailers count too.
    public var maxHeaderBytes: Int
    /// Most header fields (431 beyond). Trailers count too.
    public var maxHeaderCount: Int
    /// Largest body after de-chunking (413 beyond).
    public var maxBodyBytes: Int
    /// Longest chunk-size line including extensions (400 beyond).
    public var maxChunkLineBytes: Int

    /// Limits with the defaults of API.md §10.
    public init(
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 64 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1024 * 1024,
        maxChunkLineBytes: Int = 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}
