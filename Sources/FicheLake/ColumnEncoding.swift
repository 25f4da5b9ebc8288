// Per-column encodings. The writer picks, from the data, whichever of plain, dictionary,
// frame-of-reference or delta gives the fewest bytes before zstd; the reader checks every
// length and index it decodes. Layouts are specified in Documentation.docc/ChunkFormat.md.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a column's values are laid out inside its (uncompressed) block.
public enum ColumnEncoding: UInt8, Sendable, CustomStringConvertible {
    case plain = 0
    case dictionary = 1
    case frameOfReference = 2
    case delta = 3

    public var description: String {
        switch self {
        case .plain: "plain"
        case .dictionary: "dictionary"
        case .frameOfReference: "for"
        case .delta: "delta"
        }
    }
}

/// Min/max of a column's present values, kept in the footer.
public enum ColumnStats: Sendable, Equatable {
    case none
    case integer(min: Int64, max: Int64)
    case float(min: Double, max: Double)
    /// Prefixes of at most `stringStatsLimit` bytes; `truncated` when either was cut.
    case string(min: [UInt8], max: [UInt8], truncated: Bool)
}

let stringStatsLimit = 48
/// The most distinct values a dictionary may hold.
let dictionaryLimit = 65_536

/// One column encoded, before compression.
struct EncodedColumn {
    var encoding: ColumnEncoding
    var payload: [UInt8]
    var nullCount: Int
    var stats: ColumnStats
}

// MARK: - Writing

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

/// The values of a string column as (start, length) pairs over one byte buffer.
struct StringSlices {
    let base: UnsafeRawPointer?
    let starts: [Int]
    let lengths: [UInt32]

    var count: Int { starts.count }

