import Foundation
import Testing

@testable import FicheLake

/// Lake tables shaped to test Parquet readers: every lake type at 0, 50 and 100 % nulls and
/// not null, several row groups, an empty table, a one-row table, a string column whose
/// dictionary overflows to PLAIN, non-ASCII and CSV-hostile text, dates and timestamps
/// before 1970. scripts/test.d/40-parquet-interop writes it with
/// `FICHE_PARQUET_FIXTURE_LAKE=<dir> swift test --skip-build --filter ParquetInteropFixture`
/// and reads the export back with pyarrow, DuckDB and Polars; without the variable the test
/// writes it to a temporary folder and checks what it wrote.
enum InteropLake {
    static let texts = ["plain", "", "café", "Ŝtraße", "漢字テキスト", "🩺 stethoscope", "a,b", "say \"hi\"", "line1\nline2",
                        " leading space", "trailing space ", "Kigali", "Nyarugenge", "ñ", "x"]

    static func values(_ type: ColumnType, _ n: Int, _ rng: inout SplitMix64, unique: Bool = false) -> ColumnValues {
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        switch type {
        case .bool: return .bool((0..<n).map { _ in rng.next() & 1 == 1 })
        case .int8: return .int8((0..<n).map { _ in pick([Int8.min, -1, 0, 1, Int8.max, Int8(truncatingIfNeeded: rng.next())]) })
        case .int16: return .int16((0..<n).map { _ in pick([Int16.min, -7, 0, 300, Int16.max, Int16(truncatingIfNeeded: rng.next())]) })
        case .int32: return .int32((0..<n).map { _ in pick([Int32.min, -5, 0, 20230101, Int32.max, Int32(truncatingIfNeeded: rng.next())]) })
        case .int64: return .int64((0..<n).map { _ in pick([Int64.min, -3, 0, 1 << 40, Int64.max, Int64(bitPattern: rng.next())]) })
        case .float64:
            return .float64((0..<n).map { _ in
                pick([0.0, -0.0, 1.5, -2.25, 1e300, -1e-300, .infinity, -.infinity, .nan,
                      Double(Int64(bitPattern: rng.next() >> 12)) / 1024])
            })
        case .date:
            // 1800-01-01 … 2100-12-31, with 1969-12-31, 1970-01-01 and 1900-01-01 often
            return .date((0..<n).map { _ in pick([-1, 0, -25567, Int32(Int64(rng.next() % 109_572) - 62_091)]) })
        case .timestamp:
            // 1901 … 2099 in microseconds, with instants just before and at the epoch
            return .timestamp((0..<n).map { _ in
                pick([-1, 0, -2_208_988_800_000_000, Int64(rng.next() % 6_250_000_000_000_000) - 2_170_000_000_000_000])
            })
        case .uuid:
            let few = (0..<4).map { _ in UUID16(high: rng.next(), low: rng.next()) }
            return .uuid((0..<n).map { _ in unique ? UUID16(high: rng.next(), low: rng.next()) : pick(few) })
        case .string:
            return .string(StringArray((0..<n).map { i in unique ? "row \(i) " + pick(texts) : pick(texts) }))
        }
    }

    static func column(_ type: ColumnType, _ n: Int, nullPercent: Int, _ rng: inout SplitMix64, unique: Bool = false) -> Column {
        let v = values(type, n, &rng, unique: unique)
        guard nullPercent > 0 else { return Column(v) }
        var b = Bitmap()
        for _ in 0..<n { b.append(nullPercent < 100 && Int(rng.next() % 100) >= nullPercent) }
        return Column(v, validity: b)
    }

    /// Every type four ways: `<type>_req` not null, `_none` nullable without nulls, `_half`
    /// about half null, `_all` all null; uuids and strings also unique per row.
    static func typesBatch(rows n: Int, seed: UInt64) -> Batch {
        var rng = SplitMix64(seed: seed)
        var fields: [Field] = [], columns: [Column] = []
        for t in ColumnType.allCases {
            for (suffix, nulls) in [("req", -1), ("none", 0), ("half", 50), ("all", 100)] {
                fields.append(Field("\(t)_\(suffix)", t, nullable: nulls >= 0))
                columns.append(column(t, n, nullPercent: max(0, nulls), &rng))
            }
        }
        for t in [ColumnType.uuid, .string] {
            fields.append(Field("\(t)_unique", t))
            columns.append(column(t, n, nullPercent: 10, &rng, unique: true))
        }
        return Batch(schema: Schema(fields), columns: columns, rowCount: n)
    }

