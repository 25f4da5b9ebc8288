// A streaming RFC 4180 CSV reader over bytes. It reads the input in large blocks into one
// buffer and hands out each block's complete records as byte ranges into that buffer:
// no String per field, no object per record. Records may span physical lines (quoted
// fields with line breaks); each record carries the physical line it starts on.
//
// Rules (RFC 4180 with the usual tolerances):
// - Fields are separated by `,`; records end at `\n` or `\r\n` (a lone `\r` is data).
// - A field starting with `"` is quoted: it ends at the next `"` not doubled; `""` inside
//   is one quote; commas and line breaks inside are data.
// - Completely empty lines are skipped (and counted).
// - A UTF-8 byte-order mark (EF BB BF) at the very start of the input is skipped: Excel and
//   many Windows exports write one.
// - Problems make the record *bad* but never stop the reader; it records the first issue
//   (kind, line, column, field) and carries on: a quote inside an unquoted field, text
//   after a closing quote, invalid UTF-8, a NUL byte (no PostgreSQL text can hold one), and
//   an unterminated quoted field. A quoted field still open at the end of input is
//   unterminated; one still open `maxQuotedBytes` past its start, with its first line
//   complete, is not closed within the limit: either way the record is cut at the end of its
//   first physical line and reading resumes on the next. (A quoted field closed on its own
//   line is read whole, however long: the line is.)

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

/// Why a record is bad.
public enum CSVIssueKind: UInt8, Sendable, CustomStringConvertible {
    case unterminatedQuote = 1
    case quoteInUnquotedField = 2
    case textAfterClosingQuote = 3
    case invalidUTF8 = 4
    case nulByte = 5
    case quotedFieldTooLong = 6

    public var description: String {
        switch self {
        case .unterminatedQuote: "unterminated quoted field"
        case .quoteInUnquotedField: "quote inside an unquoted field"
        case .textAfterClosingQuote: "text after a closing quote"
        case .invalidUTF8: "invalid UTF-8"
        case .nulByte: "NUL byte"
        case .quotedFieldTooLong: "quoted field not closed within \(CSVLimits.maxQuotedBytes >> 20) MiB"
        }
    }
}

/// The reader's default limits (messages name them).
public enum CSVLimits {
    /// A quoted field still open after this many bytes is taken as broken, not read on.
    public static let maxQuotedBytes = 1 << 20
}

/// The first problem found in a record, located by physical line, byte column (1-based)
/// and field number (1-based).
public struct CSVIssue: Sendable, Equatable, CustomStringConvertible {
    public var kind: CSVIssueKind
    public var line: Int
    public var column: Int
    public var field: Int

    public var description: String { "\(kind) at line \(line), column \(column) (field \(field))" }
}

/// The complete records of one block. Byte ranges index `bytes`, which stays valid only
/// until the reader's next `nextBlock()` call.
public struct CSVBlock {
    public internal(set) var bytes: UnsafeBufferPointer<UInt8>
    /// Per field: start and end offset of its content (quotes excluded).
    public internal(set) var fieldStart: [Int32] = []
    public internal(set) var fieldEnd: [Int32] = []
    /// Per field: true when the quoted content holds doubled quotes to unescape.
    public internal(set) var fieldEscaped: [Bool] = []
    /// Per record: index of its first field in the field arrays (count + 1 entries).
    public internal(set) var recordFirstField: [Int32] = [0]
    /// Per record: physical line (1-based) where it starts.
    public internal(set) var recordLine: [Int] = []
    /// Per record: raw bytes, from its first byte to before its line terminator.
    public internal(set) var recordStart: [Int32] = []
    public internal(set) var recordEnd: [Int32] = []
    /// Records with a problem, as (record index, first issue), in record order.
    public internal(set) var issues: [(record: Int, issue: CSVIssue)] = []

    init() { bytes = UnsafeBufferPointer(start: nil, count: 0) }

    public var recordCount: Int { recordLine.count }

