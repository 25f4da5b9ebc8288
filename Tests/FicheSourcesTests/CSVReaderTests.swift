import Foundation
import FicheLake
import Testing

@testable import FicheSources

/// Bytes in memory, handed out in splits chosen by `splits` (cycled) to exercise every
/// place a record can be cut between reads.
struct SplitBytes: CSVByteSource {
    let data: [UInt8]
    var position = 0
    var splits: [Int]
    var next = 0

    init(_ data: [UInt8], splits: [Int] = []) {
        self.data = data
        self.splits = splits
    }

    mutating func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var n = min(count, data.count - position)
        if !splits.isEmpty {
            n = min(n, splits[next % splits.count])
            next += 1
        }
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { src in
            buffer.copyMemory(from: src.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// One record as the tests see it.
struct ParsedRecord: Equatable, CustomStringConvertible {
    var line: Int
    var fields: [String]
    var raw: String
    var issue: CSVIssue?
    var description: String { "line \(line) \(fields) issue \(issue.map { "\($0)" } ?? "none")" }
}

func parseAll(_ bytes: [UInt8], splits: [Int] = [], blockSize: Int = 1 << 16,
              maxQuotedBytes: Int = 1 << 20) throws -> (records: [ParsedRecord], blankLines: Int) {
    var reader = CSVReader(source: SplitBytes(bytes, splits: splits), blockSize: blockSize,
                           maxQuotedBytes: maxQuotedBytes)
    defer { reader.release() }
    var out = [ParsedRecord]()
    while let block = try reader.nextBlock() {
        var issues = [Int: CSVIssue]()
        for (r, i) in block.issues { issues[r] = i }
        for r in 0..<block.recordCount {
            let fields = (0..<block.fieldCount(r)).map { block.fieldString(r, $0) }
            let raw = String(decoding: block.rawRecord(r), as: UTF8.self)
            out.append(ParsedRecord(line: block.recordLine[r], fields: fields, raw: raw, issue: issues[r]))
        }
    }
    return (out, reader.blankLines)
}

/// Writes fields as RFC 4180 CSV, quoting where needed; the reference for the reader.
func encodeCSV(_ rows: [[String]], terminator: String = "\n") -> (text: String, lines: [Int]) {
    var text = ""
    var lines = [Int]()
    var line = 1
    for row in rows {
        lines.append(line)
        let encoded = row.map { f -> String in
            if f.contains(",") || f.contains("\"") || f.contains("\n") || f.contains("\r") || f.isEmpty && row.count == 1 {
                return "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return f
        }
        let rec = encoded.joined(separator: ",")
        line += rec.utf8.filter { $0 == 10 }.count + 1
        text += rec + terminator
    }
    return (text, lines)
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}

@Suite struct CSVReaderTests {
    let sample = """
        ,ImageID,Labels,Report
        0,a.png,"['normal']", sin hallazg .
        1,b.png,"['x', 'y']","multi
        line ""quoted"" text"
        2,c.png,[],
        """

    @Test func parsesQuotedMultilineFieldsAndLines() throws {
        let (records, _) = try parseAll(Array(sample.utf8))
        #expect(records.count == 4)
        #expect(records.map(\.line) == [1, 2, 3, 5])
        #expect(records[1].fields == ["0", "a.png", "['normal']", " sin hallazg ."])
        #expect(records[2].fields == ["1", "b.png", "['x', 'y']", "multi\nline \"quoted\" text"])
        #expect(records[3].fields == ["2", "c.png", "[]", ""])
        #expect(records.allSatisfy { $0.issue == nil })
    }

    @Test func sameRecordsWhateverTheReadSplits() throws {
        let bytes = Array(sample.utf8)
        let whole = try parseAll(bytes).records
        for split in 1...9 {
            #expect(try parseAll(bytes, splits: [split]).records == whole, "split \(split)")
        }
        // A block smaller than a record forces the buffer to grow.
        #expect(try parseAll(bytes, splits: [3, 1, 5], blockSize: 16).records == whole)
    }

    @Test func crlfAndMissingFinalNewlineAndBlankLines() throws {
        let text = "a,b\r\n\r\n\"x\r\ny\",2\r\nlast,1"
        let (records, blanks) = try parseAll(Array(text.utf8))
        #expect(records.map(\.fields) == [["a", "b"], ["x\r\ny", "2"], ["last", "1"]])
        #expect(records.map(\.line) == [1, 3, 5])
        #expect(blanks == 1)
        #expect(records[1].raw == "\"x\r\ny\",2")
    }

    @Test func aByteOrderMarkAtTheStartIsSkippedWhateverTheSplits() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let body = Array(",ImageID,Labels\r\n0,a.png,\"['x']\"\r\n1,b.png,[]\r\n".utf8)
        let expected = [[ "", "ImageID", "Labels"], ["0", "a.png", "['x']"], ["1", "b.png", "[]"]]
        for split in [0, 1, 2, 3, 4] {
            var reader = CSVReader(source: SplitBytes(bom + body, splits: split == 0 ? [] : [split]), blockSize: 16)
            defer { reader.release() }
            var fields = [[String]](), lines = [Int]()
            while let block = try reader.nextBlock() {
                #expect(block.issues.isEmpty, "split \(split)")
                for r in 0..<block.recordCount {
                    fields.append((0..<block.fieldCount(r)).map { block.fieldString(r, $0) })
                    lines.append(block.recordLine[r])
                }
            }
            #expect(fields == expected, "split \(split)")
            #expect(lines == [1, 2, 3], "split \(split)")
            #expect(reader.skippedByteOrderMark, "split \(split)")
            #expect(reader.bytesConsumed == Int64(bom.count + body.count), "split \(split)")
        }
        // Only at the very start: the same bytes later are data (the first field of record 2).
        let later = try parseAll(Array("a\n".utf8) + bom + Array("b\n".utf8)).records
        #expect(later.map(\.fields) == [["a"], ["\u{FEFF}b"]])
        // A file that is only a mark holds no record; two bytes of one are not a mark.
        #expect(try parseAll(bom).records.isEmpty)
        let half = try parseAll([0xEF, 0xBB]).records
        #expect(half.count == 1 && half[0].issue?.kind == .invalidUTF8)
    }

    @Test func nulBytesAndOverlongQuotedFieldsAreIssuesWhereverTheSplits() throws {
        let text: [UInt8] = Array("a,b\n1,x".utf8) + [0] + Array("y\n\"q".utf8) + [0] + Array("\",2\nok,3\n".utf8)
        let whole = try parseAll(text).records
        #expect(whole.map(\.fields.count) == [2, 2, 2, 2])
        #expect(whole[1].issue == CSVIssue(kind: .nulByte, line: 2, column: 4, field: 2))
        #expect(whole[2].issue == CSVIssue(kind: .nulByte, line: 3, column: 3, field: 1))
        #expect(whole[0].issue == nil && whole[3].issue == nil)
        for split in 1...5 { #expect(try parseAll(text, splits: [split]).records == whole, "split \(split)") }
        // A quoted field still open after the limit, with more input to come: too long (not
        // unterminated), cut at its line's end; the next line is read as usual.
        let long = Array("\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 30) + [10]
            + Array(repeating: UInt8(ascii: "x"), count: 100) + Array("\",1\nnext,2\n".utf8)
        let cut = try parseAll(long, blockSize: 16, maxQuotedBytes: 40).records
        #expect(cut.first?.issue?.kind == .quotedFieldTooLong)
        #expect(cut.last?.fields == ["next", "2"])
        #expect(CSVIssueKind.quotedFieldTooLong.description == "quoted field not closed within 1 MiB")
        // Closed on its own line, a quoted field of any length is data (the line is read whole).
        let closed = Array("\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100) + Array("\",1\nnext,2\n".utf8)
        let read = try parseAll(closed, blockSize: 16, maxQuotedBytes: 40).records
        #expect(read.map(\.issue) == [nil, nil] && read[0].fields[0].count == 100)
    }

    @Test func seededRandomTablesRoundTripUnderRandomSplits() throws {
        var rng = SplitMix64(seed: 42)
        let alphabet: [String] = ["a", "b", "Z", " ", ",", "\"", "\n", "\r\n", "é", "ñ", "€", "𝄞", "'", "["]
        for round in 0..<60 {
            let rowCount = Int(rng.next() % 20) + 1
            let width = Int(rng.next() % 5) + 1
            var rows = [[String]]()
            for _ in 0..<rowCount {
                var row = [String]()
                for _ in 0..<width {
                    let len = Int(rng.next() % 7)
                    row.append((0..<len).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined())
                }
                // A lone empty field would be a blank line; the encoder quotes it.
                rows.append(row)
            }
            let terminator = round % 3 == 0 ? "\r\n" : "\n"
            let (text, lines) = encodeCSV(rows, terminator: terminator)
            let bytes = Array(text.utf8)
            var splits = [Int]()
            for _ in 0..<8 { splits.append(Int(rng.next() % 13) + 1) }
            let block = [16, 64, 1 << 16][round % 3]
            let (records, blanks) = try parseAll(bytes, splits: splits, blockSize: block)
            #expect(blanks == 0)
            #expect(records.map(\.fields) == rows, "round \(round)")
            #expect(records.map(\.line) == lines, "round \(round)")
            #expect(records.allSatisfy { $0.issue == nil }, "round \(round)")
        }
    }

    @Test func invalidUTF8IsLocatedByLineAndColumn() throws {
        var bytes = Array("h1,h2\nok,fine\nab".utf8)
        bytes += [0xC3, 0x28]  // a lead byte followed by a non-continuation
        bytes += Array(",x\nnext,row\n".utf8)
        for split in [0, 1, 2, 3] {
            let (records, _) = try parseAll(bytes, splits: split == 0 ? [] : [split])
            #expect(records.count == 4)
            #expect(records[2].issue == CSVIssue(kind: .invalidUTF8, line: 3, column: 3, field: 1))
            #expect(records[3].fields == ["next", "row"])
            #expect(records[3].issue == nil)
        }
    }

    @Test func truncatedUTF8AtEndOfInputIsInvalid() throws {
        let bytes = Array("a,b\nx,".utf8) + [0xE2, 0x82]
        let (records, _) = try parseAll(bytes, splits: [1])
        #expect(records.count == 2)
        #expect(records[1].issue?.kind == .invalidUTF8)
        #expect(records[1].issue?.column == 3)
        #expect(records[1].issue?.field == 2)
    }

    @Test func overlongAndSurrogateEncodingsAreInvalid() throws {
        for bad: [UInt8] in [[0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]] {
            let (records, _) = try parseAll(Array("q,".utf8) + bad + Array("\n".utf8))
            #expect(records.count == 1)
            #expect(records[0].issue?.kind == .invalidUTF8)
        }
        let (good, _) = try parseAll(Array("é,€,𝄞\n".utf8))
        #expect(good[0].issue == nil)
        #expect(good[0].fields == ["é", "€", "𝄞"])
    }

    @Test func strayQuotesAreReported() throws {
        let (records, _) = try parseAll(Array("a,b\"c,d\n\"e\"x,f\ng,h\n".utf8))
        #expect(records.count == 3)
        #expect(records[0].issue == CSVIssue(kind: .quoteInUnquotedField, line: 1, column: 4, field: 2))
        #expect(records[1].issue == CSVIssue(kind: .textAfterClosingQuote, line: 2, column: 4, field: 1))
        #expect(records[1].fields.count == 2)
        #expect(records[2].issue == nil)
    }

    @Test func aLoneCarriageReturnAfterAClosingQuoteIsTextAndTheRecordsAfterItAreRead() throws {
        let text = Array("\"a\"\rb,c\nd,e\nf,g\n".utf8)
        for splits in [[], [1], [2], [3], [4], [5], [7]] {
            let (records, _) = try parseAll(text, splits: splits)
            #expect(records.count == 3, "splits \(splits): \(records)")
            #expect(records.first?.issue == CSVIssue(kind: .textAfterClosingQuote, line: 1, column: 4, field: 1), "splits \(splits)")
            #expect(records.first?.fields.count == 2, "splits \(splits)")
            #expect(records.dropFirst().map(\.fields) == [["d", "e"], ["f", "g"]], "splits \(splits)")
        }
    }

    @Test func unterminatedQuoteAtEndCutsTheFirstLineAndResumes() throws {
        let text = "h1,h2\nok,1\nbad,\"never closed\nnext,2\nlast,3\n"
        for split in [0, 1, 4] {
            let (records, _) = try parseAll(Array(text.utf8), splits: split == 0 ? [] : [split], blockSize: 16)
            #expect(records.map(\.line) == [1, 2, 3, 4, 5], "split \(split)")
            #expect(records[2].issue == CSVIssue(kind: .unterminatedQuote, line: 3, column: 5, field: 2))
            #expect(records[2].raw == "bad,\"never closed")
            #expect(records[3].fields == ["next", "2"])
            #expect(records[4].fields == ["last", "3"])
        }
    }

    @Test func overlongQuotedFieldIsCutWithinBoundedMemory() throws {
        let body = String(repeating: "z", count: 300)
        let text = "a,\"\(body)\nb,1\n" + String(repeating: "y\n", count: 200)
        let (records, _) = try parseAll(Array(text.utf8), blockSize: 64, maxQuotedBytes: 100)
        #expect(records.first?.issue?.kind == .quotedFieldTooLong)
        #expect(records.count == 1 + 1 + 200)
        #expect(records[1].fields == ["b", "1"])
        #expect(records[1].line == 2)
    }
}

@Suite struct GzipReaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func readAll(_ source: inout some CSVByteSource, step: Int) throws -> [UInt8] {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: step)
        while true {
            let n = try buf.withUnsafeMutableBytes { try source.read(into: $0.baseAddress!, count: step) }
            if n == 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    @Test func gzipAndPlainGiveTheSameBytesDirectOrPrefetched() throws {
        let plain = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/padchest_sample.csv")))
        var direct = try GzipReader(path: Self.fixtures + "/padchest_sample.csv.gz")
        #expect(direct.isCompressed)
        #expect(direct.expectedSize == Int64(plain.count))  // from the gzip trailer
        #expect(try readAll(&direct, step: 4096) == plain)
        var passthrough = try GzipReader(path: Self.fixtures + "/padchest_sample.csv")
        #expect(!passthrough.isCompressed)
        #expect(try readAll(&passthrough, step: 1000) == plain)
        for chunk in [7, 1000, 1 << 20] {
            var pre = PrefetchingGzipReader(try GzipReader(path: Self.fixtures + "/padchest_sample.csv.gz"), chunkSize: chunk, depth: 2)
            #expect(try readAll(&pre, step: 333) == plain, "chunk \(chunk)")
            pre.close()
        }
    }

    /// Closing early stops the producer even while it waits on a full queue, and nothing is
    /// produced afterwards; a hang fails the test after 10 s instead of stopping the suite.
    @Test func closingEarlyStopsTheProducerWithoutHanging() throws {
        let early = PrefetchingGzipReader(try GzipReader(path: Self.fixtures + "/padchest_sample.csv.gz"), chunkSize: 16, depth: 1)
        // Wait until the producer has read (its one-slot queue is then full and it is blocked).
        let deadline = Date().addingTimeInterval(10)
        while early.compressedOffset == 0 && Date() < deadline { usleep(1000) }
        #expect(early.compressedOffset > 0, "the producer never started")
        let closed = DispatchSemaphore(value: 0)
        Thread { early.close(); closed.signal() }.start()
        #expect(closed.wait(timeout: .now() + 10) == .success, "close() hung on a full queue")
        // At most the one queued chunk is left to read, then end of input.
        var reader = early
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: 4096) }
        #expect(n <= 16, "the producer kept going after close(): \(n) bytes")
        let after = try buffer.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: 4096) }
        #expect(after == 0)
    }

    @Test func truncatedGzipIsAnErrorNamingTheFile() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/padchest_sample.csv.gz"))
        let path = NSTemporaryDirectory() + "fiche-truncated-\(UUID().uuidString).csv.gz"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        var reader = try GzipReader(path: path)
        #expect(throws: SourceError.self) { _ = try readAll(&reader, step: 4096) }
        let pre = PrefetchingGzipReader(try GzipReader(path: path))
        var p = pre
        do {
            _ = try readAll(&p, step: 4096)
            Issue.record("expected an error")
        } catch let e as SourceError {
            #expect(e.description.contains(path))
        }
        pre.close()
    }
}
