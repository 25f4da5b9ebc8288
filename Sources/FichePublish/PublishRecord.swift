// What the live warehouse was published from, kept beside it in the table `_fiche_publish`:
// the format it was published in, the lake versions it was built from, and a row count and
// checksum per month of the fact and bridges and per other table. The next rebuild compares
// the new build with it to republish only what changed.

import FicheLake
import FicheWarehouse
import Foundation

struct PublishRecord: Equatable {
    static let table = "_fiche_publish"
    static let comment = "Fiche's record of what this warehouse was published from (format, lake versions, rows and checksum per month and table); the next `fiche rebuild` compares its build with it to republish only what changed."

    /// Bump when the meaning of a published row changes without the DDL changing.
    static let formatVersion = 1

    /// Hash of the warehouse DDL and `formatVersion`: a Fiche whose tables differ publishes whole.
    static let format: Int64 = {
        let ddl = (try? SQLIdentifier("warehouse")).map { WarehouseDDL.script(liveSchema: $0) } ?? ""
        return Int64(bitPattern: FNV1a64.hash(("publish record v\(formatVersion)\n" + ddl).utf8))
    }()

    struct Digest: Equatable {
        var rows: Int
        var checksum: Int64
    }

    /// `format`, or another value if this warehouse was changed since by a backfill.
    var format: Int64 = PublishRecord.format
    /// Partitioned table → month (YYYYMM; 0 for rows of no valid month) → digest.
    var months: [String: [Int: Digest]] = [:]
    /// Every other table → digest.
    var tables: [String: Digest] = [:]
    /// Lake table → version it was built from (what the caller passed).
    var lake: [String: Int] = [:]

    static let schema = Schema([
        Field("item", .string, nullable: false), Field("month", .int32), Field("row_count", .int64, nullable: false),
        Field("checksum", .int64, nullable: false),
    ])

    /// The record of a build: digests of every table and month.
    init(build: [String: Batch], plan: PartitionPlan, lake: [String: Int]) {
        self.lake = lake
        for (table, batch) in build {
            let hashes = RowChecksum.rowHashes(batch)
            if WarehouseDDL.isPartitioned(table) {
                var byMonth: [Int: Digest] = [:]
                for (month, rows) in plan.months(of: table) { byMonth[month] = RowChecksum.digest(hashes, rows) }
                let outside = plan.outOfRange(of: table)
                if !outside.isEmpty { byMonth[0] = RowChecksum.digest(hashes, outside) }
                months[table] = byMonth
            } else {
                tables[table] = RowChecksum.digest(hashes, nil)
            }
        }
    }

    init() {}

    /// The record as rows: ("format", NULL, 0, format), ("lake:<table>", NULL, version, 0),
    /// (table, NULL, rows, checksum), (table, month, rows, checksum).
    var batch: Batch {
        var item = StringArray(), month: [Int32] = [], monthValid = Bitmap(), rows: [Int64] = [], sums: [Int64] = []
        func add(_ i: String, _ m: Int?, _ r: Int, _ c: Int64) {
            item.append(i)
            month.append(Int32(m ?? 0))
            monthValid.append(m != nil)
            rows.append(Int64(r))
            sums.append(c)
        }
        add("format", nil, 0, format)
        for (t, v) in lake.sorted(by: { $0.key < $1.key }) { add("lake:" + t, nil, v, 0) }
        for (t, d) in tables.sorted(by: { $0.key < $1.key }) { add(t, nil, d.rows, d.checksum) }
        for (t, ms) in months.sorted(by: { $0.key < $1.key }) {
            for (m, d) in ms.sorted(by: { $0.key < $1.key }) { add(t, m, d.rows, d.checksum) }
        }
        return Batch(schema: PublishRecord.schema, columns: [
            Column(.string(item)), Column(.int32(month), validity: monthValid), Column(.int64(rows)), Column(.int64(sums)),
        ])
    }

