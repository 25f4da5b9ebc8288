// The column kernels of the quality checks: one pass over contiguous buffers each, no per-row
// objects. Every kernel returns how many rows fail and the first few of them (row numbers).

import FicheLake

/// How many rows failed, and the first `QualityKernels.keptRows` of them.
struct FailingRows {
    var count = 0
    var rows: [Int] = []

    @inline(__always)
    mutating func add(_ row: Int) {
        count += 1
        if rows.count < QualityKernels.keptRows { rows.append(row) }
    }
}

enum QualityKernels {
    static let keptRows = 100
}

/// An integer key column (int32 or int64 keys; smaller integers widened).
struct KeyColumn {
    enum Values {
        case i32([Int32])
        case i64([Int64])
    }

    let name: String
    let values: Values

    init(_ c: Column, table: String, name: String) throws {
        self.name = name
        switch c.values {
        case .int32(let v), .date(let v): values = .i32(v)
        case .int64(let v): values = .i64(v)
        case .int16(let v): values = .i32(v.map { Int32($0) })
        case .int8(let v): values = .i32(v.map { Int32($0) })
        default: throw WarehouseError("column `\(name)` of `\(table)` is \(c.type), a key must be an integer")
        }
    }

    var count: Int {
        switch values {
        case .i32(let v): v.count
        case .i64(let v): v.count
        }
    }

    subscript(i: Int) -> Int64 {
        switch values {
        case .i32(let v): Int64(v[i])
        case .i64(let v): v[i]
        }
    }

    /// Rows whose (a, b) equals an earlier row's. Keys are sorted (the build writes every table
    /// in key order), so this is one comparison per row; unsorted input is sorted first.
    static func duplicateRows(_ a: KeyColumn, _ b: KeyColumn?) -> FailingRows {
        switch (a.values, b?.values) {
        case (.i32(let x), nil): return duplicates(x, nil as [Int32]?)
        case (.i64(let x), nil): return duplicates(x, nil as [Int32]?)
        case (.i32(let x), .i32(let y)?): return duplicates(x, y)
        case (.i64(let x), .i32(let y)?): return duplicates(x, y)
        case (.i32(let x), .i64(let y)?): return duplicates(x, y)
        case (.i64(let x), .i64(let y)?): return duplicates(x, y)
        }
    }

    static func duplicates<A: FixedWidthInteger, B: FixedWidthInteger>(_ a: [A], _ b: [B]?) -> FailingRows {
        var out = FailingRows()
        let n = a.count
        guard n > 1 else { return out }
        var sorted = true
        a.withUnsafeBufferPointer { x in
            if let b {
                b.withUnsafeBufferPointer { y in
                    for r in 1..<n {
                        if x[r] > x[r - 1] || (x[r] == x[r - 1] && y[r] > y[r - 1]) { continue }
                        if x[r] == x[r - 1] && y[r] == y[r - 1] { out.add(r) } else { sorted = false; return }
                    }
                }
            } else {
                for r in 1..<n {
                    if x[r] > x[r - 1] { continue }
                    if x[r] == x[r - 1] { out.add(r) } else { sorted = false; return }
                }
            }
        }
        if sorted { return out }
        // Not in key order: sort the row numbers by key, then equal neighbours are duplicates.
        var order = Array(0..<n)
        if let b {
            order.sort { a[$0] != a[$1] ? a[$0] < a[$1] : (b[$0] != b[$1] ? b[$0] < b[$1] : $0 < $1) }
        } else {
            order.sort { a[$0] != a[$1] ? a[$0] < a[$1] : $0 < $1 }
        }
        out = FailingRows()
        var dupRows: [Int] = []
        for k in 1..<n where a[order[k]] == a[order[k - 1]] && (b.map { $0[order[k]] == $0[order[k - 1]] } ?? true) {
            dupRows.append(order[k])
        }
        for r in dupRows.sorted() { out.add(r) }
        return out
    }

    /// Rows of `child` whose value is not among `parent`'s: a bitmap over the parent's key
    /// range (keys are dense), or a binary search in the sorted keys where the range is sparse.
    static func missingRows(_ child: KeyColumn, in parent: KeyColumn) -> FailingRows {
        let keys: [Int64]
        switch parent.values {
        case .i32(let v): keys = v.map { Int64($0) }
        case .i64(let v): keys = v
        }
        switch child.values {
        case .i32(let v): return missing(v, keys)
        case .i64(let v): return missing(v, keys)
        }
    }

