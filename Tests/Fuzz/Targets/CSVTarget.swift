// The CSV reader and PadChest row parsing. The first input byte sets how the rest is read:
// bits 0–2 the size of the source's short reads, bits 3–5 the reader's block size, bit 6
// whether the PadChest header is put in front (so that mutations reach the rows). The rest is
// read twice: once in one large block (the reference), once through short reads and small
// blocks, which must give the same records, fields, lines, issues, blank lines and byte count.
// The second pass also feeds a PadChest staging builder (header check, typed fields, dedupe,
// quarantine) and maps the staged rows into the clinical model: every row read is kept,
// a duplicate or quarantined, with a line and a reason.

import FicheLake
import FicheSources
import Glibc

/// Hands out the input in pieces of a fixed size (the reader must cope with any short read).
struct ChoppedBytes: CSVByteSource {
    let data: [UInt8]
    let piece: Int
    var position = 0

    mutating func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        let n = min(count, piece, data.count - position)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// One record as read: its line, fields unescaped, and the issue the reader found, if any.
struct ReadRecord: Equatable {
    var line: Int
    var fields: [[UInt8]]
    var raw: [UInt8]
    var issue: CSVIssue?
}

enum CSVTarget {
    static let header = Array((PadChestStaging.csvColumns.map(\.header).joined(separator: ",") + "\n").utf8)
    nonisolated(unsafe) static let labelCodes = try! PadChestLabelCodes.builtIn()

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let flags = input.first else { return }
        let piece = [1, 2, 3, 7, 64, 1000, 4096, 1 << 20][Int(flags & 7)]
        let blockSize = [16, 17, 31, 64, 100, 256, 4096, 1 << 16][Int(flags >> 3 & 7)]
        let withHeader = flags & 0x40 != 0
        let data = (withHeader ? header : []) + Array(input[1...])

        // The reference: one block holds everything.
        var reference: [ReadRecord] = []
        var one = CSVReader(source: MemoryBytes(data), blockSize: max(data.count + 1, 1 << 16), maxQuotedBytes: 1 << 20)
        defer { one.release() }
        do {
            while let block = try one.nextBlock() { collect(block, into: &reference) }
        } catch {
            check(false, "reading from memory threw: \(error)")
        }
        check(one.bytesConsumed == Int64(data.count), "consumed \(one.bytesConsumed) of \(data.count) bytes")

        // Short reads, small blocks, and PadChest staging on the way.
        var streamed: [ReadRecord] = []
        var reader = CSVReader(source: ChoppedBytes(data: data, piece: piece), blockSize: blockSize, maxQuotedBytes: 1 << 20)
        defer { reader.release() }
        var builder = PadChestStagingBuilder(file: "fuzz.csv", expectedBytes: Int64(data.count))
        builder.flushRows = 64
        var mapper = PadChestMapper(known: PadChestKnownEntities(), labelCodes: labelCodes)
        var headerChecked = false, isPadChest = false
        var stagedRows = 0, staged = 0
        do {
            while let block = try reader.nextBlock() {
                collect(block, into: &streamed)
                var first = 0
                if !headerChecked {
                    headerChecked = true
                    first = 1
                    do {
                        try PadChestStagingBuilder.checkHeader(block, record: 0, file: "fuzz.csv")
                        isPadChest = true
                    } catch let e as SourceError {
                        check(e.code == .format && e.file == "fuzz.csv" && e.line != nil, "header error: \(e)")
                    }
                }
                guard isPadChest else { continue }
                builder.add(block, from: first)
                stagedRows += block.recordCount - first
                if builder.pendingRows >= builder.flushRows {
                    staged += map(builder.takeBatch(), &mapper)
                }
            }
        } catch {
            check(false, "reading in pieces threw: \(error)")
        }
        check(streamed == reference, "records differ with pieces of \(piece) and blocks of \(blockSize)")
        check(reader.blankLines == one.blankLines, "blank lines \(reader.blankLines) vs \(one.blankLines)")
        check(reader.bytesConsumed == Int64(data.count), "consumed \(reader.bytesConsumed) of \(data.count) bytes")
        check(reader.skippedByteOrderMark == one.skippedByteOrderMark, "byte-order mark")
        guard isPadChest else { return }

        staged += map(builder.takeBatch(), &mapper)
        check(builder.rowsRead == stagedRows, "rows read \(builder.rowsRead) vs \(stagedRows) records")
        check(builder.rowsRead == builder.rowsKept + builder.duplicates + builder.badRows.count,
              "read \(builder.rowsRead) ≠ kept \(builder.rowsKept) + duplicates \(builder.duplicates) + quarantined \(builder.badRows.count)")
        check(staged == builder.rowsKept, "staged \(staged) rows, kept \(builder.rowsKept)")
        let lines = Set(reference.dropFirst().map(\.line))
        for bad in builder.badRows {
            check(lines.contains(bad.line), "quarantined line \(bad.line) is no record's line")
            check(!bad.reason.isEmpty, "quarantined without a reason")
            check(bad.rawText.utf8.count <= 3 * PadChestStagingBuilder.maxRawBytes, "raw text of \(bad.rawText.utf8.count) bytes")
        }
    }

    /// Maps a staged batch; returns its rows.
    static func map(_ batch: Batch, _ mapper: inout PadChestMapper) -> Int {
        check(batch.schema == PadChestStaging.schema, "staging schema")
        let clinical = mapper.map(batch)
        let n = batch.rowCount
        check(clinical.procedures.rowCount == n, "\(clinical.procedures.rowCount) procedures for \(n) images")
        check(clinical.encounters.rowCount <= n && clinical.patients.rowCount <= n && clinical.reports.rowCount <= n,
              "more encounters, patients or reports than images")
        for (_, b) in clinical.tables {
            for c in b.columns { check(c.count == b.rowCount, "ragged clinical batch") }
        }
        return n
    }

    static func collect(_ block: CSVBlock, into out: inout [ReadRecord]) {
        var issues: [Int: CSVIssue] = [:]
        for (r, issue) in block.issues {
            check(issues[r] == nil, "two issues for one record")
            issues[r] = issue
        }
        for r in 0..<block.recordCount {
            var fields: [[UInt8]] = []
            for f in 0..<block.fieldCount(r) {
                var field: [UInt8] = []
                block.appendField(r, f, to: &field)
                fields.append(field)
            }
            if let i = issues[r] {
                check(i.line >= block.recordLine[r] && i.column >= 1 && i.field >= 1, "issue position \(i)")
            }
            out.append(ReadRecord(line: block.recordLine[r], fields: fields, raw: Array(block.rawRecord(r)), issue: issues[r]))
        }
    }
}