    @inlinable
    public func fieldCount(_ record: Int) -> Int {
        Int(recordFirstField[record + 1] - recordFirstField[record])
    }

    /// Index into the field arrays of field `f` of `record`.
    @inlinable
    public func fieldIndex(_ record: Int, _ f: Int) -> Int { Int(recordFirstField[record]) + f }

    /// The content bytes of field `f` of `record`, still escaped if `fieldEscaped` says so.
    @inlinable
    public func rawField(_ record: Int, _ f: Int) -> UnsafeBufferPointer<UInt8> {
        let i = fieldIndex(record, f)
        let s = Int(fieldStart[i]), e = Int(fieldEnd[i])
        return UnsafeBufferPointer(rebasing: bytes[s..<e])
    }

    /// Field content with doubled quotes undone, appended to `out`.
    public func appendField(_ record: Int, _ f: Int, to out: inout [UInt8]) {
        let i = fieldIndex(record, f)
        let raw = rawField(record, f)
        guard fieldEscaped[i] else {
            out.append(contentsOf: raw)
            return
        }
        var k = 0
        while k < raw.count {
            out.append(raw[k])
            if raw[k] == UInt8(ascii: "\"") { k += 1 }  // skip the second quote of a pair
            k += 1
        }
    }

    /// Field content as a String (unescaped); for headers, messages and tests.
    public func fieldString(_ record: Int, _ f: Int) -> String {
        var out = [UInt8]()
        appendField(record, f, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The raw bytes of a record as they appear in the input (without line terminator).
    public func rawRecord(_ record: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(recordStart[record])..<Int(recordEnd[record])])
    }

    mutating func reset(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        fieldStart.removeAll(keepingCapacity: true)
        fieldEnd.removeAll(keepingCapacity: true)
        fieldEscaped.removeAll(keepingCapacity: true)
        recordFirstField.removeAll(keepingCapacity: true)
        recordFirstField.append(0)
        recordLine.removeAll(keepingCapacity: true)
        recordStart.removeAll(keepingCapacity: true)
        recordEnd.removeAll(keepingCapacity: true)
        issues.removeAll(keepingCapacity: true)
    }
}

/// Byte classes for the reader's scanning loops.
enum CSVByteClass {
    /// 1 where an unquoted field's scan must stop: separator, line end, quote, NUL, non-ASCII.
    nonisolated(unsafe) static let plainStop: UnsafePointer<UInt8> = makeTable(
        [UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\""), 0])
    /// 1 where a quoted field's scan must stop: quote, line end, NUL, non-ASCII.
    nonisolated(unsafe) static let quotedStop: UnsafePointer<UInt8> = makeTable(
        [UInt8(ascii: "\n"), UInt8(ascii: "\""), 0])

    static func makeTable(_ stops: [UInt8]) -> UnsafePointer<UInt8> {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        t.initialize(repeating: 0, count: 256)
        for b in stops { t[Int(b)] = 1 }
        for b in 0x80...0xFF { t[b] = 1 }
        return UnsafePointer(t)
    }
}

/// Streams records from a byte source block by block in bounded memory (one buffer that
/// grows only to hold the longest record).
public struct CSVReader<Source: CSVByteSource> {
    public private(set) var source: Source
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Valid bytes in the buffer, and where the unconsumed ones start.
    private var filled = 0
    private var consumed = 0
    private var atEOF = false
    /// Physical line (1-based) of the first unconsumed byte.
    private var line = 1
    private var block = CSVBlock()
    /// A quoted field longer than this is taken as unterminated.
    public let maxQuotedBytes: Int
    /// Empty lines skipped so far.
    public private(set) var blankLines = 0
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

    /// Outcome of parsing one record.
    private enum Step { case record, blank, needMore }

