// Gathering rows of a column by an index vector (a permutation into key order, or a
// selection of rows), typed buffer to typed buffer; strings in two passes (lengths, bytes).

import FicheLake

extension Array {
    /// self[rows[0]], self[rows[1]], …
    @inline(__always)
    func gathered(_ rows: [Int32]) -> [Element] {
        withUnsafeBufferPointer { src in
            [Element](unsafeUninitializedCapacity: rows.count) { out, n in
                rows.withUnsafeBufferPointer { r in
                    for i in 0..<r.count { (out.baseAddress! + i).initialize(to: src[Int(r[i])]) }
                }
                n = rows.count
            }
        }
    }
}

extension StringArray {
    func gathered(_ rows: [Int32]) -> StringArray {
        var offsets = [Int32](repeating: 0, count: rows.count + 1)
        var total = 0
        self.offsets.withUnsafeBufferPointer { off in
            rows.withUnsafeBufferPointer { r in
                offsets.withUnsafeMutableBufferPointer { o in
                    for i in 0..<r.count {
                        let j = Int(r[i])
                        total += Int(off[j + 1] &- off[j])
                        o[i + 1] = Int32(truncatingIfNeeded: total)
                    }
                }
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, n in
            self.bytes.withUnsafeBufferPointer { src in
                self.offsets.withUnsafeBufferPointer { off in
                    rows.withUnsafeBufferPointer { r in
                        var at = 0
                        for i in 0..<r.count {
                            let j = Int(r[i])
                            let s = Int(off[j]), len = Int(off[j + 1]) - s
                            if len > 0 {
                                (out.baseAddress! + at).update(from: src.baseAddress! + s, count: len)
                            }
                            at += len
                        }
                    }
                }
            }
            n = total
        }
        return StringArray(offsets: offsets, bytes: bytes)
    }
}

extension Bitmap {
    func gathered(_ rows: [Int32]) -> Bitmap {
        var out = Bitmap(repeating: true, count: rows.count)
        for i in rows.indices where !self[Int(rows[i])] { out[i] = false }
        return out
    }
}

extension ColumnValues {
    func gathered(_ rows: [Int32]) -> ColumnValues {
        switch self {
        case .bool(let v): .bool(v.gathered(rows))
        case .int8(let v): .int8(v.gathered(rows))
        case .int16(let v): .int16(v.gathered(rows))
        case .int32(let v): .int32(v.gathered(rows))
        case .int64(let v): .int64(v.gathered(rows))
        case .float64(let v): .float64(v.gathered(rows))
        case .date(let v): .date(v.gathered(rows))
        case .timestamp(let v): .timestamp(v.gathered(rows))
        case .uuid(let v): .uuid(v.gathered(rows))
        case .string(let v): .string(v.gathered(rows))
        }
    }
}

extension Column {
    /// The rows `rows` of this column, in that order; `identity` skips the copy when
    /// `rows` is 0, 1, 2, … count−1.
    func gathered(_ rows: [Int32], identity: Bool = false) -> Column {
        if identity && rows.count == count { return self }
        let validity = self.validity.flatMap { v in v.setCount == v.count ? nil : v.gathered(rows) }
        return Column(values.gathered(rows), validity: validity)
    }
}

/// True when rows is exactly 0 ..< count.
func isIdentity(_ rows: [Int32], count: Int) -> Bool {
    guard rows.count == count else { return false }
    return rows.withUnsafeBufferPointer { r in
        for i in 0..<r.count where r[i] != Int32(truncatingIfNeeded: i) { return false }
        return true
    }
}

// MARK: - Index vectors and column construction

func canonicalFlags(_ canonical: [Int32]) -> [Bool] {
    var out = [Bool](repeating: false, count: canonical.count)
    for i in canonical.indices where canonical[i] == Int32(i) { out[i] = true }
    return out
}

/// Inverse of a row selection: position of each row in `rows`, −1 if absent.
func positions(of rows: [Int32], count: Int) -> [Int32] {
    var out = [Int32](repeating: -1, count: count)
    for (p, r) in rows.enumerated() { out[Int(r)] = Int32(p) }
    return out
}

/// Distinct entries sorted by key: (order, position of each distinct entry).
func keyOrder(_ keys: [Int64]) -> (order: [Int32], posOf: [Int32]) {
    let order = keys.indices.sorted { keys[$0] < keys[$1] }.map { Int32($0) }
    return (order, positions(of: order, count: keys.count))
}

/// Indexes of a StringArray's values in byte order.
func byteOrder(_ s: StringArray) -> [Int] {
    (0..<s.count).sorted { s.bytes[s.range($0)].lexicographicallyPrecedes(s.bytes[s.range($1)]) }
}

func int32Keys(_ keys: [Int64], _ column: String) throws -> [Int32] {
    var out = [Int32](repeating: 0, count: keys.count)
    for i in keys.indices {
        guard let k = Int32(exactly: keys[i]) else {
            throw WarehouseError("\(column) \(keys[i]) does not fit the warehouse's int32 key column", code: .keyOverflow,
                                     column: column)
        }
        out[i] = k
    }
    return out
}

func validity(_ flags: [Bool]) -> Bitmap? {
    guard flags.contains(false) else { return nil }
    var b = Bitmap(repeating: true, count: flags.count)
    for i in flags.indices where !flags[i] { b[i] = false }
    return b
}

/// A string column from label indexes; `nullIndex` becomes null.
func stringColumn(_ indexes: [Int32], labels: [String], nullIndex: Int32) -> Column {
    var s = StringArray()
    let utf8 = labels.map { Array($0.utf8) }
    s.reserveCapacity(rows: indexes.count, bytes: indexes.count * 5)
    var valid = [Bool](repeating: true, count: indexes.count)
    for i in indexes.indices {
        let x = indexes[i]
        if x == nullIndex {
            s.appendEmpty()
            valid[i] = false
        } else {
            s.append(utf8[Int(x)][...])
        }
    }
    return Column(.string(s), validity: validity(valid))
}

func countNegative(_ v: [Int32]) -> Int {
    var n = 0
    for x in v where x < 0 { n += 1 }
    return n
}

func clampedInt16(_ v: [Int32]) -> [Int16] {
    var out = [Int16](repeating: 0, count: v.count)
    for i in v.indices { out[i] = Int16(clamping: v[i]) }
    return out
}

func makeBatch(_ schema: Schema, _ columns: [Column]) throws -> Batch {
    for (f, c) in zip(schema.fields, columns) where f.type != c.type {
        throw WarehouseError("internal: column `\(f.name)` built as \(c.type), schema says \(f.type)", code: .internal,
                             column: f.name)
    }
    return Batch(schema: schema, columns: columns)
}
