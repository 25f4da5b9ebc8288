// Every string the generator writes, stored once as UTF-8 in one buffer and named by
// an integer id; string columns are assembled from these pieces by copying bytes.

import FicheLake

/// Interned UTF-8 fragments: fragment i is bytes[starts[i] ..< starts[i+1]].
struct SyntheticTextPool: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [Int32] = [0]

    /// Adds a fragment and returns its id.
    mutating func add(_ s: String) -> Int32 {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
        starts.append(Int32(bytes.count))
        return Int32(starts.count - 2)
    }

    func string(_ id: Int32) -> String {
        String(decoding: bytes[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])], as: UTF8.self)
    }

    func length(_ id: Int32) -> Int { Int(starts[Int(id) + 1] - starts[Int(id)]) }

    /// A string column whose row i is fragment `ids[index[i]]`, built in two passes
    /// (sizes, then copies) into exactly allocated buffers.
    func column<Index: FixedWidthInteger>(_ index: [Index], ids: [Int32]) -> StringArray {
        let n = index.count
        let lengths = ids.map { length($0) }
        var total = 0
        for i in index { total &+= lengths[Int(i)] }
        return bytes.withUnsafeBufferPointer { pool in
            let offsets = [Int32](unsafeUninitializedCapacity: n + 1) { off, count in
                var at: Int32 = 0
                off[0] = 0
                for r in 0..<n {
                    at &+= Int32(truncatingIfNeeded: lengths[Int(index[r])])
                    off[r + 1] = at
                }
                count = n + 1
            }
            let data = [UInt8](unsafeUninitializedCapacity: total) { out, count in
                guard let dst = out.baseAddress, let src = pool.baseAddress else {
                    count = 0
                    return
                }
                var at = 0
                for r in 0..<n {
                    let id = Int(ids[Int(index[r])])
                    let s = Int(starts[id]), e = Int(starts[id + 1])
                    (dst + at).update(from: src + s, count: e - s)
                    at += e - s
                }
                count = total
            }
            return StringArray(offsets: offsets, bytes: data)
        }
    }

    /// `count` rows of the same string.
    static func constant(_ s: String, count: Int) -> StringArray {
        let unit = Array(s.utf8)
        let width = unit.count
        let offsets = [Int32](unsafeUninitializedCapacity: count + 1) { off, c in
            for r in 0...count { off[r] = Int32(truncatingIfNeeded: r * width) }
            c = count + 1
        }
        let total = width * count
        let data = [UInt8](unsafeUninitializedCapacity: total) { out, c in
            guard let dst = out.baseAddress, total > 0 else {
                c = 0
                return
            }
            unit.withUnsafeBufferPointer { u in
                if let src = u.baseAddress { dst.update(from: src, count: width) }
            }
            // Doubling copies: log2(count) memcpy calls.
            var filled = width
            while filled < total {
                let n = Swift.min(filled, total - filled)
                (dst + filled).update(from: dst, count: n)
                filled += n
            }
            c = total
        }
        return StringArray(offsets: offsets, bytes: data)
    }
}

/// A string column under construction whose values are concatenations of pool fragments.
struct SyntheticTextColumn {
    var bytes: [UInt8] = []
    var offsets: [Int32] = [0]

    init(rows: Int, bytesPerRow: Int) {
        offsets.reserveCapacity(rows + 1)
        bytes.reserveCapacity(rows * bytesPerRow)
    }

    /// Appends fragment `id` of `pool` to the current value.
    @inline(__always)
    mutating func add(_ pool: UnsafeBufferPointer<UInt8>, _ starts: UnsafeBufferPointer<Int32>, _ id: Int32) {
        let s = Int(starts[Int(id)]), e = Int(starts[Int(id) + 1])
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: pool[s..<e]))
    }

    /// Ends the current value.
    @inline(__always)
    mutating func endValue() { offsets.append(Int32(truncatingIfNeeded: bytes.count)) }

    var array: StringArray { StringArray(offsets: offsets, bytes: bytes) }
}