    @inline(__always)
    func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + starts[i] }, count: Int(lengths[i]))
    }

    @inline(__always)
    func equal(_ i: Int, _ j: Int) -> Bool {
        let n = lengths[i]
        guard n == lengths[j] else { return false }
        guard n > 0, let base else { return true }
        return memcmp(base + starts[i], base + starts[j], Int(n)) == 0
    }

    /// Byte-wise order (memcmp, then length).
    @inline(__always)
    func less(_ i: Int, _ j: Int) -> Bool {
        let a = Int(lengths[i]), b = Int(lengths[j])
        if let base, min(a, b) > 0 {
            let c = memcmp(base + starts[i], base + starts[j], min(a, b))
            if c != 0 { return c < 0 }
        }
        return a < b
    }

    /// A 64-bit hash of value i, eight bytes at a time.
    @inline(__always)
    func hash(_ i: Int) -> UInt64 {
        let n = Int(lengths[i])
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        guard n > 0, let base else { return h }
        let p = base + starts[i]
        var k = 0
        while k + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            k += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while k < n {
            tail |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << shift
            shift += 8
            k += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    func stats(validity: Bitmap?) -> ColumnStats {
        var lo = -1, hi = -1
        for i in 0..<count where validity.map({ $0[i] }) ?? true {
            if lo < 0 { lo = i; hi = i; continue }
            if less(i, lo) { lo = i }
            if less(hi, i) { hi = i }
        }
        guard lo >= 0 else { return .none }
        let a = Array(bytes(lo).prefix(stringStatsLimit)), b = Array(bytes(hi).prefix(stringStatsLimit))
        return .string(min: a, max: b, truncated: a.count < Int(lengths[lo]) || b.count < Int(lengths[hi]))
    }

    /// A cheap look at the first rows: is a dictionary worth trying?
    func looksRepetitive() -> Bool {
        let sample = Swift.min(count, 2048)
        guard sample >= 2 else { return false }
        let d = StringSlices(base: base, starts: Array(starts[0..<sample]), lengths: Array(lengths[0..<sample]))
        return d.dictionary(limit: sample / 2) != nil
    }

    /// Distinct values (first occurrences) and each row's index, or nil past `limit`.
    func dictionary(limit: Int) -> (firsts: [Int], indices: [UInt32])? {
        var capacity = 64
        while capacity < 2 * Swift.min(limit, count) { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        var hashes = [UInt64](repeating: 0, count: capacity)
        var firsts: [Int] = []
        var indices = [UInt32](repeating: 0, count: count)
        for i in 0..<count {
            let h = hash(i)
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
                let s = slots[slot]
                if s < 0 {
                    if firsts.count >= limit { return nil }
                    slots[slot] = Int32(firsts.count)
                    hashes[slot] = h
                    indices[i] = UInt32(firsts.count)
                    firsts.append(i)
                    break
                }
                if hashes[slot] == h, equal(firsts[Int(s)], i) {
                    indices[i] = UInt32(s)
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        return (firsts, indices)
    }
}

// MARK: - Reading

enum ColumnDecoder {
    /// Decodes one column block. `reader` spans exactly the uncompressed block.
    static func decode(_ reader: inout ByteReader, type: ColumnType, encoding: ColumnEncoding,
                       hasValidity: Bool, rows n: Int) throws -> Column {
        var validity: Bitmap?
        if hasValidity {
            let raw = try reader.readBytes((n + 7) / 8, "validity bitmap")
            validity = Bitmap(bytes: Array(raw), count: n)
        }
        func expectPlain() throws {
            guard encoding == .plain else {
                throw LakeError(.corrupt, "encoding \(encoding) is not valid for a \(type) column", offset: reader.absolutePosition)
            }
        }
        var values: ColumnValues
        switch type {
        case .bool:
            try expectPlain()
            let raw = try reader.readBytes((n + 7) / 8, "bool values")
            let bits = Bitmap(bytes: Array(raw), count: n)
            values = .bool((0..<n).map { bits[$0] })
        case .int8: values = .int8(try decodeIntegers(&reader, encoding, n))
        case .int16: values = .int16(try decodeIntegers(&reader, encoding, n))
        case .int32: values = .int32(try decodeIntegers(&reader, encoding, n))
        case .int64: values = .int64(try decodeIntegers(&reader, encoding, n))
        case .date: values = .date(try decodeIntegers(&reader, encoding, n))
        case .timestamp: values = .timestamp(try decodeIntegers(&reader, encoding, n))
        case .float64:
            try expectPlain()
            let bits = try reader.readArray(UInt64.self, count: n, "float64 values")
            values = .float64(bits.map { Double(bitPattern: $0) })
        case .uuid where encoding == .dictionary:
            values = .uuid(try decodeUUIDDictionary(&reader, n))
        case .uuid:
            try expectPlain()
            let raw = try reader.readBytes(n * 16, "uuid values")
            var out = [UUID16]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let hi = raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)
                let lo = raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self)
                out.append(UUID16(high: UInt64(bigEndian: hi), low: UInt64(bigEndian: lo)))
            }
            values = .uuid(out)
        case .string:
            values = .string(try decodeStrings(&reader, encoding, n))
        }
        guard reader.remaining == 0 else {
            throw LakeError(.corrupt, "\(reader.remaining) unexpected bytes after the values", offset: reader.absolutePosition)
        }
        if let validity, type != .string {
            zeroNulls(&values, validity)
        }
        return Column(values, validity: validity)
    }

    static func zeroNulls(_ values: inout ColumnValues, _ validity: Bitmap) {
        func clear<T>(_ a: inout [T], _ zero: T) {
            for i in 0..<a.count where !validity[i] { a[i] = zero }
        }
        switch values {
        case .int8(var a): clear(&a, 0); values = .int8(a)
        case .int16(var a): clear(&a, 0); values = .int16(a)
        case .int32(var a): clear(&a, 0); values = .int32(a)
        case .int64(var a): clear(&a, 0); values = .int64(a)
        case .date(var a): clear(&a, 0); values = .date(a)
        case .timestamp(var a): clear(&a, 0); values = .timestamp(a)
        default: break
        }
    }

    static func decodeIntegers<T: FixedWidthInteger & SignedInteger>(
        _ r: inout ByteReader, _ encoding: ColumnEncoding, _ n: Int
    ) throws -> [T] {
        switch encoding {
        case .plain:
            return try r.readArray(T.self, count: n, "\(T.self) values")
        case .frameOfReference:
            let base = try r.read(Int64.self, "frame-of-reference base")
            let width = Int(try r.read(UInt8.self, "frame-of-reference width"))
            let raw = try r.readBytes(try packedSize(n, width, &r), "packed values")
            return [T](unsafeUninitializedCapacity: n) { out, count in
                for i in 0..<n { out[i] = T(truncatingIfNeeded: base &+ Int64(bitPattern: unpack(raw, i, width))) }
                count = n
            }
        case .delta:
            guard n > 0 else { return [] }
            let first = try r.read(Int64.self, "delta first value")
            let base = try r.read(Int64.self, "delta base")
            let width = Int(try r.read(UInt8.self, "delta width"))
            let raw = try r.readBytes(try packedSize(n - 1, width, &r), "packed deltas")
            return [T](unsafeUninitializedCapacity: n) { out, count in
                var x = first
                out[0] = T(truncatingIfNeeded: x)
                for i in 1..<n {
                    x = x &+ base &+ Int64(bitPattern: unpack(raw, i - 1, width))
                    out[i] = T(truncatingIfNeeded: x)
                }
                count = n
            }
        case .dictionary:
            let k = Int(try r.read(UInt32.self, "dictionary size"))
            let dict = try r.readArray(Int64.self, count: k, "dictionary values")
            let width = Int(try r.read(UInt8.self, "index width"))
            guard width == 1 else {
                throw LakeError(.corrupt, "integer dictionary index width \(width), expected 1", offset: r.absolutePosition)
            }
            let idx = try r.readBytes(n, "dictionary indices")
            var out = [T]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let j = Int(idx[i])
                guard j < k else {
                    throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - n + i)
                }
                out.append(T(truncatingIfNeeded: dict[j]))
            }
            return out
        }
    }

    static func decodeUUIDDictionary(_ r: inout ByteReader, _ n: Int) throws -> [UUID16] {
        let k = Int(try r.read(UInt32.self, "dictionary size"))
        guard k <= max(n, 1) else {
            throw LakeError(.corrupt, "dictionary of \(k) entries for \(n) rows", offset: r.absolutePosition - 4)
        }
        let raw = try r.readBytes(k * 16, "dictionary values")
        var dict = [UUID16]()
        dict.reserveCapacity(k)
        for i in 0..<k {
            dict.append(UUID16(high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)),
                               low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self))))
        }
        let width = Int(try r.read(UInt8.self, "index width"))
        guard width == 1 || width == 2 || width == 4 else {
            throw LakeError(.corrupt, "uuid dictionary index width \(width), expected 1, 2 or 4", offset: r.absolutePosition - 1)
        }
        let idx = try r.readBytes(n * width, "dictionary indices")
        var out = [UUID16](repeating: .zero, count: n)
        for i in 0..<n {
            let j = Int(unpack(idx, i, width))
            guard j < k else {
                throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - idx.count + i * width)
            }
            out[i] = dict[j]
        }
        return out
    }

    static func packedSize(_ n: Int, _ width: Int, _ r: inout ByteReader) throws -> Int {
        guard width == 1 || width == 2 || width == 4 || width == 8 else {
            throw LakeError(.corrupt, "packed width \(width), expected 1, 2, 4 or 8", offset: r.absolutePosition - 1)
        }
        return n * width
    }

    @inline(__always)
    static func unpack(_ raw: UnsafeRawBufferPointer, _ i: Int, _ width: Int) -> UInt64 {
        switch width {
        case 1: UInt64(raw[i])
        case 2: UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case 4: UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        default: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
        }
    }

    static func decodeStrings(_ r: inout ByteReader, _ encoding: ColumnEncoding, _ n: Int) throws -> StringArray {
        switch encoding {
        case .plain:
            let lengths = try r.readArray(UInt32.self, count: n, "string lengths")
            var total = 0
            for l in lengths { total += Int(l) }
            let raw = try r.readBytes(total, "string bytes")
            guard total <= Int(Int32.max) else {
                throw LakeError(.corrupt, "string bytes \(total) exceed a chunk's limit", offset: r.absolutePosition)
            }
            var offsets = [Int32](repeating: 0, count: n + 1)
            var acc: Int32 = 0
            for i in 0..<n { acc &+= Int32(truncatingIfNeeded: lengths[i]); offsets[i + 1] = acc }
            return StringArray(offsets: offsets, bytes: Array(raw))
        case .dictionary:
            let k = Int(try r.read(UInt32.self, "dictionary size"))
            guard k <= dictionaryLimit else {
                throw LakeError(.corrupt, "dictionary of \(k) entries exceeds \(dictionaryLimit)", offset: r.absolutePosition - 4)
            }
            let lengths = try r.readArray(UInt32.self, count: k, "dictionary lengths")
            var starts = [Int](repeating: 0, count: k + 1)
            for i in 0..<k { starts[i + 1] = starts[i] + Int(lengths[i]) }
            let dictBytes = try r.readBytes(starts[k], "dictionary bytes")
            let width = Int(try r.read(UInt8.self, "index width"))
            guard width == 1 || width == 2 else {
                throw LakeError(.corrupt, "string dictionary index width \(width), expected 1 or 2", offset: r.absolutePosition - 1)
            }
            let idx = try r.readBytes(n * width, "dictionary indices")
            var total = 0
            var indices = [Int](repeating: 0, count: n)
            for i in 0..<n {
                let j = width == 1 ? Int(idx[i]) : Int(UInt16(littleEndian: idx.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                guard j < k else {
                    throw LakeError(.corrupt, "dictionary index \(j) at row \(i) out of \(k) entries", offset: r.absolutePosition - idx.count + i * width)
                }
                indices[i] = j
                total += starts[j + 1] - starts[j]
            }
            guard total <= Int(Int32.max) else {
                throw LakeError(.corrupt, "string bytes \(total) exceed a chunk's limit", offset: r.absolutePosition)
            }
            var offsets = [Int32](repeating: 0, count: n + 1)
            var bytes = [UInt8](repeating: 0, count: total)
            bytes.withUnsafeMutableBytes { dst in
                var at = 0
                for (i, j) in indices.enumerated() {
                    let len = starts[j + 1] - starts[j]
                    if len > 0 { (dst.baseAddress! + at).copyMemory(from: dictBytes.baseAddress! + starts[j], byteCount: len) }
                    at += len
                    offsets[i + 1] = Int32(truncatingIfNeeded: at)
                }
            }
            return StringArray(offsets: offsets, bytes: bytes)
        default:
            throw LakeError(.corrupt, "encoding \(encoding) is not valid for a string column", offset: r.absolutePosition)
        }
    }
}
