// The encoder against a naive row-at-a-time reference, byte for byte, over boundary row
// counts and null densities; plus the validation errors.

import FicheLake
@testable import FichePublish
import Testing

/// Row-at-a-time reference encoding, written straight from the format's description.
func referenceEncode(_ batch: Batch) -> [UInt8] {
    var out = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
    func be<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.bigEndian) { out += $0 } }
    for r in 0..<batch.rowCount {
        be(Int16(batch.columns.count))
        for c in batch.columns {
            if c.isNull(r) { be(Int32(-1)); continue }
            switch c.values {
            case .bool(let v): be(Int32(1)); out.append(v[r] ? 1 : 0)
            case .int8(let v): be(Int32(2)); be(Int16(v[r]))
            case .int16(let v): be(Int32(2)); be(v[r])
            case .int32(let v): be(Int32(4)); be(v[r])
            case .int64(let v): be(Int32(8)); be(v[r])
            case .float64(let v): be(Int32(8)); be(v[r].bitPattern)
            case .date(let v): be(Int32(4)); be(Int32(Int64(v[r]) - 10957))
            case .timestamp(let v): be(Int32(8)); be(v[r] - 946_684_800_000_000)
            case .uuid(let v): be(Int32(16)); be(v[r].high); be(v[r].low)
            case .string(let s): let b = Array(s.bytes[s.range(r)]); be(Int32(b.count)); out += b
            }
        }
    }
    out += [0xFF, 0xFF]
    return out
}

/// A batch with one column of every type, `n` rows, about `nullPercent` % nulls, from `seed`.
func everyTypeBatch(rows n: Int, nullPercent: Int, seed: UInt64) -> Batch {
    var rng = SplitMix64(seed: seed)
    var fields: [Field] = [], columns: [Column] = []
    let samples = ["", "a", "tab\there", "line\nbreak", "back\\slash", "quote'\"", "émoji 🫁", "\\N", "x"]
    for type in ColumnType.allCases {
        var valid = Bitmap()
        for _ in 0..<n { valid.append(Int(rng.next() % 100) >= nullPercent) }
        let values: ColumnValues
        switch type {
        case .bool: values = .bool((0..<n).map { _ in rng.next() & 1 == 1 })
        case .int8: values = .int8((0..<n).map { _ in Int8(truncatingIfNeeded: rng.next()) })
        case .int16: values = .int16((0..<n).map { _ in Int16(truncatingIfNeeded: rng.next()) })
        case .int32: values = .int32((0..<n).map { _ in Int32(truncatingIfNeeded: rng.next()) })
        case .int64: values = .int64((0..<n).map { _ in Int64(bitPattern: rng.next()) })
        case .float64: values = .float64((0..<n).map { _ in Double(bitPattern: rng.next()) })
        case .date: values = .date((0..<n).map { _ in Int32(Int64(rng.next() % 200_000) - 100_000) })
        case .timestamp: values = .timestamp((0..<n).map { _ in Int64(bitPattern: rng.next()) >> 8 })
        case .uuid: values = .uuid((0..<n).map { _ in UUID16(high: rng.next(), low: rng.next()) })
        case .string: values = .string(StringArray((0..<n).map { _ in samples[Int(rng.next() % UInt64(samples.count))] }))
        }
        fields.append(Field("c_\(type)", type))
        columns.append(Column(values, validity: nullPercent == 0 ? nil : valid))
    }
    return Batch(schema: Schema(fields), columns: columns)
}

@Suite struct BinaryCopyEncoderTests {
    @Test(arguments: [0, 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129])
    func matchesReferenceForEveryRowCount(rows: Int) {
        for nullPercent in [0, 50, 100] {
            let batch = everyTypeBatch(rows: rows, nullPercent: nullPercent, seed: UInt64(rows * 1000 + nullPercent))
            #expect(BinaryCopyEncoder.encode(batch) == referenceEncode(batch), "rows \(rows), nulls \(nullPercent)%")
        }
    }

    @Test func encodesASelectionOfRowsInOrder() {
        let batch = everyTypeBatch(rows: 50, nullPercent: 30, seed: 7)
        let pick: [Int32] = [49, 0, 17, 17, 3]
        var got: [UInt8] = []
        pick.withUnsafeBufferPointer { BinaryCopyEncoder.encodeRows(batch, rows: $0, into: &got) }
        var expected: [UInt8] = []
        for r in pick {
            let one = Batch(schema: batch.schema, columns: batch.columns.map { c in
                var v = ColumnValues.zeros(c.type, count: 1)
                switch c.values {
                case .bool(let a): v = .bool([a[Int(r)]])
                case .int8(let a): v = .int8([a[Int(r)]])
                case .int16(let a): v = .int16([a[Int(r)]])
                case .int32(let a): v = .int32([a[Int(r)]])
                case .int64(let a): v = .int64([a[Int(r)]])
                case .float64(let a): v = .float64([a[Int(r)]])
                case .date(let a): v = .date([a[Int(r)]])
                case .timestamp(let a): v = .timestamp([a[Int(r)]])
                case .uuid(let a): v = .uuid([a[Int(r)]])
                case .string(let s): v = .string(StringArray([s[Int(r)]]))
                }
                return Column(v, validity: c.isNull(Int(r)) ? Bitmap(repeating: false, count: 1) : nil)
            })
            let full = referenceEncode(one)
            expected += full[19..<(full.count - 2)]
        }
        #expect(got == expected)
    }

