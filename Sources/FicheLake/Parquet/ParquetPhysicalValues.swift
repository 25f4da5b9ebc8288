// A lake column's present (non-null) values in the physical form Parquet stores them,
// their PLAIN encoding, and their statistics in the type's defined sort order.

/// Present values of one column chunk, nulls left out (definition levels say where they were).
enum ParquetPhysicalValues {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case double([Double])
    case fixed16([UUID16])
    case byteArray(StringArray)

    var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .double(let v): v.count
        case .fixed16(let v): v.count
        case .byteArray(let s): s.count
        }
    }

    /// PLAIN bytes of all the values (for choosing between PLAIN and a dictionary).
    var plainBytes: Int {
        switch self {
        case .boolean(let v): (v.count + 7) / 8
        case .int32(let v): 4 * v.count
        case .int64(let v): 8 * v.count
        case .double(let v): 8 * v.count
        case .fixed16(let v): 16 * v.count
        case .byteArray(let s): 4 * s.count + s.bytes.count
        }
    }

    /// The present values of `column` (uuids as text when `uuidAs` says so). A column without
    /// nulls shares its buffer; int8 and int16 widen to INT32.
    init(_ column: Column, uuidAs: ParquetUUIDRepresentation) {
        let validity = column.nullCount > 0 ? column.validity : nil
        func present<T>(_ v: [T]) -> [T] {
            guard let validity else { return v }
            var out: [T] = []
            out.reserveCapacity(validity.setCount)
            for i in 0..<v.count where validity[i] { out.append(v[i]) }
            return out
        }
        func widened<T: BinaryInteger>(_ v: [T]) -> [Int32] {
            var out: [Int32] = []
            out.reserveCapacity(v.count)
            if let validity {
                for i in 0..<v.count where validity[i] { out.append(Int32(v[i])) }
            } else {
                for x in v { out.append(Int32(x)) }
            }
            return out
        }
        switch column.values {
        case .bool(let v): self = .boolean(present(v))
        case .int8(let v): self = .int32(widened(v))
        case .int16(let v): self = .int32(widened(v))
        case .int32(let v), .date(let v): self = .int32(present(v))
        case .int64(let v), .timestamp(let v): self = .int64(present(v))
        case .float64(let v): self = .double(present(v))
        case .uuid(let v):
            let p = present(v)
            self = uuidAs == .uuid ? .fixed16(p) : .byteArray(Self.canonicalText(p))
        case .string(let s):
            guard let validity else {
                self = .byteArray(s)
                return
            }
            var out = StringArray()
            out.reserveCapacity(rows: validity.setCount, bytes: s.bytes.count)
            for i in 0..<s.count where validity[i] { out.append(s.bytes[s.range(i)]) }
            self = .byteArray(out)
        }
    }

    /// Canonical lower-case 8-4-4-4-12 text of each uuid, 36 bytes apiece, in one buffer.
    static func canonicalText(_ ids: [UUID16]) -> StringArray {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        let n = ids.count
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 36 * n)
        bytes.withUnsafeMutableBufferPointer { out in
            hex.withUnsafeBufferPointer { hex in
                for k in 0..<n {
                    let id = ids[k]
                    var at = 36 * k
                    for i in 0..<32 {
                        if i == 8 || i == 12 || i == 16 || i == 20 { at += 1 }
                        let word = i < 16 ? id.high : id.low
                        out[at] = hex[Int((word >> UInt64(60 - 4 * (i & 15))) & 0xF)]
                        at += 1
                    }
                }
            }
        }
        let offsets = (0...n).map { Int32(36 * $0) }
        return StringArray(offsets: offsets, bytes: bytes)
    }

    // MARK: PLAIN encoding

    /// Appends values `range` PLAIN-encoded: integers and doubles little-endian, uuids as
    /// their 16 big-endian bytes, byte arrays as a u32 length then the bytes, booleans one
    /// bit each from the least significant bit.
    func appendPlain(_ range: Range<Int>, to out: inout [UInt8]) {
        switch self {
        case .boolean(let v):
            var acc: UInt8 = 0
            var bit = 0
            for i in range {
                if v[i] { acc |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 {
                    out.append(acc)
                    acc = 0
                    bit = 0
                }
            }
            if bit > 0 { out.append(acc) }
        case .int32(let v):
            v.withUnsafeBufferPointer { Self.appendLittleEndian(UnsafeBufferPointer(rebasing: $0[range]), &out) }
        case .int64(let v):
            v.withUnsafeBufferPointer { Self.appendLittleEndian(UnsafeBufferPointer(rebasing: $0[range]), &out) }
        case .double(let v):
            for i in range { Self.appendLittleEndian(v[i].bitPattern, &out) }
        case .fixed16(let v):
            let at = out.count
            out.append(contentsOf: repeatElement(0, count: 16 * range.count))
            v.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBytes { dst in
                    var p = at
                    for i in range {
                        dst.storeBytes(of: src[i].high.bigEndian, toByteOffset: p, as: UInt64.self)
                        dst.storeBytes(of: src[i].low.bigEndian, toByteOffset: p + 8, as: UInt64.self)
                        p += 16
                    }
                }
            }
        case .byteArray(let s):
            guard !range.isEmpty else { return }
            let first = Int(s.offsets[range.lowerBound]), last = Int(s.offsets[range.upperBound])
            let at = out.count
            out.append(contentsOf: repeatElement(0, count: 4 * range.count + last - first))
            s.bytes.withUnsafeBytes { bytes in
                s.offsets.withUnsafeBufferPointer { off in
                    out.withUnsafeMutableBytes { dst in
                        var p = at
                        for i in range {
                            let start = Int(off[i]), n = Int(off[i + 1]) - start
                            dst.storeBytes(of: UInt32(n).littleEndian, toByteOffset: p, as: UInt32.self)
                            if n > 0 { (dst.baseAddress! + p + 4).copyMemory(from: bytes.baseAddress! + start, byteCount: n) }
                            p += 4 + n
                        }
                    }
                }
            }
        }
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>, _ out: inout [UInt8]) {
        #if _endian(little)
        out.append(contentsOf: UnsafeRawBufferPointer(v))
        #else
        for x in v { appendLittleEndian(x, &out) }
        #endif
    }

    // MARK: Statistics

    /// min and max in the type's sort order (signed for integers, unsigned bytes for byte
    /// arrays and uuids, false < true; doubles without NaN, a zero min written -0.0 and a
    /// zero max +0.0), PLAIN-encoded without length prefix.
    /// With `among` (rows holding every distinct value, e.g. a dictionary's first
    /// occurrences), text min and max are looked for there only.
    func statistics(nullCount: Int, maxBytes: Int, among: [Int32]? = nil) -> ParquetStatistics {
        var s = ParquetStatistics(nullCount: Int64(nullCount))
        func plain(_ i: Int) -> [UInt8] {
            var out: [UInt8] = []
            if case .byteArray(let a) = self { out.append(contentsOf: a.bytes[a.range(i)]) } else { appendPlain(i..<(i + 1), to: &out) }
            return out
        }
        switch self {
        case .boolean(let v):
            guard !v.isEmpty else { break }
            s.minValue = [v.contains(false) ? 0 : 1]
            s.maxValue = [v.contains(true) ? 1 : 0]
        case .int32(let v):
            guard let lo = v.min(), let hi = v.max() else { break }
            s.minValue = Self.littleEndianBytes(lo)
            s.maxValue = Self.littleEndianBytes(hi)
        case .int64(let v):
            guard let lo = v.min(), let hi = v.max() else { break }
            s.minValue = Self.littleEndianBytes(lo)
            s.maxValue = Self.littleEndianBytes(hi)
        case .double(let v):
            var nans = 0
            var lo = Double.infinity, hi = -Double.infinity, any = false
            for x in v {
                if x.isNaN { nans += 1; continue }
                any = true
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
            }
            s.nanCount = Int64(nans)
            guard any else { break }
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            s.minValue = Self.littleEndianBytes(lo.bitPattern)
            s.maxValue = Self.littleEndianBytes(hi.bitPattern)
        case .fixed16(let v):
            guard !v.isEmpty else { break }
            var lo = 0, hi = 0
            v.withUnsafeBufferPointer { b in
                var low = b[0], high = b[0]
                for i in 1..<b.count {
                    let x = b[i]
                    if x < low { low = x; lo = i }
                    if high < x { high = x; hi = i }
                }
            }
            s.minValue = plain(lo)
            s.maxValue = plain(hi)
        case .byteArray(let a):
            guard a.count > 0 else { break }
            var lo = 0, hi = 0
            a.bytes.withUnsafeBufferPointer { b in
                a.offsets.withUnsafeBufferPointer { off in
                    func less(_ i: Int, _ j: Int) -> Bool {
                        let si = Int(off[i]), li = Int(off[i + 1]) - si
                        let sj = Int(off[j]), lj = Int(off[j + 1]) - sj
                        let n = Swift.min(li, lj)
                        let c = n == 0 ? 0 : memcmp(b.baseAddress! + si, b.baseAddress! + sj, n)
                        return c != 0 ? c < 0 : li < lj
                    }
                    func scan<S: Sequence<Int>>(_ rows: S) {
                        for i in rows {
                            if less(i, lo) { lo = i }
                            if less(hi, i) { hi = i }
                        }
                    }
                    if let among, let first = among.first {
                        lo = Int(first)
                        hi = lo
                        scan(among.dropFirst().lazy.map { Int($0) })
                    } else {
                        scan(1..<a.count)
                    }
                }
            }
            guard a.range(lo).count <= maxBytes, a.range(hi).count <= maxBytes else { break }
            s.minValue = plain(lo)
            s.maxValue = plain(hi)
        }
        return s
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