    static func missing<T: FixedWidthInteger>(_ values: [T], _ keys: [Int64]) -> FailingRows {
        var out = FailingRows()
        guard let lo = keys.min(), let hi = keys.max() else {
            for r in values.indices { out.add(r) }
            return out
        }
        let span = hi.subtractingReportingOverflow(lo)
        if !span.overflow, span.partialValue < Int64(max(1 << 24, keys.count * 64)) {
            let width = Int(span.partialValue) + 1
            var words = [UInt64](repeating: 0, count: (width + 63) / 64)
            for k in keys { let o = Int(k - lo); words[o >> 6] |= 1 << UInt64(o & 63) }
            values.withUnsafeBufferPointer { v in
                words.withUnsafeBufferPointer { w in
                    for r in 0..<v.count {
                        let x = Int64(v[r])
                        if x < lo || x > hi { out.add(r); continue }
                        let o = Int(x - lo)
                        if w[o >> 6] & (1 << UInt64(o & 63)) == 0 { out.add(r) }
                    }
                }
            }
            return out
        }
        let sorted = keys.sorted()
        for r in values.indices {
            let x = Int64(values[r])
            var l = 0, h = sorted.count
            while l < h {
                let m = (l + h) / 2
                if sorted[m] < x { l = m + 1 } else { h = m }
            }
            if l == sorted.count || sorted[l] != x { out.add(r) }
        }
        return out
    }
}

enum StringMembership {
    /// Non-null rows whose string is none of `accepted`. Runs of one value (the usual case in a
    /// low-cardinality column) cost one comparison with the previous row's accepted value.
    static func rowsNotIn(_ c: Column, _ accepted: [String]) -> FailingRows {
        var out = FailingRows()
        guard case .string(let s) = c.values else {
            for r in 0..<c.count where !c.isNull(r) { out.add(r) }
            return out
        }
        let lists = accepted.map { Array($0.utf8) }
        let validity = c.validity
        s.offsets.withUnsafeBufferPointer { off in
            s.bytes.withUnsafeBufferPointer { bytes in
                var last = -1
                func equals(_ k: Int, _ from: Int, _ n: Int) -> Bool {
                    let want = lists[k]
                    guard want.count == n else { return false }
                    for j in 0..<n where bytes[from + j] != want[j] { return false }
                    return true
                }
                for r in 0..<s.count {
                    if let validity, !validity[r] { continue }
                    let from = Int(off[r]), n = Int(off[r + 1]) - from
                    if last >= 0 && equals(last, from, n) { continue }
                    last = -1
                    for k in lists.indices where equals(k, from, n) { last = k; break }
                    if last < 0 { out.add(r) }
                }
            }
        }
        return out
    }
}

enum IntegerRange {
    /// Non-null rows outside `range`.
    static func rowsOutside(_ c: Column, _ range: ClosedRange<Int64>) -> FailingRows {
        switch c.values {
        case .int8(let v): return outside(v, c.validity, range)
        case .int16(let v): return outside(v, c.validity, range)
        case .int32(let v), .date(let v): return outside(v, c.validity, range)
        case .int64(let v), .timestamp(let v): return outside(v, c.validity, range)
        default:
            var out = FailingRows()
            for r in 0..<c.count where !c.isNull(r) { out.add(r) }
            return out
        }
    }

    static func outside<T: FixedWidthInteger>(_ v: [T], _ validity: Bitmap?, _ range: ClosedRange<Int64>) -> FailingRows {
        var out = FailingRows()
        let lo = range.lowerBound, hi = range.upperBound
        v.withUnsafeBufferPointer { p in
            for r in 0..<p.count {
                let x = Int64(p[r])
                if x < lo || x > hi, validity.map({ $0[r] }) ?? true { out.add(r) }
            }
        }
        return out
    }

    /// The largest non-null value.
    static func max(_ c: Column) -> Int64? {
        func largest<T: FixedWidthInteger>(_ v: [T]) -> Int64? {
            var best: Int64?
            for (r, x) in v.enumerated() where c.validity.map({ $0[r] }) ?? true { best = Swift.max(best ?? Int64(x), Int64(x)) }
            return best
        }
        switch c.values {
        case .int8(let v): return largest(v)
        case .int16(let v): return largest(v)
        case .int32(let v), .date(let v): return largest(v)
        case .int64(let v), .timestamp(let v): return largest(v)
        default: return nil
        }
    }

    /// Sum of an integer column's non-null values.
    static func sum(_ c: Column) -> Int64 {
        func total<T: FixedWidthInteger>(_ v: [T]) -> Int64 {
            var s: Int64 = 0
            for (r, x) in v.enumerated() where c.validity.map({ $0[r] }) ?? true { s &+= Int64(x) }
            return s
        }
        switch c.values {
        case .int8(let v): return total(v)
        case .int16(let v): return total(v)
        case .int32(let v), .date(let v): return total(v)
        case .int64(let v), .timestamp(let v): return total(v)
        default: return 0
        }
    }

    static func countTrue(_ c: Column) -> Int {
        guard case .bool(let v) = c.values else { return 0 }
        var n = 0
        for (r, x) in v.enumerated() where x && (c.validity.map { $0[r] } ?? true) { n += 1 }
        return n
    }
}
