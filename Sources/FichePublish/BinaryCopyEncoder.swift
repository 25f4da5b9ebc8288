// Batches → PostgreSQL's binary COPY format, column at a time.
//
// The stream (all integers big-endian):
//
//   | bytes | content                                                        |
//   |-------|----------------------------------------------------------------|
//   | 11    | signature "PGCOPY\n\xFF\r\n\0"                                  |
//   | 4     | flags (0: no OIDs)                                             |
//   | 4     | header extension length (0)                                    |
//   | …     | rows: int16 field count, then per field int32 length (-1 for   |
//   |       | NULL, then no bytes) followed by that many value bytes         |
//   | 2     | trailer: int16 -1                                              |
//
// Encoding first computes every row's size (a constant plus, per text column, the value's
// length; nulls drop their value bytes), prefix-sums them into row offsets, then scatters
// one column at a time into the output with a write cursor per row: one tight loop per
// column over contiguous buffers, no per-row objects.

import FicheLake

public enum BinaryCopyEncoder {
    /// Signature, flags and header-extension length.
    public static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    /// The file trailer: a field count of -1.
    public static let trailer: [UInt8] = [0xFF, 0xFF]

    /// Checks that PostgreSQL can store every value: no NUL byte in text, dates and
    /// timestamps inside PostgreSQL's range. The error names table, column and row (0-based,
    /// counted from `firstRow` when `batch` is one chunk of a larger table).
    public static func validate(_ batch: Batch, table: String, firstRow: Int = 0) throws {
        for (field, column) in zip(batch.schema.fields, batch.columns) {
            switch column.values {
            case .string(let strings):
                if let row = firstRowWithNUL(strings, validity: column.validity) {
                    throw PublishError(.invalidData, "table \(table), column \(field.name), row \(firstRow + row): text contains a NUL byte, which PostgreSQL cannot store")
                }
            case .date(let days):
                if let row = firstOutside(days, PostgresEpoch.dateRange, validity: column.validity) {
                    throw PublishError(.invalidData, "table \(table), column \(field.name), row \(firstRow + row): date \(days[row]) days from 1970 is outside PostgreSQL's date range")
                }
            case .timestamp(let micros):
                if let row = firstOutside(micros, PostgresEpoch.timestampRange, validity: column.validity) {
                    throw PublishError(.invalidData, "table \(table), column \(field.name), row \(firstRow + row): timestamp \(micros[row]) µs from 1970 is outside PostgreSQL's timestamp range")
                }
            default:
                continue
            }
        }
    }

    /// Appends the binary COPY rows for `rows` (indices into `batch`, in output order) to `out`.
    /// Header and trailer are not included. `batch` must have passed `validate`.
    public static func encodeRows(_ batch: Batch, rows: UnsafeBufferPointer<Int32>, into out: inout [UInt8]) {
        let n = rows.count
        guard n > 0 else { return }
        let fieldCount = batch.columns.count
        // 1. Row sizes.
        var fixed = 2 + 4 * fieldCount
        var cursor = [Int](repeating: 0, count: n)
        cursor.withUnsafeMutableBufferPointer { size in
            for column in batch.columns {
                if let width = column.type.binaryCopyWidth {
                    if let validity = column.validity {
                        addWidthWherePresent(width, validity, rows, size)
                    } else {
                        fixed += width
                    }
                } else if case .string(let strings) = column.values {
                    addStringLengths(strings, column.validity, rows, size)
                }
            }
        }
        // 2. Row offsets (prefix sum), written as each row's first byte in `out`.
        let base = out.count
        var total = 0
        cursor.withUnsafeMutableBufferPointer { c in
            for i in 0..<n {
                let size = c[i] &+ fixed
                c[i] = base &+ total
                total &+= size
            }
        }
        out.append(contentsOf: repeatElement(0, count: total))
        // 3. Scatter: the field count, then one column at a time.
        out.withUnsafeMutableBytes { raw in
            guard let dst = raw.baseAddress else { return }
            cursor.withUnsafeMutableBufferPointer { c in
                let count = Int16(truncatingIfNeeded: fieldCount).bigEndian
                for i in 0..<n {
                    dst.storeBytes(of: count, toByteOffset: c[i], as: Int16.self)
                    c[i] &+= 2
                }
                for column in batch.columns {
                    scatter(column, rows, dst, c)
                }
            }
        }
    }