    static func write(to root: String) throws {
        let lake = try Lake(root: root)
        // Three row groups of types_mixed (chunks of 1,024 rows).
        let t = LakeTransaction(lake: lake, source: "interop fixture", operation: "append", chunkRows: 1024)
        try t.append(typesBatch(rows: 2500, seed: 1), to: "types_mixed")
        try t.append(typesBatch(rows: 1, seed: 2), to: "one_row")
        try t.append(typesBatch(rows: 0, seed: 3), to: "empty_table")
        try t.commit()

        // 40,000 distinct strings of ~45 bytes (a 1.9 MB dictionary, past the 1 MiB limit:
        // PLAIN) beside a five-value column (dictionary-encoded) and an int id.
        var rng = SplitMix64(seed: 4)
        let n = 40_000
        let unique = StringArray((0..<n).map { "patient note \($0) — \(rng.next()) é" })
        let few = StringArray((0..<n).map { ["Kigali", "Huye", "Musanze", "Rubavu", "Nyagatare"][$0 % 5] })
        let d = LakeTransaction(lake: lake, source: "interop fixture", operation: "append")
        try d.append(Batch(schema: Schema([Field("id", .int64, nullable: false), Field("unique_text", .string, nullable: false),
                                           Field("few_text", .string, nullable: false)]),
                           columns: [Column(.int64((0..<Int64(n)).map { $0 })), Column(.string(unique)), Column(.string(few))]),
                     to: "dict_overflow")
        try d.commit()
    }
}

@Suite("Parquet interop fixture lake")
struct ParquetInteropFixture {
    @Test func writeInteropLake() throws {
        let given = ProcessInfo.processInfo.environment["FICHE_PARQUET_FIXTURE_LAKE"].flatMap { $0.isEmpty ? nil : $0 }
        let root = try given ?? temporaryDirectory("parquet-fixture")
        defer { if given == nil { try? FileManager.default.removeItem(atPath: root) } }
        try InteropLake.write(to: root)
        let lake = try Lake(root: root, create: false)
        let mixed = try lake.table("types_mixed").snapshot()
        #expect(mixed.rowCount == 2500 && mixed.chunks.count == 3)
        #expect(try lake.table("one_row").snapshot().rowCount == 1)
        let empty = try lake.table("empty_table").snapshot()
        #expect(empty.rowCount == 0 && empty.schema?.fields.count == 42)
        #expect(try lake.table("dict_overflow").snapshot().rowCount == 40_000)
    }

    @Test func aTableWritesAParquetFileWithItsMagicAndFooter() throws {
        let dir = try temporaryDirectory("parquet-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let batch = InteropLake.typesBatch(rows: 300, seed: 9)
        let w = try ParquetFileWriter(path: dir + "/t.parquet", schema: batch.schema)
        try w.write(batch)
        try w.write(batch.slice(0..<10))
        let info = try w.finish()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/t.parquet")))
        #expect(info.rows == 310 && info.rowGroups == 2 && info.bytes == bytes.count)
        #expect(Array(bytes.prefix(4)) == Array("PAR1".utf8) && Array(bytes.suffix(4)) == Array("PAR1".utf8))
        let footer = bytes[(bytes.count - 8)..<(bytes.count - 4)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(footer > 0 && footer < bytes.count - 12)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["t.parquet"])  // no temporary left
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/t.parquet")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aNotNullColumnHoldingANullIsAnErrorNamingIt() throws {
        let dir = try temporaryDirectory("parquet-null")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let schema = Schema([Field("id", .int32, nullable: false)])
        let w = try ParquetFileWriter(path: dir + "/t.parquet", schema: schema)
        let bad = Batch(schema: schema, columns: [Column(.int32([1, 2]), validity: Bitmap(bytes: [0b01], count: 2))])
        #expect(throws: LakeError.self) { try w.write(bad) }
        w.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
