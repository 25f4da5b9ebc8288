// The bad input a hospital really sends (Fixtures/bad/): each file is ingested correctly,
// or quarantined row by row with file, line, column and reason, or refused whole with a clear
// message and the lake left byte for byte as it was. Rows read = ingested + duplicates +
// quarantined, always.

import FicheLake
import Foundation
import Testing

@testable import FicheSources

/// Every file of a lake folder with its bytes: equal fingerprints mean an unchanged lake.
func lakeFingerprint(_ lake: Lake) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let files = FileManager.default.enumerator(atPath: lake.root)?.compactMap { $0 as? String } ?? []
    for f in files {
        var isDirectory: ObjCBool = false
        let path = lake.root + "/" + f
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
        out[f] = try Data(contentsOf: URL(fileURLWithPath: path))
    }
    return out
}

@Suite struct PadChestBadInputTests {
    static let folder = PadChestFixture.folder + "/bad"

    enum Outcome {
        /// Refused whole: the message names the file and says this.
        case refused(String)
        /// Read: rows read, ingested, duplicates, and the quarantined (line, reason prefix).
        case read(rows: Int, ingested: Int, duplicates: Int, quarantined: [(line: Int, reason: String)])
    }

    static let cases: [(file: String, outcome: Outcome)] = [
        ("empty.csv", .refused("empty file: no PadChest header")),
        ("header_only.csv", .read(rows: 0, ingested: 0, duplicates: 0, quarantined: [])),
        ("bom.csv", .read(rows: 2, ingested: 2, duplicates: 0, quarantined: [])),
        ("crlf.csv", .read(rows: 2, ingested: 2, duplicates: 0, quarantined: [])),
        ("row_missing_column.csv", .read(rows: 2, ingested: 1, duplicates: 0,
                                         quarantined: [(2, "wrong field count: 35 fields, expected 36")])),
        ("row_extra_column.csv", .read(rows: 2, ingested: 1, duplicates: 0,
                                       quarantined: [(2, "wrong field count: 37 fields, expected 36")])),
        ("header_missing_column.csv", .refused("header has 35 columns, PadChest has 36")),
        ("header_extra_column.csv", .refused("header has 37 columns, PadChest has 36")),
        ("header_renamed.csv", .refused("header column 2 is 'ImageId', expected 'ImageID'")),
        ("header_duplicated.csv", .refused("header column 3 is 'ImageID', expected 'ImageDir'")),
        ("unterminated_quote.csv", .read(rows: 3, ingested: 2, duplicates: 0,
                                         quarantined: [(2, "unterminated quoted field at line 2, column ")])),
        ("invalid_utf8.csv", .read(rows: 2, ingested: 1, duplicates: 0, quarantined: [(2, "invalid UTF-8 at line 2, column ")])),
        ("nul_bytes.csv", .read(rows: 2, ingested: 1, duplicates: 0, quarantined: [(2, "NUL byte at line 2, column ")])),
        ("impossible_date.csv", .read(rows: 2, ingested: 1, duplicates: 0,
                                      quarantined: [(2, "StudyDate_DICOM: '20150230' is not a YYYYMMDD date")])),
        ("birth_year_future.csv", .read(rows: 3, ingested: 1, duplicates: 0, quarantined: [
            (2, "PatientBirth: 2090 is after the year of the study (StudyDate_DICOM 2015-05-21)"),
            (3, "PatientBirth: 'abc' is not a birth year"),
        ])),
        ("duplicate_image_id.csv", .read(rows: 3, ingested: 2, duplicates: 1, quarantined: [])),
        ("truncated.csv.gz", .refused("unexpected end of compressed data (truncated .gz file)")),
        ("random_bytes.bin", .refused("header")),
        ("not_padchest.csv", .refused("header has 3 columns, PadChest has 36")),
    ]

    /// A lake that already holds real rows, so "unchanged" means something.
    func seededLake() throws -> Lake {
        let lake = try temporaryLake()
        _ = try PadChestIngest.run(path: PadChestFixture.folder + "/padchest_repeated_codes.csv", lake: lake)
        return lake
    }