    /// One whole COPY stream (header, rows, trailer) for `batch`: convenient for tests and
    /// small tables. Large tables go through `encodeRows` in blocks.
    public static func encode(_ batch: Batch) -> [UInt8] {
        var out = header
        let all = WarehousePublisher.identity(batch.rowCount)
        all.withUnsafeBufferPointer { encodeRows(batch, rows: $0, into: &out) }
        out += trailer
        return out
    }

    // MARK: kernels

    private static func addWidthWherePresent(_ width: Int, _ validity: Bitmap, _ rows: UnsafeBufferPointer<Int32>,
                                             _ size: UnsafeMutableBufferPointer<Int>) {
        validity.bytes.withUnsafeBufferPointer { bits in
            for i in 0..<rows.count {
                let r = Int(rows[i])
                let present = Int((bits[r >> 3] >> UInt8(r & 7)) & 1)
                size[i] &+= width &* present
            }
        }
    }

    private static func addStringLengths(_ strings: StringArray, _ validity: Bitmap?, _ rows: UnsafeBufferPointer<Int32>,
                                         _ size: UnsafeMutableBufferPointer<Int>) {
        strings.offsets.withUnsafeBufferPointer { off in
            if let validity {
                validity.bytes.withUnsafeBufferPointer { bits in
                    for i in 0..<rows.count {
                        let r = Int(rows[i])
                        let present = Int((bits[r >> 3] >> UInt8(r & 7)) & 1)
                        size[i] &+= Int(off[r + 1] &- off[r]) &* present
                    }
                }
            } else {
                for i in 0..<rows.count {
                    let r = Int(rows[i])
                    size[i] &+= Int(off[r + 1] &- off[r])
                }
            }
        }
    }