    /// Parses complete records from `consumed` on; leaves `consumed` at the first byte not
    /// yet part of a complete record.
    private mutating func parseRecords() {
        let base = UnsafePointer(buffer)
        let n = filled
        let plain = CSVByteClass.plainStop, quoted = CSVByteClass.quotedStop
        while consumed < n {
            let step = parseRecord(base, n, plain, quoted)
            if case .needMore = step { break }
        }
    }

    /// Length of the valid UTF-8 sequence at `p` (1...4), 0 if invalid, -1 if it runs past `n`.
    @inline(__always)
    private static func utf8Length(_ s: UnsafePointer<UInt8>, _ p: Int, _ n: Int) -> Int {
        let b0 = s[p]
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return 0
        }
        for k in 1..<len {
            if p + k >= n { return -1 }
            let b = s[p + k]
            if k == 1 {
                if b < lo || b > hi { return 0 }
            } else if b & 0xC0 != 0x80 {
                return 0
            }
        }
        return len
    }

    private mutating func parseRecord(_ s: UnsafePointer<UInt8>, _ n: Int,
                                      _ plainStop: UnsafePointer<UInt8>, _ quotedStop: UnsafePointer<UInt8>) -> Step {
        let start = consumed
        let startLine = line
        let fieldMark = block.fieldStart.count
        var p = start
        var curLine = startLine
        var lineStart = start
        var issue: CSVIssue? = nil
        var fieldNo = 1
        let comma = UInt8(ascii: ","), nl = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), quote = UInt8(ascii: "\"")

        // A completely empty line.
        if s[p] == nl || (s[p] == cr && p + 1 < n && s[p + 1] == nl) {
            consumed = p + (s[p] == nl ? 1 : 2)
            line += 1
            blankLines += 1
            return .blank
        }
        if s[p] == cr && p + 1 >= n && !atEOF { return .needMore }

        func rollback(_ r: inout CSVReader) {
            r.block.fieldStart.removeSubrange(fieldMark...)
            r.block.fieldEnd.removeSubrange(fieldMark...)
            r.block.fieldEscaped.removeSubrange(fieldMark...)
        }

        var recordEnd = -1
        var next = -1
        fields: while true {
            if p < n && s[p] == quote {
                // Quoted field.
                let quoteLine = curLine, quoteColumn = p - lineStart + 1
                p += 1
                let contentStart = p
                var escaped = false
                var closed = false
                while true {
                    while p < n && quotedStop[Int(s[p])] == 0 { p += 1 }
                    if p >= n { break }
                    let b = s[p]
                    if b == quote {
                        if p + 1 >= n {
                            if atEOF {
                                closed = true
                                break
                            }
                            break  // need to see the next byte
                        }
                        if s[p + 1] == quote {
                            escaped = true
                            p += 2
                            continue
                        }
                        closed = true
                        break
                    } else if b == nl {
                        p += 1
                        curLine += 1
                        lineStart = p
                    } else if b == 0 {
                        if issue == nil {
                            issue = CSVIssue(kind: .nulByte, line: curLine, column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                    } else {
                        let len = Self.utf8Length(s, p, n)
                        if len > 0 {
                            p += len
                        } else if len < 0 && !atEOF {
                            p = n  // sequence runs past the data: need more
                        } else {
                            if issue == nil {
                                issue = CSVIssue(kind: .invalidUTF8, line: curLine, column: p - lineStart + 1, field: fieldNo)
                            }
                            p += 1
                        }
                    }
                }
                if !closed {
                    if !atEOF && p - contentStart <= maxQuotedBytes {
                        rollback(&self)
                        return .needMore
                    }
                    // Unterminated: cut the record at the end of its first physical line.
                    rollback(&self)
                    var e = start
                    while e < n && s[e] != nl { e += 1 }
                    if e >= n && !atEOF {
                        return .needMore
                    }
                    let rawEnd = (e > start && s[e - 1] == cr) ? e - 1 : e
                    block.fieldStart.append(Int32(start))
                    block.fieldEnd.append(Int32(rawEnd))
                    block.fieldEscaped.append(false)
                    // The open quote is the reason given: it explains the cut.
                    let kind: CSVIssueKind = atEOF ? .unterminatedQuote : .quotedFieldTooLong
                    block.issues.append((block.recordCount,
                                         CSVIssue(kind: kind, line: quoteLine, column: quoteColumn, field: fieldNo)))
                    block.recordFirstField.append(Int32(block.fieldStart.count))
                    block.recordLine.append(startLine)
                    block.recordStart.append(Int32(start))
                    block.recordEnd.append(Int32(rawEnd))
                    consumed = e < n ? e + 1 : n
                    line = startLine + 1
                    return .record
                }
                block.fieldStart.append(Int32(contentStart))
                block.fieldEnd.append(Int32(p))
                block.fieldEscaped.append(escaped)
                p += 1  // past the closing quote
                // After the closing quote: a separator, a line end, or end of input.
                if p < n && s[p] != comma && s[p] != nl && s[p] != cr {
                    if issue == nil {
                        issue = CSVIssue(kind: .textAfterClosingQuote, line: curLine, column: p - lineStart + 1, field: fieldNo)
                    }
                    // Skip to the next separator or line end, as part of this field's junk.
                    while p < n && s[p] != comma && s[p] != nl {
                        if s[p] == cr && p + 1 < n && s[p + 1] == nl { break }
                        p += 1
                    }
                }
            } else {
                // Unquoted field.
                let contentStart = p
                while true {
                    while p < n && plainStop[Int(s[p])] == 0 { p += 1 }
                    if p >= n { break }
                    let b = s[p]
                    if b == comma || b == nl { break }
                    if b == cr {
                        if p + 1 < n {
                            if s[p + 1] == nl { break }
                            p += 1
                            continue
                        }
                        if atEOF { p += 1; continue }
                        break  // need the next byte
                    }
                    if b == quote || b == 0 {
                        if issue == nil {
                            issue = CSVIssue(kind: b == 0 ? .nulByte : .quoteInUnquotedField, line: curLine,
                                             column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                        continue
                    }
                    let len = Self.utf8Length(s, p, n)
                    if len > 0 {
                        p += len
                    } else if len < 0 && !atEOF {
                        p = n
                        break
                    } else {
                        if issue == nil {
                            issue = CSVIssue(kind: .invalidUTF8, line: curLine, column: p - lineStart + 1, field: fieldNo)
                        }
                        p += 1
                    }
                }
                block.fieldStart.append(Int32(contentStart))
                block.fieldEnd.append(Int32(p))
                block.fieldEscaped.append(false)
            }
            // Separator or record end.
            if p >= n {
                if !atEOF {
                    rollback(&self)
                    return .needMore
                }
                recordEnd = n
                next = n
                break fields
            }
            let b = s[p]
            if b == comma {
                p += 1
                fieldNo += 1
                continue fields
            }
            if b == nl {
                recordEnd = p
                next = p + 1
                curLine += 1
                break fields
            }
            if b == cr {
                if p + 1 < n && s[p + 1] == nl {
                    recordEnd = p
                    next = p + 2
                    curLine += 1
                    break fields
                }
                if !atEOF {
                    rollback(&self)
                    return .needMore
                }
                recordEnd = n
                next = n
                break fields
            }
            // Unreachable by construction; treat as end of record.
            recordEnd = p
            next = p + 1
            break fields
        }
        if let issue { block.issues.append((block.recordCount, issue)) }
        block.recordFirstField.append(Int32(block.fieldStart.count))
        block.recordLine.append(startLine)
        block.recordStart.append(Int32(start))
        block.recordEnd.append(Int32(recordEnd))
        consumed = next
        line = curLine
        return .record
    }
}

extension CSVReader where Source == GzipReader {
    /// A reader over a plain or `.gz` file.
    public init(path: String, blockSize: Int = 4 << 20) throws {
        self.init(source: try GzipReader(path: path), blockSize: blockSize)
    }
}