    func check(_ path: String, _ outcome: Outcome, label: String) throws {
        let lake = try seededLake()
        let before = try lakeFingerprint(lake)
        let quarantineBefore = try lake.table("quarantine").snapshot().rowCount
        let stagedBefore = try lake.table("padchest").snapshot().rowCount
        switch outcome {
        case .refused(let message):
            do {
                let s = try PadChestIngest.run(path: path, lake: lake)
                Issue.record("\(label): accepted, \(s.rowsRead) rows read")
            } catch {
                #expect("\(error)".contains(path), "\(label): the message names the file: \(error)")
                #expect("\(error)".contains(message), "\(label): \(error)")
            }
            #expect(try lakeFingerprint(lake) == before, "\(label): the lake changed")
        case .read(let rows, let ingested, let duplicates, let quarantined):
            let s = try PadChestIngest.run(path: path, lake: lake)
            #expect(s.addsUp, "\(label): read \(s.rowsRead) ≠ \(s.ingested) + \(s.duplicates) + \(s.quarantined)")
            #expect(s.rowsRead == rows, "\(label): rows read")
            #expect(s.ingested == ingested, "\(label): ingested")
            #expect(s.duplicates == duplicates, "\(label): duplicates")
            #expect(s.quarantined == quarantined.count, "\(label): quarantined")
            let staged = try lake.table("padchest").snapshot().rowCount
            #expect(staged == stagedBefore + ingested, "\(label): staged rows")
            let q = try lake.table("quarantine").snapshot()
            #expect(q.rowCount == quarantineBefore + quarantined.count, "\(label): quarantine rows")
            if !quarantined.isEmpty {
                let rows = try q.readAll()
                let files = rows.nullableStrings("file"), reasons = rows.nullableStrings("reason")
                let lines = try #require(rows.column("line")?.values.int64s)
                let mine = (0..<rows.rowCount).filter { files[$0] == PadChestIngest.absolutePath(path) }
                #expect(mine.map { Int(lines[$0]) } == quarantined.map(\.line), "\(label): quarantined lines")
                for (k, i) in mine.enumerated() where k < quarantined.count {
                    #expect(reasons[i]?.hasPrefix(quarantined[k].reason) == true, "\(label): reason \(reasons[i]?.prefix(200) ?? "nil")")
                }
            }
            if ingested == 0 && quarantined.isEmpty { #expect(try lakeFingerprint(lake) == before, "\(label): nothing to commit") }
        }
        #expect(try LakeVerifier.verify(lake: lake, all: true).problems.isEmpty, "\(label): lake verifies")
    }

    @Test(arguments: cases.map(\.file))
    func eachBadFileHasItsOutcome(file: String) throws {
        let outcome = try #require(Self.cases.first { $0.file == file }?.outcome)
        try check(Self.folder + "/" + file, outcome, label: file)
    }

    /// Every reader issue names the PadChest column it is in.
    @Test func quarantineReasonsNameTheColumn() throws {
        let lake = try seededLake()
        for file in ["invalid_utf8.csv", "nul_bytes.csv", "unterminated_quote.csv"] {
            _ = try PadChestIngest.run(path: Self.folder + "/" + file, lake: lake)
        }
        let reasons = try lake.table("quarantine").snapshot().readAll().nullableStrings("reason").compactMap { $0 }
        #expect(reasons.count == 3)
        #expect(reasons.allSatisfy { $0.hasSuffix("(field 30, Report)") }, "\(reasons)")
    }

    /// A 10 MB field, quoted or not, is data like any other: ingested whole (the reader's
    /// buffer grows to hold the line); a quoted one still open 1 MiB on, across lines, is cut
    /// and quarantined saying so, and the rows after it are read.
    @Test func aTenMegabyteField() throws {
        let text = try String(contentsOfFile: Self.folder + "/impossible_date.csv", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let header = String(lines[0]), good = String(lines[2])
        var fields = good.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[1] = "big_" + fields[1]
        let huge = String(repeating: "x", count: 10 << 20)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-big-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var quoted = fields
        quoted[29] = "\"" + huge + "\""
        let quotedPath = dir + "/quoted.csv"
        try (header + "\n" + quoted.joined(separator: ",") + "\n" + good + "\n").write(toFile: quotedPath, atomically: true, encoding: .utf8)
        try check(quotedPath, .read(rows: 2, ingested: 2, duplicates: 0, quarantined: []), label: "10 MB quoted")

        var open = fields
        open[29] = "\"" + String(repeating: "x", count: 1000) + "\n" + String(repeating: "y", count: 2 << 20)
        let openPath = dir + "/open.csv"
        try (header + "\n" + open.joined(separator: ",") + "\n" + good + "\n").write(toFile: openPath, atomically: true, encoding: .utf8)
        try check(openPath, .read(rows: 3, ingested: 1, duplicates: 0, quarantined: [
            (2, "quoted field not closed within 1 MiB at line 2, column "),
            (3, "wrong field count: 7 fields, expected 36"),  // the rest of that row, on its own line
        ]), label: "quote open past 1 MiB")

        var plain = fields
        plain[29] = huge
        let plainPath = dir + "/plain.csv"
        try (header + "\n" + plain.joined(separator: ",") + "\n" + good + "\n").write(toFile: plainPath, atomically: true, encoding: .utf8)
        let lake = try temporaryLake()
        let s = try PadChestIngest.run(path: plainPath, lake: lake)
        #expect(s.rowsRead == 2 && s.ingested == 2 && s.addsUp)
        let reports = try table(lake, "padchest").nullableStrings("Report")
        #expect(reports.map { $0?.utf8.count ?? 0 }.max() == 10 << 20)
        let quotedLake = try temporaryLake()
        _ = try PadChestIngest.run(path: quotedPath, lake: quotedLake)
        #expect(try table(quotedLake, "padchest").nullableStrings("Report").map { $0?.utf8.count ?? 0 }.max() == 10 << 20)
    }
}
