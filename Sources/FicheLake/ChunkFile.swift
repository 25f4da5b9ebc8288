// A chunk file holds one chunk of one table: a magic header, column blocks (zstd frames)
// one after another, a footer, then a fixed 16-byte trailer. A writer streams; a reader
// reads the trailer, then the footer, then only the columns it needs. Byte tables:
// Documentation.docc/ChunkFormat.md.

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ChunkFormat {
    /// The format version this build writes and reads.
    public static let version: UInt16 = 1
    static let headerMagic: [UInt8] = Array("FICHECK1".utf8)
    static let trailerMagic: [UInt8] = Array("FCHK".utf8)
    static let trailerSize = 16
    /// No chunk may claim more rows than this (a corrupt count cannot force a huge allocation).
    public static let maxRows = 1 << 28
}

/// What the footer says of one column.
public struct ColumnChunkInfo: Sendable, Equatable {
    public var field: Field
    public var encoding: ColumnEncoding
    public var hasValidity: Bool
    public var offset: Int
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var nullCount: Int
    public var checksum: UInt32
    public var stats: ColumnStats
}

// MARK: - Writing

public enum ChunkWriter {
    /// Encodes and compresses every column (both cores), then writes the file at `path`
    /// (created exclusively, 0600) and fsyncs it. Returns the file's size in bytes.
    public struct Written: Sendable {
        public var bytes: Int
        public var rawBytes: Int
        public var stats: [ColumnStats]
    }

    @discardableResult
    public static func write(_ batch: Batch, to path: String, zstdLevel: Int = 3) throws -> Written {
        let columns = batch.columns
        var blocks = [(EncodedColumn, [UInt8])?](repeating: nil, count: columns.count)
        var failure: Error?
        let lock = NSLockLike()
        blocks.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: columns.count) { i in
                let enc = ColumnEncoder.encode(columns[i])
                do {
                    let z = try enc.payload.withUnsafeBytes { try Zstd.compress($0, level: Int32(zstdLevel)) }
                    (base + i).pointee = (enc, z)
                } catch {
                    lock.withLock { failure = error }
                }
            }
        }
        if let failure { throw (failure as? LakeError)?.located(file: path) ?? failure }

        var footer = ByteWriter(capacity: 256)
        footer.append(UInt64(batch.rowCount))
        footer.append(UInt16(columns.count))
        for f in batch.schema.fields {
            footer.appendShortString(f.name)
            footer.append(f.type.rawValue)
            footer.append(UInt8(f.nullable ? 1 : 0))
        }
        var offset = ChunkFormat.headerMagic.count
        var raw = 0
        for (i, block) in blocks.enumerated() {
            guard let (enc, z) = block else { continue }
            footer.append(enc.encoding.rawValue)
            footer.append(UInt8(columns[i].validity == nil ? 0 : 1))
            footer.append(UInt64(offset))
            footer.append(UInt64(z.count))
            footer.append(UInt64(enc.payload.count))
            footer.append(UInt64(enc.nullCount))
            footer.append(Checksum.crc32(z))
            appendStats(enc.stats, &footer)
            offset += z.count
            raw += enc.payload.count
        }
        var trailer = ByteWriter(capacity: ChunkFormat.trailerSize)
        trailer.append(UInt32(footer.count))
        trailer.append(Checksum.crc32(footer.bytes))
        trailer.append(ChunkFormat.version)
        trailer.append(UInt16(0))
        trailer.append(ChunkFormat.trailerMagic)

        let fd = try FileIO.createExclusive(path)
        try FileIO.closeAfter(fd, path: path) {
            try FileIO.writeAll(fd, ChunkFormat.headerMagic, path: path)
            for case let (_, z)? in blocks { try FileIO.writeAll(fd, z, path: path) }
            try FileIO.writeAll(fd, footer.bytes, path: path)
            try FileIO.writeAll(fd, trailer.bytes, path: path)
            try FileIO.sync(fd, path: path)
        }
        return Written(bytes: offset + footer.count + ChunkFormat.trailerSize, rawBytes: raw,
                       stats: blocks.map { $0?.0.stats ?? .none })
    }

    static func appendStats(_ s: ColumnStats, _ w: inout ByteWriter) {
        switch s {
        case .none:
            w.append(UInt8(0))
        case .integer(let lo, let hi):
            w.append(UInt8(1)); w.append(lo); w.append(hi)
        case .float(let lo, let hi):
            w.append(UInt8(2)); w.append(lo.bitPattern); w.append(hi.bitPattern)
        case .string(let lo, let hi, let truncated):
            w.append(UInt8(3)); w.append(UInt8(truncated ? 1 : 0))
            w.append(UInt16(lo.count)); w.append(lo)
            w.append(UInt16(hi.count)); w.append(hi)
        }
    }
}

/// A tiny mutex for the rare error path of parallel work.
final class NSLockLike: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

// MARK: - Reading

