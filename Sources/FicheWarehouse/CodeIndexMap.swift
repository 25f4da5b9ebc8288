// An open-addressing hash map from a short code (a procedure's CPT code, an ICD-10 code)
// to a dense Int32 index in insertion order. Codes of up to 16 bytes are compared as two
// machine words held in the slot; longer ones also compare their bytes. Linear probing,
// power-of-two capacity; the distinct codes themselves are kept in one StringArray.

import FicheLake

struct CodeIndexMap: Sendable {
    struct Slot {
        var w0: UInt64
        var w1: UInt64
        var length: Int32
        var value: Int32  // −1 = empty
    }

    private(set) var slots: [Slot]
    private var mask: Int
    /// The distinct codes; code i has value i.
    private(set) var codes = StringArray()

    var count: Int { codes.count }

    init(expected: Int = 64) {
        var cap = 16
        while cap < expected * 2 { cap <<= 1 }
        slots = Array(repeating: Slot(w0: 0, w1: 0, length: 0, value: -1), count: cap)
        mask = cap - 1
    }

    /// The first 16 bytes of bytes[start ..< start+length] as two little-endian words (zero padded).
    @inline(__always)
    static func words(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> (UInt64, UInt64) {
        guard let base = bytes.baseAddress, length > 0 else { return (0, 0) }
        let n = min(length, 16)
        if start + 16 <= bytes.count {
            var w0 = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self)
            var w1 = UnsafeRawPointer(base + start + 8).loadUnaligned(as: UInt64.self)
            if n < 8 {
                w0 &= (1 << UInt64(8 * n)) - 1
                w1 = 0
            } else if n < 16 {
                w1 &= (1 << UInt64(8 * (n - 8))) - 1
            }
            return (UInt64(littleEndian: w0), UInt64(littleEndian: w1))
        }
        var w0: UInt64 = 0, w1: UInt64 = 0
        for k in 0..<n {
            let b = UInt64(base[start + k])
            if k < 8 { w0 |= b << UInt64(8 * k) } else { w1 |= b << UInt64(8 * (k - 8)) }
        }
        return (w0, w1)
    }

    @inline(__always)
    static func hash(_ w0: UInt64, _ w1: UInt64, _ length: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> UInt64 {
        var h = (w0 &* 0x9E37_79B9_7F4A_7C15) ^ (w1 &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(length)
        if length > 16 {
            for k in 16..<length { h = (h ^ UInt64(bytes[start + k])) &* 0x100_0000_01B3 }
        }
        h = (h ^ (h >> 31)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }

    /// Index of the code bytes[start ..< start+length], or −1.
    @inline(__always)
    func find(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Int32 {
        let (w0, w1) = Self.words(bytes, start, length)
        let h = Self.hash(w0, w1, length, bytes, start)
        return slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: h) & mask
            while true {
                let slot = s[i]
                if slot.value < 0 { return -1 }
                if slot.w0 == w0 && slot.w1 == w1 && Int(slot.length) == length
                    && (length <= 16 || sameLongCode(Int(slot.value), bytes, start, length))
                {
                    return slot.value
                }
                i = (i + 1) & mask
            }
        }
    }

    private func sameLongCode(_ v: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Bool {
        let r = codes.range(v)
        return codes.bytes.withUnsafeBufferPointer { c in
            for k in 0..<length where c[r.lowerBound + k] != bytes[start + k] { return false }
            return true
        }
    }

    /// Index of the code, inserting it (with the next index) when new.
    mutating func findOrInsert(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> Int32 {
        let found = find(bytes, start, length)
        if found >= 0 { return found }
        let (w0, w1) = Self.words(bytes, start, length)
        let h = Self.hash(w0, w1, length, bytes, start)
        let value = Int32(codes.count)
        codes.append(UnsafeBufferPointer(rebasing: bytes[start..<start + length]))
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].value >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(w0: w0, w1: w1, length: Int32(length), value: value)
        if codes.count * 2 > slots.count { grow() }
        return value
    }

    mutating func findOrInsert(_ code: String) -> Int32 {
        var bytes = Array(code.utf8)
        bytes.reserveCapacity(bytes.count + 16)
        let n = bytes.count
        return bytes.withUnsafeBufferPointer { findOrInsert($0, 0, n) }
    }

    func find(_ code: String) -> Int32 {
        let bytes = Array(code.utf8)
        return bytes.withUnsafeBufferPointer { find($0, 0, bytes.count) }
    }

    private mutating func grow() {
        let old = codes
        var fresh = CodeIndexMap(expected: slots.count)
        old.bytes.withUnsafeBufferPointer { b in
            for v in 0..<old.count {
                let r = old.range(v)
                _ = fresh.findOrInsert(b, r.lowerBound, r.count)
            }
        }
        self = fresh
    }
}

/// The distinct values of a string column, found chunk-parallel: per row the dense index of
/// its value, and per distinct value the first row holding it (distinct values are numbered
/// in order of first appearance, as a serial scan would).
struct DistinctCodes {
    var map: CodeIndexMap
    var rowCode: [Int32]
    var firstRow: [Int32]

    init(_ strings: StringArray, maxWorkers: Int = Workers.count) {
        let n = strings.count
        if n == 0 {
            map = CodeIndexMap()
            rowCode = []
            firstRow = []
            return
        }
        let ranges = maxWorkers <= 1 ? [0..<n] : Workers.ranges(n, minPerWorker: 1 << 16)
        var locals = [CodeIndexMap](repeating: CodeIndexMap(), count: ranges.count)
        var localFirst = [[Int32]](repeating: [], count: ranges.count)
        var rowCode = [Int32](repeating: 0, count: n)
        rowCode.withUnsafeMutableBufferPointer { rc in
            let out = SharedPointer(rc.baseAddress!)
            locals.withUnsafeMutableBufferPointer { lm in
                localFirst.withUnsafeMutableBufferPointer { lf in
                    let maps = SharedPointer(lm.baseAddress!)
                    let firsts = SharedPointer(lf.baseAddress!)
                    strings.offsets.withUnsafeBufferPointer { off in
                        strings.bytes.withUnsafeBufferPointer { bytes in
                            let offPtr = SharedBuffer(off)
                            let byteView = SharedBuffer(bytes)
                            Workers.run(ranges.count) { w in
                                var map = CodeIndexMap()
                                var first = [Int32]()
                                for i in ranges[w] {
                                    let s = Int(offPtr[i]), e = Int(offPtr[i + 1])
                                    let v = map.findOrInsert(byteView.buffer, s, e - s)
                                    if Int(v) == first.count { first.append(Int32(i)) }
                                    out[i] = v
                                }
                                maps[w] = map
                                firsts[w] = first
                            }
                        }
                    }
                }
            }
        }
        var global = locals.first ?? CodeIndexMap()
        var firstRow = localFirst.first ?? []
        for w in locals.indices.dropFirst() {
            let local = locals[w]
            var translate = [Int32](repeating: 0, count: local.count)
            local.codes.bytes.withUnsafeBufferPointer { b in
                for v in 0..<local.count {
                    let r = local.codes.range(v)
                    let g = global.findOrInsert(b, r.lowerBound, r.count)
                    if Int(g) == firstRow.count { firstRow.append(localFirst[w][v]) }
                    translate[v] = g
                }
            }
            for i in ranges[w] { rowCode[i] = translate[Int(rowCode[i])] }
        }
        map = global
        self.rowCode = rowCode
        self.firstRow = firstRow
    }
}
