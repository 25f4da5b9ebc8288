// The chunk-file reader. The first input byte picks the mode:
// - even: the rest is a chunk file, read whole by `ChunkFile` (every column). Unless bit 1 is
//   set, the harness first rewrites the footer's block checksums and the trailer's footer
//   checksum to match, so that mutations get past the CRCs into the footer parser, zstd and
//   the column decoder. A file that reads is written again by `ChunkWriter` and must read
//   back to the same values.
// - odd: a column block straight into `ColumnDecoder` (no zstd, no CRC): bytes 1–5 are the
//   column type tag, encoding tag, validity flag and row count (u16), the rest the
//   uncompressed block. A block that decodes must be well formed and survive
//   encode → decode unchanged.

import Glibc
@testable import FicheLake

enum ChunkTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let mode = input.first else { return }
        let rest = UnsafeBufferPointer(rebasing: input[1...])
        if mode & 1 == 0 {
            file(rest, repair: mode & 2 == 0)
        } else {
            block(rest)
        }
    }

    // MARK: whole files

    static func file(_ raw: UnsafeBufferPointer<UInt8>, repair: Bool) {
        var bytes = Array(raw)
        if repair { repairChecksums(&bytes) }
        let path = FuzzScratch.write(bytes, to: "input.fchk")
        let batch: Batch
        do {
            let chunk = try ChunkFile(path: path)
            check(chunk.columns.count == chunk.schema.fields.count, "footer columns vs fields")
            check(chunk.rowCount >= 0 && chunk.rowCount <= ChunkFormat.maxRows, "row count \(chunk.rowCount)")
            batch = try chunk.read()
        } catch let e as LakeError {
            check(e.file == path, "error does not name the file: \(e)")
            return
        } catch {
            check(false, "ChunkFile threw something else than a LakeError: \(error)")
            return
        }
        for c in batch.columns { checkWellFormed(c, rows: batch.rowCount) }
        // Written again and read back: the same values.
        let copy = FuzzScratch.folder + "/copy.fchk"
        unlink(copy)
        do {
            try ChunkWriter.write(batch, to: copy, zstdLevel: 1)
            let again = try ChunkFile(path: copy).read()
            check(again.schema == batch.schema, "schema changed on rewrite")
            for (a, b) in zip(batch.columns, again.columns) {
                check(a.sameValues(as: b), "values changed on rewrite")
            }
        } catch {
            check(false, "a chunk that read could not be written and read again: \(error)")
        }
    }

    /// Makes the footer's block checksums and the trailer's footer checksum match the bytes.
    static func repairChecksums(_ b: inout [UInt8]) {
        let size = b.count
        guard size >= ChunkFormat.headerMagic.count + ChunkFormat.trailerSize,
              Array(b[(size - 4)...]) == ChunkFormat.trailerMagic else { return }
        let trailerAt = size - ChunkFormat.trailerSize
        let footerLength = Int(UInt32(b[trailerAt]) | UInt32(b[trailerAt + 1]) << 8
            | UInt32(b[trailerAt + 2]) << 16 | UInt32(b[trailerAt + 3]) << 24)
        let footerAt = trailerAt - footerLength
        guard footerLength > 0, footerAt >= ChunkFormat.headerMagic.count else { return }
        b.withUnsafeMutableBytes { all in
            func store(_ v: UInt32, at i: Int) {
                for k in 0..<4 { all[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
            }
            let footer = UnsafeRawBufferPointer(rebasing: all[footerAt..<trailerAt])
            var r = ByteReader(footer, origin: footerAt, what: "footer")
            do {
                _ = try r.read(UInt64.self, "rows")
                let n = Int(try r.read(UInt16.self, "fields"))
                for _ in 0..<n {
                    _ = try r.readShortString("name")
                    _ = try r.readBytes(2, "type, nullable")
                }
                for _ in 0..<n {
                    _ = try r.readBytes(2, "encoding, validity")
                    let offset = try r.read(UInt64.self, "offset")
                    let length = try r.read(UInt64.self, "compressed size")
                    _ = try r.readBytes(16, "sizes")
                    let crcAt = r.absolutePosition
                    _ = try r.read(UInt32.self, "crc")
                    _ = try ChunkFile.readStats(&r, column: "")
                    if offset >= 8, offset <= UInt64(footerAt), length <= UInt64(footerAt) - offset {
                        let block = UnsafeRawBufferPointer(rebasing: all[Int(offset)..<Int(offset + length)])
                        store(Checksum.crc32(block), at: crcAt)
                    }
                }
            } catch {}
            store(Checksum.crc32(UnsafeRawBufferPointer(rebasing: all[footerAt..<trailerAt])), at: trailerAt + 4)
        }
    }

    // MARK: column blocks

    static func block(_ raw: UnsafeBufferPointer<UInt8>) {
        guard raw.count >= 5 else { return }
        guard let type = ColumnType(rawValue: raw[0]), let encoding = ColumnEncoding(rawValue: raw[1]) else { return }
        let hasValidity = raw[2] & 1 == 1
        let rows = Int(raw[3]) | Int(raw[4]) << 8
        let payload = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: raw[5...]))
        let column: Column
        do {
            var r = ByteReader(payload, origin: 0, what: "block")
            column = try ColumnDecoder.decode(&r, type: type, encoding: encoding, hasValidity: hasValidity, rows: rows)
        } catch is LakeError {
            return
        } catch {
            check(false, "ColumnDecoder threw something else than a LakeError: \(error)")
            return
        }
        check(column.type == type, "decoded a \(column.type) column for a \(type) block")
        check((column.validity != nil) == hasValidity, "validity presence")
        checkWellFormed(column, rows: rows)
        // Encoded again (the writer picks its own encoding) and decoded: the same values.
        let encoded = ColumnEncoder.encode(column)
        check(encoded.nullCount == column.nullCount, "null count \(encoded.nullCount) vs \(column.nullCount)")
        do {
            let again = try encoded.payload.withUnsafeBytes { p -> Column in
                var r = ByteReader(p, origin: 0, what: "re-encoded block")
                return try ColumnDecoder.decode(&r, type: type, encoding: encoded.encoding,
                                                hasValidity: column.validity != nil, rows: rows)
            }
            check(again.sameValues(as: column), "values changed through encode → decode (\(encoded.encoding))")
        } catch {
            check(false, "the writer's own block does not decode: \(error)")
        }
    }

    /// Row count, validity length, and string offsets inside their bytes.
    static func checkWellFormed(_ c: Column, rows: Int) {
        check(c.count == rows, "column has \(c.count) values for \(rows) rows")
        if let v = c.validity { check(v.count == rows, "validity of \(v.count) bits for \(rows) rows") }
        if case .string(let s) = c.values {
            check(s.offsets.count == rows + 1 && s.offsets.first == 0, "string offsets count/start")
            var previous: Int32 = 0
            for o in s.offsets {
                check(o >= previous, "string offsets go backwards")
                previous = o
            }
            check(Int(previous) == s.bytes.count, "last offset \(previous) vs \(s.bytes.count) bytes")
        }
    }
}
