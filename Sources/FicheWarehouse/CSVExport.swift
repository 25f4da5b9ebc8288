// Batches as RFC 4180 CSV (header row; null = empty field; dates YYYY-MM-DD; UUIDs in
// canonical text), for handing the same data to other engines in benchmarks.

import FicheLake
#if canImport(Glibc)
import Glibc
#endif

public enum CSVExport {
    /// Writes `batch` to `path` (created or truncated).
    public static func write(_ batch: Batch, to path: String) throws {
        guard let file = fopen(path, "w") else { throw WarehouseError("cannot create \(path)", code: .io) }
        defer { fclose(file) }
        var out = [UInt8]()
        out.reserveCapacity(1 << 20)
        for (i, f) in batch.schema.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: Array(f.name.utf8))
        }
        out.append(10)
        for r in 0..<batch.rowCount {
            for (i, c) in batch.columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if c.isNull(r) { continue }
                switch c.values {
                case .bool(let v): out.append(contentsOf: v[r] ? Array("true".utf8) : Array("false".utf8))
                case .int8(let v): appendInt(Int64(v[r]), &out)
                case .int16(let v): appendInt(Int64(v[r]), &out)
                case .int32(let v): appendInt(Int64(v[r]), &out)
                case .int64(let v): appendInt(v[r], &out)
                case .timestamp(let v): appendInt(v[r], &out)
                case .float64(let v): out.append(contentsOf: Array("\(v[r])".utf8))
                case .date(let v): appendDate(v[r], &out)
                case .uuid(let v): out.append(contentsOf: Array(v[r].text.utf8))
                case .string(let s): appendQuoted(s.bytes[s.range(r)], &out)
                }
            }
            out.append(10)
            if out.count > 1 << 20 {
                guard fwrite(out, 1, out.count, file) == out.count else { throw WarehouseError("write to \(path) failed", code: .io) }
                out.removeAll(keepingCapacity: true)
            }
        }
        guard fwrite(out, 1, out.count, file) == out.count else { throw WarehouseError("write to \(path) failed", code: .io) }
    }

    static func appendInt(_ v: Int64, _ out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits = [UInt8](repeating: 0, count: 20)
        var n = 0
        repeat {
            digits[n] = UInt8(m % 10) + 48
            m /= 10
            n += 1
        } while m > 0
        for k in stride(from: n - 1, through: 0, by: -1) { out.append(digits[k]) }
    }

    static func appendDate(_ d: Int32, _ out: inout [UInt8]) {
        let c = CivilCalendar.civil(d)
        let y = Int(c.year), m = Int(c.month), day = Int(c.day)
        out.append(contentsOf: [UInt8(48 + y / 1000 % 10), UInt8(48 + y / 100 % 10), UInt8(48 + y / 10 % 10), UInt8(48 + y % 10),
                                UInt8(ascii: "-"), UInt8(48 + m / 10), UInt8(48 + m % 10),
                                UInt8(ascii: "-"), UInt8(48 + day / 10), UInt8(48 + day % 10)])
    }

    static func appendQuoted(_ bytes: ArraySlice<UInt8>, _ out: inout [UInt8]) {
        let needs = bytes.isEmpty || bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        if !needs {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }
}