    private static func scatter(_ column: Column, _ rows: UnsafeBufferPointer<Int32>, _ dst: UnsafeMutableRawPointer,
                                _ c: UnsafeMutableBufferPointer<Int>) {
        let bits = column.validity?.bytes
        switch column.values {
        case .bool(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 1) { UInt8($0 ? 1 : 0) } }
        case .int8(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 2) { Int16($0).bigEndian } }
        case .int16(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 2) { $0.bigEndian } }
        case .int32(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 4) { $0.bigEndian } }
        case .int64(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 8) { $0.bigEndian } }
        case .float64(let v):
            v.withUnsafeBufferPointer { p in scatterFixed(p, bits, rows, dst, c, width: 8) { $0.bitPattern.bigEndian } }
        case .date(let v):
            v.withUnsafeBufferPointer { p in
                scatterFixed(p, bits, rows, dst, c, width: 4) {
                    Int32(truncatingIfNeeded: Int64($0) &- PostgresEpoch.unixToPostgresDays).bigEndian
                }
            }
        case .timestamp(let v):
            v.withUnsafeBufferPointer { p in
                scatterFixed(p, bits, rows, dst, c, width: 8) { ($0 &- PostgresEpoch.unixToPostgresMicros).bigEndian }
            }
        case .uuid(let v):
            v.withUnsafeBufferPointer { p in
                scatterFixed(p, bits, rows, dst, c, width: 16) { UUIDBytes(high: $0.high.bigEndian, low: $0.low.bigEndian) }
            }
        case .string(let s):
            scatterStrings(s, bits, rows, dst, c)
        }
    }

    /// Writes length + value for each selected row; `convert` turns a lake value into the
    /// exact big-endian bytes (a trivial type of `width` bytes).
    @inline(__always)
    private static func scatterFixed<T, W>(_ values: UnsafeBufferPointer<T>, _ bits: [UInt8]?, _ rows: UnsafeBufferPointer<Int32>,
                                           _ dst: UnsafeMutableRawPointer, _ c: UnsafeMutableBufferPointer<Int>,
                                           width: Int, _ convert: (T) -> W) {
        assert(MemoryLayout<W>.size == width)
        let length = Int32(truncatingIfNeeded: width).bigEndian
        let null = Int32(-1).bigEndian
        if let bits {
            bits.withUnsafeBufferPointer { b in
                for i in 0..<rows.count {
                    let r = Int(rows[i])
                    let at = c[i]
                    if (b[r >> 3] >> UInt8(r & 7)) & 1 != 0 {
                        dst.storeBytes(of: length, toByteOffset: at, as: Int32.self)
                        dst.storeBytes(of: convert(values[r]), toByteOffset: at &+ 4, as: W.self)
                        c[i] = at &+ 4 &+ width
                    } else {
                        dst.storeBytes(of: null, toByteOffset: at, as: Int32.self)
                        c[i] = at &+ 4
                    }
                }
            }
        } else {
            for i in 0..<rows.count {
                let at = c[i]
                dst.storeBytes(of: length, toByteOffset: at, as: Int32.self)
                dst.storeBytes(of: convert(values[Int(rows[i])]), toByteOffset: at &+ 4, as: W.self)
                c[i] = at &+ 4 &+ width
            }
        }
    }

    private static func scatterStrings(_ s: StringArray, _ bits: [UInt8]?, _ rows: UnsafeBufferPointer<Int32>,
                                       _ dst: UnsafeMutableRawPointer, _ c: UnsafeMutableBufferPointer<Int>) {
        let null = Int32(-1).bigEndian
        s.offsets.withUnsafeBufferPointer { off in
            s.bytes.withUnsafeBytes { bytes in
                let src = bytes.baseAddress
                for i in 0..<rows.count {
                    let r = Int(rows[i])
                    let at = c[i]
                    if let bits, (bits[r >> 3] >> UInt8(r & 7)) & 1 == 0 {
                        dst.storeBytes(of: null, toByteOffset: at, as: Int32.self)
                        c[i] = at &+ 4
                        continue
                    }
                    let start = Int(off[r]), len = Int(off[r + 1] &- off[r])
                    dst.storeBytes(of: Int32(truncatingIfNeeded: len).bigEndian, toByteOffset: at, as: Int32.self)
                    if len > 0, let src { (dst + (at &+ 4)).copyMemory(from: src + start, byteCount: len) }
                    c[i] = at &+ 4 &+ len
                }
            }
        }
    }

    private static func firstRowWithNUL(_ s: StringArray, validity: Bitmap?) -> Int? {
        s.bytes.withUnsafeBufferPointer { bytes -> Int? in
            var from = 0
            while from < bytes.count {
                guard let pos = bytes[from...].firstIndex(of: 0) else { return nil }
                // The row holding byte `pos`: the last offset <= pos with a non-empty value.
                let row = rowContaining(byte: pos, offsets: s.offsets)
                if validity.map({ $0[row] }) ?? true { return row }
                from = pos + 1
            }
            return nil
        }
    }

    private static func rowContaining(byte pos: Int, offsets: [Int32]) -> Int {
        var lo = 0, hi = offsets.count - 1  // offsets[lo] <= pos < offsets[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if Int(offsets[mid]) <= pos { lo = mid } else { hi = mid }
        }
        return lo
    }

    private static func firstOutside<T: FixedWidthInteger>(_ values: [T], _ range: ClosedRange<Int64>, validity: Bitmap?) -> Int? {
        values.withUnsafeBufferPointer { p in
            // Fast path: one min/max pass; only on a hit look for the row.
            var lo = Int64.max, hi = Int64.min
            for v in p {
                let w = Int64(v)
                lo = min(lo, w)
                hi = max(hi, w)
            }
            if p.isEmpty || (range.contains(lo) && range.contains(hi)) { return nil }
            for i in 0..<p.count where !range.contains(Int64(p[i])) {
                if validity.map({ $0[i] }) ?? true { return i }
            }
            return nil
        }
    }
}

/// A UUID's 16 bytes as written on the wire.
private struct UUIDBytes {
    var high: UInt64
    var low: UInt64
}
