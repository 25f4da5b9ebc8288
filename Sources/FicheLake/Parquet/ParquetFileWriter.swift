// A Parquet file written row group by row group:
//
//   "PAR1" | row group 0: column 0 pages, column 1 pages, … | row group 1 … |
//   FileMetaData (Thrift compact) | footer length (u32 LE) | "PAR1"
//
// The file is written under a temporary name beside its final one (a dot name, which
// dataset readers skip), fsynced, then renamed into place and its folder fsynced: a reader
// finds the whole file or none. Files are private to their owner (0600).
// Byte tables: Documentation.docc/ParquetFormat.md.

import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ParquetFormat {
    static let magic: [UInt8] = Array("PAR1".utf8)
}

/// What a finished file holds.
public struct ParquetFileInfo: Sendable {
    public var path: String
    public var rows: Int
    public var bytes: Int
    public var rowGroups: Int
}

public final class ParquetFileWriter {
    public let path: String
    public let schema: Schema
    public let options: ParquetWriteOptions
    let temporaryPath: String
    private var fd: Int32
    private var offset = 0
    private var rowGroups: [ParquetRowGroup] = []
    private var rows = 0
    private var done = false

    /// Creates the temporary file and writes the leading magic. `path`'s folder must exist.
    public init(path: String, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions()) throws {
        self.path = path
        self.schema = schema
        self.options = options
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = folder + "/." + name + ".tmp-" + FileIO.randomHex(6)
        fd = try FileIO.createExclusive(temporaryPath)
        do {
            try FileIO.writeAll(fd, ParquetFormat.magic, path: temporaryPath)
        } catch {
            abandon()
            throw error
        }
        offset = ParquetFormat.magic.count
    }

    deinit { abandon() }

    /// Writes `batch` as one row group (nothing for an empty batch). Its schema must be the
    /// writer's. Columns are encoded on both cores, then written in schema order.
    public func write(_ batch: Batch) throws {
        precondition(!done, "Parquet writer already finished")
        guard batch.schema == schema else {
            throw LakeError(.schemaMismatch, "batch schema differs from the Parquet file's", file: path)
        }
        guard batch.rowCount > 0 else { return }
        guard rowGroups.count < Int(Int16.max) else {
            throw LakeError(.tooLarge, "more than \(Int16.max) row groups in one Parquet file", file: path)
        }
        let fields = schema.fields
        let options = self.options
        var chunks = [Result<EncodedColumnChunk, Error>?](repeating: nil, count: fields.count)
        chunks.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: fields.count) { i in
                (base + i).pointee = Result {
                    var encoder = try ParquetColumnChunkEncoder(field: fields[i], options: options)
                    return try encoder.encode(batch.columns[i])
                }
            }
        }
        let groupOffset = offset
        var columns: [ParquetColumnChunkMetadata] = []
        for (i, slot) in chunks.enumerated() {
            let chunk: EncodedColumnChunk
            do {
                guard let slot else { continue }
                chunk = try slot.get()
            } catch let e as LakeError {
                throw e.located(file: path, column: fields[i].name)
            }
            let start = offset
            try FileIO.writeAll(fd, chunk.bytes, path: temporaryPath)
            offset += chunk.bytes.count
            columns.append(ParquetColumnChunkMetadata(
                type: chunk.physicalType, encodings: chunk.encodings, path: fields[i].name, codec: options.codec,
                numValues: Int64(chunk.numValues), totalUncompressedSize: Int64(chunk.uncompressedBytes),
                totalCompressedSize: Int64(chunk.bytes.count), dataPageOffset: Int64(start + chunk.dictionaryPageBytes),
                dictionaryPageOffset: chunk.dictionaryPageBytes > 0 ? Int64(start) : nil, statistics: chunk.statistics,
                encodingStats: chunk.encodingStats))
        }
        rowGroups.append(ParquetRowGroup(columns: columns, numRows: Int64(batch.rowCount), fileOffset: Int64(groupOffset),
                                         ordinal: Int16(rowGroups.count)))
        rows += batch.rowCount
    }

    /// Writes the footer, fsyncs, renames the file into place and fsyncs its folder.
    @discardableResult
    public func finish() throws -> ParquetFileInfo {
        precondition(!done, "Parquet writer already finished")
        let metadata = ParquetFileMetadata(
            schema: [ParquetSchemaElement.root(children: schema.fields.count)]
                + schema.fields.map { ParquetSchemaElement($0, uuidAs: options.uuidAs) },
            numRows: Int64(rows), rowGroups: rowGroups, keyValues: options.keyValues, createdBy: options.createdBy)
        var tail = metadata.encoded()
        ParquetPhysicalValues.appendLittleEndian(UInt32(tail.count), &tail)
        tail.append(contentsOf: ParquetFormat.magic)
        do {
            try FileIO.writeAll(fd, tail, path: temporaryPath)
            try FileIO.sync(fd, path: temporaryPath)
            let closing = fd
            fd = -1
            if close(closing) != 0 { throw FileIO.errorText("close", temporaryPath) }
            if rename(temporaryPath, path) != 0 { throw FileIO.errorText("rename to \(path)", temporaryPath) }
            done = true
            let slash = path.lastIndex(of: "/")
            try FileIO.syncDirectory(slash.map { String(path[..<$0]) } ?? ".")
        } catch {
            abandon()
            throw error
        }
        return ParquetFileInfo(path: path, rows: rows, bytes: offset + tail.count, rowGroups: rowGroups.count)
    }

    /// Closes and removes the temporary file (nothing once finished).
    public func abandon() {
        if fd >= 0 {
            _ = close(fd)
            fd = -1
        }
        if !done {
            done = true
            _ = unlink(temporaryPath)
        }
    }
}
