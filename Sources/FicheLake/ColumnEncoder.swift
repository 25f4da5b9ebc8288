// The column encoder: from a column in memory to the bytes of its block (before zstd),
// choosing per column the encoding that gives the fewest bytes. Its input is trusted (built
// by this process); the decoder of untrusted bytes is ColumnDecoder.swift.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ColumnEncoder {
    static func encode(_ column: Column) -> EncodedColumn {
        var w = ByteWriter(capacity: 64)
        let n = column.count
        var nullCount = 0
        if let validity = column.validity {
            nullCount = n - validity.setCount
            w.append(validity.bytes)
        }
        let encoding: ColumnEncoding
        let stats: ColumnStats
        switch column.values {
        case .bool(let v):
            var bits = Bitmap()
            bits.reserveCapacity(n)
            for i in 0..<n { bits.append(v[i] && !column.isNull(i)) }
            w.append(bits.bytes)
            encoding = .plain
            stats = .none
        case .int8(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .int16(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .int32(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .int64(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .date(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .timestamp(let v): (encoding, stats) = encodeIntegers(v, column.validity, &w)
        case .float64(let v):
            var lo = Double.infinity, hi = -Double.infinity, any = false
            var clean = v
            for i in 0..<n {
                if column.isNull(i) { clean[i] = 0; continue }
                let x = v[i]
                if !x.isNaN { lo = min(lo, x); hi = max(hi, x); any = true }
            }
            clean.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: UInt64.self) { w.appendArray($0) }
            }
            encoding = .plain
            stats = any ? .float(min: lo, max: hi) : .none
        case .uuid(let v):
            if let dict = uuidDictionary(v, validity: column.validity, limit: n / 2) {
                w.append(UInt32(dict.values.count))
                for u in dict.values {
                    w.append(u.high.bigEndian.littleEndian)
                    w.append(u.low.bigEndian.littleEndian)
                }
                let width = dict.values.count <= 256 ? 1 : dict.values.count <= 65_536 ? 2 : 4
                w.append(UInt8(width))
                switch width {
                case 1: w.bytes.append(contentsOf: dict.indices.lazy.map { UInt8(truncatingIfNeeded: $0) })
                case 2: for x in dict.indices { w.append(UInt16(truncatingIfNeeded: x)) }
                default: dict.indices.withUnsafeBufferPointer { w.appendArray($0) }
                }
                return EncodedColumn(encoding: .dictionary, payload: w.bytes, nullCount: nullCount, stats: .none)
            }
            let start = w.bytes.count
            w.bytes.append(contentsOf: repeatElement(0, count: 16 * n))
            w.bytes.withUnsafeMutableBytes { raw in
                let out = UnsafeMutableRawBufferPointer(rebasing: raw[start...])
                for i in 0..<n where !column.isNull(i) {  // RFC 4122 byte order on disk
                    out.storeBytes(of: v[i].high.bigEndian, toByteOffset: 16 * i, as: UInt64.self)
                    out.storeBytes(of: v[i].low.bigEndian, toByteOffset: 16 * i + 8, as: UInt64.self)
                }
            }
            encoding = .plain
            stats = .none
        case .string(let s):
            (encoding, stats) = encodeStrings(s, column.validity, &w)
        }
        return EncodedColumn(encoding: encoding, payload: w.bytes, nullCount: nullCount, stats: stats)
    }

    /// Integers: nulls are filled with the previous present value (so they cost nothing in
    /// any encoding), then the smallest of plain / dictionary / FOR / delta is written.
    static func encodeIntegers<T: FixedWidthInteger & SignedInteger>(
        _ values: [T], _ validity: Bitmap?, _ w: inout ByteWriter
    ) -> (ColumnEncoding, ColumnStats) {
        let n = values.count
        var filled = values
        var anyPresent = validity == nil ? n > 0 : false
        if let validity {
            var last: T = 0
            if let first = (0..<n).first(where: { validity[$0] }) { last = values[first]; anyPresent = true }
            for i in 0..<n {
                if validity[i] { last = values[i] } else { filled[i] = last }
            }
        }
        return filled.withUnsafeBufferPointer { v -> (ColumnEncoding, ColumnStats) in
            guard n > 0, anyPresent else {
                w.appendArray(v)
                return (.plain, .none)
            }
            var lo = v[0], hi = v[0]
            var dlo = Int64.max, dhi = Int64.min
            var deltaOverflow = false
            for i in 0..<n {
                let x = v[i]
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
                if i > 0 {
                    let (d, o) = Int64(x).subtractingReportingOverflow(Int64(v[i - 1]))
                    deltaOverflow = deltaOverflow || o
                    dlo = Swift.min(dlo, d)
                    dhi = Swift.max(dhi, d)
                }
            }
            let stats = ColumnStats.integer(min: Int64(lo), max: Int64(hi))
            let plainSize = n * MemoryLayout<T>.size
            let forWidth = byteWidth(UInt64(bitPattern: Int64(hi) &- Int64(lo)), overflow: Int64(hi).subtractingReportingOverflow(Int64(lo)).overflow)
            let forSize = 9 + n * forWidth
            var deltaWidth = 8
            if n > 1, !deltaOverflow {
                let (span, o) = dhi.subtractingReportingOverflow(dlo)
                deltaWidth = byteWidth(UInt64(bitPattern: span), overflow: o)
            }
            let deltaSize = n > 1 && !deltaOverflow ? 17 + (n - 1) * deltaWidth : Int.max
            let dict = integerDictionary(v, limit: Swift.min(256, n / 4))
            let dictSize = dict.map { 5 + $0.values.count * 8 + n } ?? Int.max

            let best = Swift.min(plainSize, forSize, deltaSize, dictSize)
            if best == plainSize {
                w.appendArray(v)
                return (.plain, stats)
            } else if best == forSize {
                w.append(Int64(lo))
                w.append(UInt8(forWidth))
                packOffsets(v, base: Int64(lo), width: forWidth, &w)
                return (.frameOfReference, stats)
            } else if best == deltaSize {
                w.append(Int64(v[0]))
                w.append(dlo)
                w.append(UInt8(deltaWidth))
                packDeltas(v, base: dlo, width: deltaWidth, &w)
                return (.delta, stats)
            } else {
                let d = dict!
                w.append(UInt32(d.values.count))
                for x in d.values { w.append(x) }
                w.append(UInt8(1))
                w.append(d.indices)
                return (.dictionary, stats)
            }
        }
    }

    /// Distinct uuids (nulls read as zero) and each row's index, or nil when more than
    /// `limit` distinct values (or a sample of the first rows) say a dictionary will not pay.
    static func uuidDictionary(_ v: [UUID16], validity: Bitmap?, limit: Int) -> (values: [UUID16], indices: [UInt32])? {
        guard limit >= 1 else { return nil }
        @inline(__always) func value(_ i: Int) -> UUID16 { validity.map { $0[i] } ?? true ? v[i] : .zero }
        @inline(__always) func hash(_ u: UUID16) -> UInt64 { u.high ^ (u.low &* 0x9E37_79B9_7F4A_7C15) }
        let sample = Swift.min(v.count, 4096)
        guard distinctValues(rows: sample, limit: sample * 3 / 4, value: value, hash: hash) != nil else { return nil }
        return distinctValues(rows: v.count, limit: limit, value: value, hash: hash)
    }

    /// Distinct values of rows 0..<rows in first-seen order and each row's index into them,
    /// or nil as soon as there are more than `limit` (open addressing, linear probing).
    @inline(__always)
    static func distinctValues<T: Equatable>(rows: Int, limit: Int, value: (Int) -> T,
                                             hash: (T) -> UInt64) -> (values: [T], indices: [UInt32])? {
        var capacity = 64
        while capacity < 2 * Swift.min(limit + 1, rows) { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        var values: [T] = []
        var indices = [UInt32](repeating: 0, count: rows)
        for i in 0..<rows {
            let x = value(i)
            var slot = Int(truncatingIfNeeded: hash(x) >> 17) & mask
            while true {
                let s = slots[slot]
                if s < 0 {
                    if values.count >= limit { return nil }
                    slots[slot] = Int32(values.count)
                    indices[i] = UInt32(values.count)
                    values.append(x)
                    break
                }
                if values[Int(s)] == x { indices[i] = UInt32(s); break }
                slot = (slot + 1) & mask
            }
        }
        return (values, indices)
    }

    static func byteWidth(_ span: UInt64, overflow: Bool) -> Int {
        if overflow { return 8 }
        if span <= 0xFF { return 1 }
        if span <= 0xFFFF { return 2 }
        if span <= 0xFFFF_FFFF { return 4 }
        return 8
    }

    static func packOffsets<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>, base: Int64, width: Int, _ w: inout ByteWriter) {
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: v.count * width))
        w.bytes.withUnsafeMutableBytes { raw in
            let out = UnsafeMutableRawBufferPointer(rebasing: raw[start...])
            switch width {
            case 1: for i in 0..<v.count { out[i] = UInt8(truncatingIfNeeded: Int64(v[i]) &- base) }
            case 2: for i in 0..<v.count { out.storeBytes(of: UInt16(truncatingIfNeeded: Int64(v[i]) &- base).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case 4: for i in 0..<v.count { out.storeBytes(of: UInt32(truncatingIfNeeded: Int64(v[i]) &- base).littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            default: for i in 0..<v.count { out.storeBytes(of: UInt64(bitPattern: Int64(v[i]) &- base).littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
            }
        }
    }

    static func packDeltas<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>, base: Int64, width: Int, _ w: inout ByteWriter) {
        let m = v.count - 1
        let start = w.bytes.count
        w.bytes.append(contentsOf: repeatElement(0, count: m * width))
        w.bytes.withUnsafeMutableBytes { raw in
            let out = UnsafeMutableRawBufferPointer(rebasing: raw[start...])
            for i in 0..<m {
                let d = UInt64(bitPattern: (Int64(v[i + 1]) &- Int64(v[i])) &- base)
                switch width {
                case 1: out[i] = UInt8(truncatingIfNeeded: d)
                case 2: out.storeBytes(of: UInt16(truncatingIfNeeded: d).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                case 4: out.storeBytes(of: UInt32(truncatingIfNeeded: d).littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                default: out.storeBytes(of: d.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
                }
            }
        }
    }

    /// Distinct values (in first-seen order) and one-byte indices, or nil past `limit`.
    static func integerDictionary<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>, limit: Int) -> (values: [Int64], indices: [UInt8])? {
        guard limit > 1,
              let d = distinctValues(rows: v.count, limit: limit, value: { Int64(v[$0]) },
                                     hash: { UInt64(bitPattern: $0) &* 0x9E37_79B9_7F4A_7C15 })
        else { return nil }
        return (d.values, d.indices.map { UInt8(truncatingIfNeeded: $0) })
    }

    /// Strings: dictionary when few distinct values repeat, else plain (lengths, then bytes).
    static func encodeStrings(_ s: StringArray, _ validity: Bitmap?, _ w: inout ByteWriter) -> (ColumnEncoding, ColumnStats) {
        let n = s.count
        // Null rows read as empty values from here on.
        var lengths = [UInt32](repeating: 0, count: n)
        var starts = [Int](repeating: 0, count: n)
        s.offsets.withUnsafeBufferPointer { off in
            for i in 0..<n where validity.map({ $0[i] }) ?? true {
                starts[i] = Int(off[i])
                lengths[i] = UInt32(truncatingIfNeeded: off[i + 1] &- off[i])
            }
        }
        return s.bytes.withUnsafeBytes { raw -> (ColumnEncoding, ColumnStats) in
            let strings = StringSlices(base: raw.baseAddress, starts: starts, lengths: lengths)
            let stats = strings.stats(validity: validity)
            let limit = Swift.min(dictionaryLimit, n / 2)
            if limit >= 1, strings.looksRepetitive(), let dict = strings.dictionary(limit: limit) {
                w.append(UInt32(dict.firsts.count))
                for f in dict.firsts { w.append(lengths[f]) }
                for f in dict.firsts { w.append(strings.bytes(f)) }
                let width = dict.firsts.count <= 256 ? 1 : 2
                w.append(UInt8(width))
                if width == 1 {
                    w.bytes.append(contentsOf: dict.indices.lazy.map { UInt8(truncatingIfNeeded: $0) })
                } else {
                    for x in dict.indices { w.append(UInt16(truncatingIfNeeded: x)) }
                }
                return (.dictionary, stats)
            }
            lengths.withUnsafeBufferPointer { w.appendArray($0) }
            w.bytes.reserveCapacity(w.bytes.count + starts.indices.reduce(0) { $0 + Int(lengths[$1]) })
            for i in 0..<n { w.append(strings.bytes(i)) }
            return (.plain, stats)
        }
    }
}
