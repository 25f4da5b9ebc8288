// A streaming RFC 4180 CSV reader over bytes. It reads the input in large blocks into one
// buffer and hands out each block's complete records as byte ranges into that buffer:
// no String per field, no object per record. Records may span physical lines (quoted
// fields with line breaks); each record carries the physical line it starts on.
//
// This file: the byte sources and the reader's buffer (fill, grow, byte-order mark, hand out
// blocks). The record rules and their scanner: CSVReader+Records.swift; the records handed
// out: CSVBlock.swift; what a bad record's issue says: CSVIssue.swift.

/// A source of bytes for `CSVReader`: a `.gz` or plain file, or bytes in memory for tests.
public protocol CSVByteSource {
    /// Reads up to `count` bytes; returns how many (fewer is fine), 0 only at end of input.
    mutating func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int
}

extension GzipReader: CSVByteSource {}

/// Bytes in memory as a CSV source.
public struct MemoryBytes: CSVByteSource {
    let data: [UInt8]
    var position = 0

    public init(_ data: [UInt8]) { self.data = data }

    public mutating func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        let n = min(count, data.count - position)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { src in
            if let base = src.baseAddress { buffer.copyMemory(from: base + position, byteCount: n) }
        }
        position += n
        return n
    }
}

/// Streams records from a byte source block by block in bounded memory (one buffer that
/// grows only to hold the longest record).
public struct CSVReader<Source: CSVByteSource> {
    public private(set) var source: Source
    var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Valid bytes in the buffer, and where the unconsumed ones start.
    var filled = 0
    var consumed = 0
    var atEOF = false
    /// Physical line (1-based) of the first unconsumed byte.
    var line = 1
    var block = CSVBlock()
    /// A quoted field longer than this is taken as unterminated.
    public let maxQuotedBytes: Int
    /// Empty lines skipped so far.
    public internal(set) var blankLines = 0
    /// Bytes handed out so far (uncompressed), for progress.
    public private(set) var bytesConsumed: Int64 = 0
    private var released = false
    /// True until the start of the input has been checked for a byte-order mark.
    private var atStart = true
    /// True when the input began with a UTF-8 byte-order mark (skipped).
    public private(set) var skippedByteOrderMark = false

    public init(source: Source, blockSize: Int = 4 << 20, maxQuotedBytes: Int = CSVLimits.maxQuotedBytes) {
        self.source = source
        capacity = max(blockSize, 16)
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        self.maxQuotedBytes = maxQuotedBytes
    }

    /// Frees the buffer; the reader must not be used afterwards.
    public mutating func release() {
        guard !released else { return }
        buffer.deallocate()
        released = true
    }

    /// The next block of complete records, or nil at end of input. The block (and its
    /// `bytes`) is valid until the next call.
    public mutating func nextBlock() throws -> CSVBlock? {
        precondition(!released, "CSVReader used after release()")
        while true {
            // Move the unconsumed tail to the front and fill the rest.
            if consumed > 0 {
                let tail = filled - consumed
                if tail > 0 { buffer.update(from: buffer + consumed, count: tail) }
                filled = tail
                consumed = 0
            }
            if !atEOF {
                if filled == capacity { grow() }
                // Fill the buffer before parsing, however short the source's reads: parsing
                // after each short read would rescan an unfinished record once per read, and a
                // long record read a few bytes at a time would take quadratic time (found by
                // fuzzing: a 60 KB line read byte by byte took a minute).
                while filled < capacity {
                    let n = try source.read(into: buffer + filled, count: capacity - filled)
                    if n == 0 {
                        atEOF = true
                        break
                    }
                    filled += n
                }
            }
            if atStart {
                if filled < 3 && !atEOF { continue }  // a short read: see 3 bytes before deciding
                atStart = false
                if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF {
                    consumed = 3  // counted in bytesConsumed with the records after it
                    skippedByteOrderMark = true
                }
            }
            if filled == consumed && atEOF { return nil }
            block.reset(bytes: UnsafeBufferPointer(start: buffer, count: filled))
            parseRecords()
            bytesConsumed += Int64(consumed)
            if block.recordCount > 0 { return block }
            if atEOF { return nil }  // everything left was blank lines
            if consumed == 0 && filled < capacity && !atEOF { continue }  // need more bytes
            if consumed == 0 && filled == capacity { grow() }
        }
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        nb.update(from: buffer, count: filled)
        buffer.deallocate()
        buffer = nb
        capacity = newCapacity
    }

}

extension CSVReader where Source == GzipReader {
    /// A reader over a plain or `.gz` file.
    public init(path: String, blockSize: Int = 4 << 20) throws {
        self.init(source: try GzipReader(path: path), blockSize: blockSize)
    }
}
