// Golden files: a version-1 chunk file holding every encoding and a small lake with a
// multi-table transaction, written once by this code and checked in. They must read back
// to the same values forever: a change to an encoding, the CRC, the footer or the commit
// log that passes every round-trip test would still strand every existing lake, and these
// catch it. Never regenerate them to make a test pass; a format change is a new version.

import Foundation
import Testing

@testable import FicheLake

enum Golden {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden").path
    static let chunk = folder + "/every_encoding_v1.fchk"
    static let lake = folder + "/lake_v1"

    static let rows = 40

    /// The rows of the golden chunk. Each column is shaped so the writer picks one encoding:
    /// the expected one is in `encodings`.
    static func everyEncodingBatch() -> Batch {
        let n = rows
        func valid(_ null: (Int) -> Bool) -> Bitmap {
            var b = Bitmap(repeating: true, count: n)
            for i in 0..<n where null(i) { b[i] = false }
            return b
        }
        let codes: [Int16] = [7, -5000, 30000, 123]
        let wards = ["north", "south", "east", "émergence 🫁"]
        let uuids = [UUID16.derived(7, 1), UUID16.derived(7, 2), UUID16.derived(7, 3)]
        var names: [String] = [""]
        for i in 1..<n { names.append("name \(i) \u{00e9}\u{0301} \"q\"\n" + String(repeating: "x", count: i)) }
        var ratios: [Double] = []
        for i in 0..<n {
            switch i {
            case 1: ratios.append(-0.0)
            case 2: ratios.append(.infinity)
            case 3: ratios.append(-.greatestFiniteMagnitude)
            default: ratios.append(Double(i) * 0.25 - 3.5)
            }
        }
        return Batch(schema: Schema([
            Field("flag", .bool), Field("id_plain", .int64, nullable: false), Field("score_for", .int32, nullable: false),
            Field("stamp_delta", .timestamp, nullable: false), Field("code_dict", .int16), Field("day_for", .date),
            Field("ratio", .float64), Field("uid_plain", .uuid, nullable: false), Field("uid_dict", .uuid, nullable: false),
            Field("name_plain", .string), Field("ward_dict", .string, nullable: false), Field("nothing", .int32),
        ]), columns: [
            Column(.bool((0..<n).map { $0 % 3 == 0 }), validity: valid { $0 % 7 == 6 }),
            Column(.int64((0..<n).map { Int64(bitPattern: UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15) })),
            Column(.int32((0..<n).map { 1000 + Int32($0 * 37 % 200) })),
            Column(.timestamp((0..<n).map { 1_420_070_400_000_000 + Int64($0) * 60_000_000 + Int64($0 % 3) })),
            Column(.int16((0..<n).map { codes[($0 * 5 + $0 / 4) % 4] }), validity: valid { $0 % 9 == 4 }),
            Column(.date((0..<n).map { 16_000 + Int32($0 * 13 % 50) }), validity: valid { $0 == 5 }),
            Column(.float64(ratios), validity: valid { $0 % 10 == 9 }),
            Column(.uuid((0..<n).map { UUID16.derived(11, UInt64($0)) })),
            Column(.uuid((0..<n).map { uuids[$0 * 7 % 3] })),
            Column(.string(StringArray(names)), validity: valid { $0 == 8 }),
            Column(.string(StringArray((0..<n).map { wards[$0 * 3 % 4] }))),
            Column.nulls(.int32, count: n),
        ])
    }

    static let encodings: [String: ColumnEncoding] = [
        "flag": .plain, "id_plain": .plain, "score_for": .frameOfReference, "stamp_delta": .delta,
        "code_dict": .dictionary, "day_for": .frameOfReference, "ratio": .plain, "uid_plain": .plain,
        "uid_dict": .dictionary, "name_plain": .plain, "ward_dict": .dictionary, "nothing": .plain,
    ]
}

@Suite("golden files")
struct GoldenFileTests {
    /// Writes the golden files into FICHE_WRITE_GOLDEN (a folder); off in every normal run.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FICHE_WRITE_GOLDEN"] != nil))
    func writeGoldenFiles() throws {
        let dir = ProcessInfo.processInfo.environment["FICHE_WRITE_GOLDEN"]!
        _ = try ChunkWriter.write(Golden.everyEncodingBatch(), to: dir + "/every_encoding_v1.fchk")
        let lake = try Lake(root: dir + "/lake_v1")
        let visits = Schema([Field("visit", .int64, nullable: false), Field("ward", .string)])
        let wards = Schema([Field("ward", .string, nullable: false), Field("beds", .int32, nullable: false)])
        let first = LakeTransaction(lake: lake, source: "golden:first", operation: "append")
        try first.append(Batch(schema: visits, columns: [Column(.int64([1, 2, 3])), Column(.string(StringArray(["north", "south", "north"])))]), to: "visits")
        try first.commit()
        let both = LakeTransaction(lake: lake, source: "golden:both", operation: "ingest")
        try both.append(Batch(schema: visits, columns: [Column(.int64([4, 5])), Column(.string(StringArray(["east", ""])), validity: Bitmap(bytes: [0b01], count: 2))]), to: "visits")
        try both.append(Batch(schema: wards, columns: [Column(.string(StringArray(["north", "south", "east"]))), Column(.int32([12, 8, 20]))]), to: "wards")
        try both.commit()
        // A third transaction whose marker is then removed: a writer that died between its
        // commits and its marker. Its commits must stay invisible.
        let dead = LakeTransaction(lake: lake, source: "golden:dead", operation: "ingest")
        try dead.append(Batch(schema: visits, columns: [Column(.int64([99])), Column(.string(StringArray(["ghost"])))]), to: "visits")
        try dead.append(Batch(schema: wards, columns: [Column(.string(StringArray(["ghost"]))), Column(.int32([1]))]), to: "wards")
        try dead.commit()
    }