    @Test func exactBytesOfOneRow() {
        let batch = Batch(schema: Schema([Field("k", .int32), Field("d", .date), Field("t", .string)]), columns: [
            Column(.int32([258])), Column(.date([10957])), Column(.string(StringArray(["é"])), validity: nil),
        ])
        let bytes = BinaryCopyEncoder.encode(batch)
        #expect(Array(bytes[0..<11]) == [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        #expect(Array(bytes[19...]) == [0, 3, 0, 0, 0, 4, 0, 0, 1, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2, 0xC3, 0xA9, 0xFF, 0xFF])
    }

    @Test func nulByteIsRejectedNamingTableColumnAndRow() {
        let s = StringArray(["ok", "fine", "bad\u{0}value", "after"])
        let batch = Batch(schema: Schema([Field("note", .string)]), columns: [Column(.string(s))])
        #expect {
            try BinaryCopyEncoder.validate(batch, table: "dim_facility")
        } throws: { e in
            "\(e)" == "table dim_facility, column note, row 2: text contains a NUL byte, which PostgreSQL cannot store"
        }
        // A NUL under a null (placeholder bytes) is not data and passes.
        var valid = Bitmap(repeating: true, count: 4)
        valid[2] = false
        let masked = Batch(schema: batch.schema, columns: [Column(.string(s), validity: valid)])
        #expect(throws: Never.self) { try BinaryCopyEncoder.validate(masked, table: "t") }
    }

    @Test func datesOutsidePostgresRangeAreRejected() {
        let batch = Batch(schema: Schema([Field("d", .date)]), columns: [Column(.date([0, Int32.min]))])
        #expect(throws: PublishError.self) { try BinaryCopyEncoder.validate(batch, table: "t") }
    }
}

@Suite struct PublishErrorTests {
    @Test func findsThePasswordsAConnectionStringCarries() {
        #expect(PublishError.passwords(in: "postgresql://alice:s3cr%40t@db:5432/x") == ["s3cr%40t", "s3cr@t"])
        #expect(PublishError.passwords(in: "postgresql://u:pa/ss@w:rd@host/db") == ["pa/ss@w:rd"])
        #expect(PublishError.passwords(in: "postgresql://u@h/db?sslmode=require&password=pw1&x=y") == ["pw1"])
        #expect(PublishError.passwords(in: "host=db password=hunter2 user=bob") == ["hunter2"])
        #expect(PublishError.passwords(in: "password = 'a b\\' c' dbname=x") == ["a b' c", "a b\\' c"])
        #expect(PublishError.passwords(in: "PASSWORD=Up") == ["Up"])
        #expect(PublishError.passwords(in: "postgresql://u@h/db").isEmpty)
        #expect(PublishError.passwords(in: "host=db user=password_owner").isEmpty)
        // Known secrets are masked wherever they appear; short ones are left (they would garble).
        #expect(PublishError.scrub("invalid percent-encoded token: \"hun%ZZter\"", secrets: ["hun%ZZter"])
                == "invalid percent-encoded token: \"***\"")
        #expect(PublishError.scrub("a b c", secrets: ["a", ""]) == "a b c")
    }

    @Test func scrubsPasswordsFromURLsAndConninfo() {
        #expect(PublishError.scrub("cannot reach postgresql://alice:s3cr%40t@db:5432/x") == "cannot reach postgresql://alice:***@db:5432/x")
        #expect(PublishError.scrub("host=db password=hunter2 user=bob") == "host=db password=*** user=bob")
        #expect(PublishError.scrub("password = 'a b\\' c' dbname=x") == "password = *** dbname=x")
        #expect(PublishError.scrub("postgresql://u@h/db?password=pw&sslmode=x") == "postgresql://u@h/db?password=***&sslmode=x")
        #expect(!PublishError(.connection, "x postgres://u:topsecret@h/d").description.contains("topsecret"))
        #expect(PublishError.scrub("postgresql://u:pa/ss@w:rd@host/db and more") == "postgresql://u:***@host/db and more")
        #expect(PublishError.scrub("password authentication failed for user \"bob\"") == "password authentication failed for user \"bob\"")
    }

    @Test func identifiersAreValidated() throws {
        #expect(try SQLIdentifier("warehouse").quoted == "\"warehouse\"")
        for bad in ["", "Warehouse", "a b", "x\";drop", "1abc", String(repeating: "a", count: 64)] {
            #expect(throws: PublishError.self, "\(bad)") { try SQLIdentifier(bad) }
        }
    }
}
