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