    @Test func aVersion1ChunkOfEveryEncodingReadsBackExactly() throws {
        let f = try ChunkFile(path: Golden.chunk)
        #expect(f.formatVersion == 1)
        #expect(f.rowCount == Golden.rows)
        let expected = Golden.everyEncodingBatch()
        #expect(f.schema == expected.schema)
        #expect(Dictionary(uniqueKeysWithValues: f.columns.map { ($0.field.name, $0.encoding) }) == Golden.encodings)
        #expect(Set(f.columns.map(\.encoding)) == [.plain, .dictionary, .frameOfReference, .delta], "every encoding")
        #expect(f.columns.map(\.nullCount) == [5, 0, 0, 0, 4, 1, 4, 0, 0, 1, 0, 40])
        let batch = try f.read(columns: nil)
        for (c, field) in expected.schema.fields.enumerated() {
            let got = batch.columns[c], want = expected.columns[c]
            #expect((0..<Golden.rows).map { got.isNull($0) } == (0..<Golden.rows).map { want.isNull($0) }, "\(field.name) nulls")
            #expect((0..<Golden.rows).map { got.text(at: $0) } == (0..<Golden.rows).map { want.text(at: $0) }, "\(field.name) values")
        }
        // A few values written out by hand, so the expectation does not hang on the generator alone.
        guard case .int64(let ids) = batch.columns[1].values, case .float64(let ratios) = batch.columns[6].values,
              case .timestamp(let stamps) = batch.columns[3].values else {
            Issue.record("column types")
            return
        }
        #expect(ids[0] == -7_046_029_254_386_353_131 && ids[39] == Int64(bitPattern: 40 &* 0x9E37_79B9_7F4A_7C15))
        #expect(ratios[1].bitPattern == (-0.0).bitPattern && ratios[2] == .infinity && ratios[0] == -3.5)
        #expect(stamps[0] == 1_420_070_400_000_000 && stamps[4] == 1_420_070_640_000_001)
        #expect(batch.columns[10].text(at: 1) == "émergence 🫁")
        #expect(batch.columns[8].text(at: 0) == UUID16.derived(7, 1).text)
    }

    /// The golden lake's commit files damaged at random (seeded): reading the tables either
    /// works or throws an error naming the file; it never crashes or hangs.
    @Test func damagedCommitLogsAreErrorsNeverCrashes() throws {
        var rng = SplitMix64(seed: 0xC0FF1)
        let commits = ["visits/_log/00000000000000000001.json", "visits/_log/00000000000000000002.json",
                       "wards/_log/00000000000000000001.json", "visits/_log/00000000000000000003.json"]
        var errors = 0
        for round in 0..<120 {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-golden-mut-\(UUID().uuidString)").path
            try FileManager.default.copyItem(atPath: Golden.lake, toPath: root)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let file = root + "/" + commits[round % commits.count]
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                case 1: bytes.remove(at: at)
                case 2:
                    let json = Array("{}[]\":,0-9e".utf8)
                    bytes.insert(json[Int(rng.next() % UInt64(json.count))], at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            do {
                let lake = try Lake(root: root, create: false)
                for table in try lake.tableNames() { _ = try lake.table(table).snapshot().readAll() }
            } catch let e as LakeError {
                errors += 1
                #expect("\(e)".contains(root), "round \(round): the error names the file: \(e)")
            }
        }
        #expect(errors > 0)
    }

    @Test func aLakeWithATransactionMarkerReadsBackExactly() throws {
        // A copy, so that nothing a reader might create lands in the checked-in folder.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-golden-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Golden.lake, toPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lake = try Lake(root: root, create: false)
        #expect(try lake.tableNames() == ["visits", "wards"])
        let visits = try lake.table("visits").snapshot(), wards = try lake.table("wards").snapshot()
        #expect(visits.version == 2 && wards.version == 1, "the dead transaction stays invisible")
        #expect(visits.rowCount == 5 && wards.rowCount == 3)
        #expect(visits.history.map(\.operation) == ["append", "ingest"])
        #expect(visits.history.map(\.source) == ["golden:first", "golden:both"])
        let txn = try #require(visits.history[1].transaction)
        #expect(wards.history.map(\.transaction) == [txn])
        #expect(visits.history[0].transaction != txn)
        #expect(GoldenExpectations.commits == visits.history.map { "\($0.version) \($0.time) \($0.user)@\($0.host) \($0.rowsAdded)" })
        let v = try visits.readAll()
        #expect((0..<v.rowCount).map { v.columns[0].text(at: $0) } == ["1", "2", "3", "4", "5"])
        #expect((0..<v.rowCount).map { v.columns[1].text(at: $0) } == ["north", "south", "north", "east", nil])
        let w = try wards.readAll()
        #expect((0..<w.rowCount).map { w.columns[1].text(at: $0) } == ["12", "8", "20"])
        #expect(try LakeVerifier.verify(lake: lake, all: true).problems.isEmpty)
    }
}

/// Fixed facts of the golden lake's commits (version, time, who, rows), as written once.
enum GoldenExpectations {
    static let commits = [
        "1 2026-12-02T06:39:24.381Z root@vm 3",
        "2 2026-12-02T06:39:24.438Z root@vm 2",
    ]
}