    /// The record in schema `live`, or nil if it has none.
    static func read(_ c: PostgresConnection, live: SQLIdentifier) throws -> PublishRecord? {
        guard try c.scalar("SELECT to_regclass($1) IS NOT NULL", ["\(live.quoted).\(table)"]) == "t" else { return nil }
        var r = PublishRecord()
        r.format = 0
        for row in try c.query("SELECT item, month, row_count, checksum FROM \(live.quoted).\(table)").rows {
            guard let item = row[0] ?? nil, let rows = Int(row[2] ?? ""), let sum = Int64(row[3] ?? "") else { continue }
            let month = row[1].flatMap { Int($0) }
            if item == "format" {
                r.format = sum
            } else if item.hasPrefix("lake:") {
                r.lake[String(item.dropFirst(5))] = rows
            } else if let month {
                r.months[item, default: [:]][month] = Digest(rows: rows, checksum: sum)
            } else {
                r.tables[item] = Digest(rows: rows, checksum: sum)
            }
        }
        return r
    }

    /// Statements creating the record table (in the current search_path) and filling it from `source`.
    static func createTable() -> [String] {
        [WarehouseDDL.createTable(table, schema: schema, partitioned: false),
         "COMMENT ON TABLE \(table) IS \(WarehouseDDL.literal(comment))"]
    }
}

/// Order-independent checksums of rows: a 64-bit hash per row over every column (NULLs
/// hashed apart from any value), summed per month. Equal sums and counts mean equal rows
/// with overwhelming probability, whatever the rows' order.
enum RowChecksum {
    @inline(__always) static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        var x = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return x
    }

    @inline(__always) static func finish(_ h: UInt64) -> UInt64 {
        var z = h &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static let null: UInt64 = 0x6E75_6C6C_6E75_6C6C

    /// One hash per row of `batch`, column at a time.
    static func rowHashes(_ batch: Batch) -> [UInt64] {
        let n = batch.rowCount
        var h = [UInt64](repeating: 0x243F_6A88_85A3_08D3, count: n)
        h.withUnsafeMutableBufferPointer { h in
            for (ci, column) in batch.columns.enumerated() {
                let salt = UInt64(ci + 1) &* 0xFF51_AFD7_ED55_8CCD
                let validity = column.validity
                func each(_ value: (Int) -> UInt64) {
                    if let validity, validity.count == n {
                        for i in 0..<n { h[i] = mix(h[i], validity[i] ? value(i) ^ salt : null ^ salt) }
                    } else {
                        for i in 0..<n { h[i] = mix(h[i], value(i) ^ salt) }
                    }
                }
                switch column.values {
                case .bool(let a): a.withUnsafeBufferPointer { a in each { a[$0] ? 1 : 2 } }
                case .int8(let a): a.withUnsafeBufferPointer { a in each { UInt64(bitPattern: Int64(a[$0])) } }
                case .int16(let a): a.withUnsafeBufferPointer { a in each { UInt64(bitPattern: Int64(a[$0])) } }
                case .int32(let a), .date(let a): a.withUnsafeBufferPointer { a in each { UInt64(bitPattern: Int64(a[$0])) } }
                case .int64(let a), .timestamp(let a): a.withUnsafeBufferPointer { a in each { UInt64(bitPattern: a[$0]) } }
                case .float64(let a): a.withUnsafeBufferPointer { a in each { a[$0].bitPattern } }
                case .uuid(let a): a.withUnsafeBufferPointer { a in each { mix(a[$0].high, a[$0].low) } }
                case .string(let s):
                    s.offsets.withUnsafeBufferPointer { o in
                        s.bytes.withUnsafeBufferPointer { b in
                            each { i in
                                let x = FNV1a64.hash(UnsafeBufferPointer(rebasing: b[Int(o[i])..<Int(o[i + 1])]))
                                return x ^ UInt64(o[i + 1] - o[i]) << 56
                            }
                        }
                    }
                }
            }
        }
        return h
    }

    /// Rows and the wrapping sum of the finished hashes of `rows` (all rows when nil).
    static func digest(_ hashes: [UInt64], _ rows: [Int32]?) -> PublishRecord.Digest {
        var sum: UInt64 = 0
        if let rows {
            for r in rows { sum = sum &+ finish(hashes[Int(r)]) }
            return PublishRecord.Digest(rows: rows.count, checksum: Int64(bitPattern: sum))
        }
        for x in hashes { sum = sum &+ finish(x) }
        return PublishRecord.Digest(rows: hashes.count, checksum: Int64(bitPattern: sum))
    }
}