/// An open chunk file whose trailer and footer have been verified. Columns are read,
/// checksummed, decompressed and decoded on demand.
public final class ChunkFile: @unchecked Sendable {
    public let path: String
    public let fileSize: Int
    public let formatVersion: UInt16
    public let rowCount: Int
    public let schema: Schema
    public let columns: [ColumnChunkInfo]
    public let footerSize: Int
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        let fd = try FileIO.openRead(path)
        do {
            let size = try FileIO.fileSize(fd, path: path)
            let minSize = ChunkFormat.headerMagic.count + ChunkFormat.trailerSize
            guard size >= minSize else {
                throw LakeError(.corrupt, "file is \(size) bytes, a chunk file has at least \(minSize)", file: path, offset: 0)
            }
            let head = try FileIO.readExactly(fd, count: ChunkFormat.headerMagic.count, offset: 0, path: path)
            guard head == ChunkFormat.headerMagic else {
                throw LakeError(.corrupt, "not a fiche chunk file (bad header magic)", file: path, offset: 0)
            }
            let trailerAt = size - ChunkFormat.trailerSize
            let trailer = try FileIO.readExactly(fd, count: ChunkFormat.trailerSize, offset: trailerAt, path: path)
            guard Array(trailer[12..<16]) == ChunkFormat.trailerMagic else {
                throw LakeError(.corrupt, "bad trailer magic (file truncated or not a chunk file)", file: path, offset: trailerAt + 12)
            }
            let (footerLength, footerCRC, version) = try trailer.withUnsafeBytes { raw -> (Int, UInt32, UInt16) in
                var t = ByteReader(raw, origin: trailerAt, what: "trailer")
                return (Int(try t.read(UInt32.self, "footer length")), try t.read(UInt32.self, "footer checksum"),
                        try t.read(UInt16.self, "format version"))
            }
            guard version == ChunkFormat.version else {
                throw LakeError(.unsupportedVersion,
                                "chunk format version \(version); this fiche reads version \(ChunkFormat.version)",
                                file: path, offset: trailerAt + 8)
            }
            let footerAt = trailerAt - footerLength
            guard footerLength > 0, footerAt >= ChunkFormat.headerMagic.count else {
                throw LakeError(.corrupt, "footer length \(footerLength) does not fit in a \(size)-byte file",
                                file: path, offset: trailerAt)
            }
            let footer = try FileIO.readExactly(fd, count: footerLength, offset: footerAt, path: path)
            let actual = Checksum.crc32(footer)
            guard actual == footerCRC else {
                throw LakeError(.corrupt, "footer checksum mismatch: stored \(hex(footerCRC)), computed \(hex(actual))",
                                file: path, offset: footerAt)
            }
            let parsed = try footer.withUnsafeBytes { raw in
                try ChunkFile.parseFooter(raw, origin: footerAt, dataEnd: footerAt)
            }
            self.fileSize = size
            self.formatVersion = version
            self.rowCount = parsed.rows
            self.schema = parsed.schema
            self.columns = parsed.columns
            self.footerSize = footerLength
            self.fd = fd
        } catch let e as LakeError {
            _ = close(fd)
            throw e.located(file: path)
        } catch {
            _ = close(fd)
            throw error
        }
    }

    deinit { _ = close(fd) }

    static func parseFooter(_ raw: UnsafeRawBufferPointer, origin: Int, dataEnd: Int) throws
        -> (rows: Int, schema: Schema, columns: [ColumnChunkInfo])
    {
        var r = ByteReader(raw, origin: origin, what: "footer")
        let rows64 = try r.read(UInt64.self, "row count")
        guard rows64 <= UInt64(ChunkFormat.maxRows) else {
            throw LakeError(.corrupt, "row count \(rows64) exceeds the limit \(ChunkFormat.maxRows)", offset: origin)
        }
        let rows = Int(rows64)
        let nFields = Int(try r.read(UInt16.self, "field count"))
        var fields: [Field] = []
        var seen = Set<String>()
        for i in 0..<nFields {
            let at = r.absolutePosition
            let name = try r.readShortString("name of field \(i)")
            let tag = try r.read(UInt8.self, "type of field \(i)")
            guard let type = ColumnType(rawValue: tag) else {
                throw LakeError(.corrupt, "unknown column type tag \(tag)", column: name, offset: r.absolutePosition - 1)
            }
            let nullable = try r.read(UInt8.self, "nullability of field \(i)") != 0
            guard seen.insert(name).inserted else {
                throw LakeError(.corrupt, "field name repeated", column: name, offset: at)
            }
            fields.append(Field(name, type, nullable: nullable))
        }
        var columns: [ColumnChunkInfo] = []
        for f in fields {
            let at = r.absolutePosition
            let encTag = try r.read(UInt8.self, "encoding of \(f.name)")
            guard let enc = ColumnEncoding(rawValue: encTag) else {
                throw LakeError(.corrupt, "unknown encoding tag \(encTag)", column: f.name, offset: at)
            }
            let hasValidity = try r.read(UInt8.self, "validity flag") != 0
            let off = try r.read(UInt64.self, "block offset")
            let csize = try r.read(UInt64.self, "compressed size")
            let usize = try r.read(UInt64.self, "uncompressed size")
            let nulls = try r.read(UInt64.self, "null count")
            let crc = try r.read(UInt32.self, "block checksum")
            let stats = try readStats(&r, column: f.name)
            let (end, o) = off.addingReportingOverflow(csize)
            guard !o, off >= UInt64(ChunkFormat.headerMagic.count), end <= UInt64(dataEnd) else {
                throw LakeError(.corrupt, "block [\(off), \(off &+ csize)) lies outside the data area [8, \(dataEnd))",
                                column: f.name, offset: at)
            }
            guard nulls <= rows64, !(nulls > 0 && !hasValidity) else {
                throw LakeError(.corrupt, "null count \(nulls) impossible for \(rows) rows", column: f.name, offset: at)
            }
            // Uncompressed sizes are bounded by what the rows can need; a string column's bytes
            // are bounded by the chunk limit of 2 GiB.
            let bound: UInt64 = f.type == .string ? UInt64(Int32.max) + UInt64(rows) * 4 + (1 << 20)
                : UInt64(rows) * 16 + UInt64(rows + 7) / 8 + (1 << 20)
            guard usize <= bound else {
                throw LakeError(.corrupt, "uncompressed size \(usize) exceeds the \(bound) bytes \(rows) rows can need",
                                column: f.name, offset: at)
            }
            columns.append(ColumnChunkInfo(field: f, encoding: enc, hasValidity: hasValidity, offset: Int(off),
                                           compressedSize: Int(csize), uncompressedSize: Int(usize),
                                           nullCount: Int(nulls), checksum: crc, stats: stats))
        }
        guard r.remaining == 0 else {
            throw LakeError(.corrupt, "\(r.remaining) unexpected bytes at the end of the footer", offset: r.absolutePosition)
        }
        return (rows, Schema(fields), columns)
    }

    static func readStats(_ r: inout ByteReader, column: String) throws -> ColumnStats {
        let kind = try r.read(UInt8.self, "stats kind")
        switch kind {
        case 0: return .none
        case 1: return .integer(min: try r.read(Int64.self, "min"), max: try r.read(Int64.self, "max"))
        case 2:
            return .float(min: Double(bitPattern: try r.read(UInt64.self, "min")),
                          max: Double(bitPattern: try r.read(UInt64.self, "max")))
        case 3:
            let truncated = try r.read(UInt8.self, "truncated flag") != 0
            let lo = Array(try r.readBytes(Int(try r.read(UInt16.self, "min length")), "min"))
            let hi = Array(try r.readBytes(Int(try r.read(UInt16.self, "max length")), "max"))
            return .string(min: lo, max: hi, truncated: truncated)
        default:
            throw LakeError(.corrupt, "unknown stats kind \(kind)", column: column, offset: r.absolutePosition - 1)
        }
    }

    /// Reads, checks and decodes one column.
    public func readColumn(at index: Int) throws -> Column {
        let info = columns[index]
        let name = info.field.name
        do {
            let z = try FileIO.readExactly(fd, count: info.compressedSize, offset: info.offset, path: path)
            let actual = Checksum.crc32(z)
            guard actual == info.checksum else {
                throw LakeError(.corrupt, "block checksum mismatch: stored \(hex(info.checksum)), computed \(hex(actual))",
                                offset: info.offset)
            }
            let payload: [UInt8]
            do {
                payload = try z.withUnsafeBytes { try Zstd.decompress($0, expected: info.uncompressedSize) }
            } catch var e as LakeError {
                e.offset = e.offset ?? info.offset
                throw e
            }
            let column = try payload.withUnsafeBytes { raw -> Column in
                var r = ByteReader(raw, origin: 0, what: "block of `\(name)` (uncompressed offsets)")
                return try ColumnDecoder.decode(&r, type: info.field.type, encoding: info.encoding,
                                                hasValidity: info.hasValidity, rows: rowCount)
            }
            guard column.nullCount == info.nullCount else {
                throw LakeError(.corrupt, "block has \(column.nullCount) nulls, footer says \(info.nullCount)", offset: info.offset)
            }
            return column
        } catch let e as LakeError {
            throw e.located(file: path, column: name)
        }
    }

    /// Reads the named columns (all if nil) under `schema` when given: a requested column
    /// this chunk lacks (added to the table later) reads as all null; a type change is an error.
    public func read(columns names: [String]? = nil, as schema: Schema? = nil) throws -> Batch {
        let target = schema ?? self.schema
        let wanted = names ?? target.names
        var fields: [Field] = []
        var out: [Column] = []
        for name in wanted {
            guard let field = target[name] else {
                throw LakeError(.invalidArgument, "no column `\(name)`; columns are \(target.names.joined(separator: ", "))",
                                file: path)
            }
            fields.append(field)
            if let i = self.schema.index(of: name) {
                guard self.schema.fields[i].type == field.type else {
                    throw LakeError(.schemaMismatch, "chunk stores \(self.schema.fields[i].type), table says \(field.type)",
                                    file: path, column: name)
                }
                out.append(try readColumn(at: i))
            } else {
                out.append(.nulls(field.type, count: rowCount))
            }
        }
        return Batch(schema: Schema(fields), columns: out, rowCount: rowCount)
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
