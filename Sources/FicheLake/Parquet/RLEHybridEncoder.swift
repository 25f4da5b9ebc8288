// Parquet's RLE / bit-packing hybrid (apache/parquet-format Encodings.md, "RLE = 3"), the
// encoding of definition levels and of dictionary indices. A stream of runs:
//
//   RLE run         varint(length << 1)        then the value in ⌈bitWidth / 8⌉ bytes, LE
//   bit-packed run  varint(groups << 1 | 1)    then groups × 8 values, bitWidth bits each,
//                                              packed from the least significant bit up
//
// A bit-packed run always holds whole groups of 8 values; the last one of a stream may be
// padded with zeros (the reader knows how many values there are).

enum RLEHybridEncoder {
    /// Appends `values` (each below 2^bitWidth, bitWidth 1…32) as runs: a value repeated at
    /// least 8 times from a group boundary is an RLE run, everything else is bit-packed.
    static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into out: inout [UInt8]) {
        precondition((1...32).contains(bitWidth), "bit width \(bitWidth) out of range")
        let n = values.count
        var i = 0
        var packStart = -1  // first value of the pending bit-packed run, if any
        while i < n {
            let v = values[i]
            var j = i + 1
            while j < n && values[j] == v { j += 1 }
            if j - i >= 8 {
                if packStart >= 0 {
                    appendBitPacked(values, packStart..<i, bitWidth: bitWidth, into: &out)
                    packStart = -1
                }
                appendRun(v, count: j - i, bitWidth: bitWidth, into: &out)
                i = j
            } else {
                if packStart < 0 { packStart = i }
                i = min(i + 8, n)
            }
        }
        if packStart >= 0 { appendBitPacked(values, packStart..<n, bitWidth: bitWidth, into: &out) }
    }

    /// Appends the definition levels of a flat optional column, bit width 1, straight from a
    /// validity bitmap (bit i, LSB first, is row i's level): a bit-packed group of 8 levels
    /// is exactly one bitmap byte, and runs of 0x00 or 0xFF bytes become RLE runs.
    static func encodeLevels(bitmap: UnsafeBufferPointer<UInt8>, count: Int, into out: inout [UInt8]) {
        precondition(bitmap.count >= (count + 7) / 8, "bitmap shorter than its levels")
        let whole = count / 8
        var i = 0
        var packStart = -1
        func flushPack(_ end: Int) {
            guard packStart >= 0 else { return }
            appendVarint(UInt64(end - packStart) << 1 | 1, into: &out)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bitmap[packStart..<end]))
            packStart = -1
        }
        while i < whole {
            let b = bitmap[i]
            if b == 0 || b == 0xFF {
                var j = i + 1
                while j < whole && bitmap[j] == b { j += 1 }
                if j - i >= 2 {
                    flushPack(i)
                    appendRun(b == 0 ? 0 : 1, count: (j - i) * 8, bitWidth: 1, into: &out)
                    i = j
                    continue
                }
            }
            if packStart < 0 { packStart = i }
            i += 1
        }
        flushPack(whole)
        let rest = count % 8
        if rest > 0 {
            appendVarint(1 << 1 | 1, into: &out)
            out.append(bitmap[whole] & UInt8((1 << rest) - 1))
        }
    }

    /// One RLE run: `count` repeats of `value`.
    static func appendRun(_ value: UInt32, count: Int, bitWidth: Int, into out: inout [UInt8]) {
        appendVarint(UInt64(count) << 1, into: &out)
        var v = value
        for _ in 0..<(bitWidth + 7) / 8 {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// One bit-packed run of `range` (padded with zeros to a multiple of 8 values).
    static func appendBitPacked(_ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, bitWidth: Int,
                                into out: inout [UInt8]) {
        let groups = (range.count + 7) / 8
        appendVarint(UInt64(groups) << 1 | 1, into: &out)
        var acc: UInt64 = 0
        var bits = 0
        for k in 0..<groups * 8 {
            let i = range.lowerBound + k
            let v = i < range.upperBound ? UInt64(values[i]) : 0
            acc |= v << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
    }

    static func appendVarint(_ v: UInt64, into out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The fewest bits that hold every value below `count` (at least 1).
    static func bitWidth(forValuesBelow count: Int) -> Int {
        count <= 2 ? 1 : Int.bitWidth - (count - 1).leadingZeroBitCount
    }
}
