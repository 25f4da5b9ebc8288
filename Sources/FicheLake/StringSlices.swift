// A string column's values as (start, length) pairs over one byte buffer, for the encoder's
// dictionary and statistics passes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
