// Dictionary building for Parquet column chunks: distinct values in first-seen order and
// one index per present value, through open-addressing hash tables over the column's own
// buffers. A build gives up (returns nil) as soon as the dictionary passes its byte limit,
// or when its first `probeRows` values are nearly all distinct (ids, which no dictionary
// shrinks, then cost a few thousand lookups instead of half the chunk): the column chunk is
// then written PLAIN.

/// A fixed-width value a dictionary can hold, with a cheap well-mixed 64-bit hash.
protocol ParquetDictionaryKey: Equatable {
    var hash64: UInt64 { get }
}

@inline(__always)
private func mix64(_ x: UInt64) -> UInt64 {
    var z = x &* 0x9E37_79B9_7F4A_7C15
    z ^= z >> 29
    z = z &* 0xBF58_476D_1CE4_E5B9
    return z ^ (z >> 32)
}

extension Int32: ParquetDictionaryKey {
    var hash64: UInt64 { mix64(UInt64(UInt32(bitPattern: self))) }
}

extension Int64: ParquetDictionaryKey {
    var hash64: UInt64 { mix64(UInt64(bitPattern: self)) }
}

extension UUID16: ParquetDictionaryKey {
    var hash64: UInt64 { mix64(high ^ (low &* 0xC2B2_AE3D_27D4_EB4F)) }
}

/// A dictionary-encoded column chunk: `entries` distinct values, `indices[i]` the entry of
/// present value i.
struct DictionaryIndices {
    var entries: Int
    var indices: [UInt32]
    /// Bytes of the dictionary page's PLAIN values.
    var plainBytes: Int
}

enum ParquetDictionary {
    /// After this many values a build stops when more than `probeDistinct` are distinct.
    static let probeRows = 16_384
    static let probeDistinct = 15_000

    /// The dictionary of fixed-width `values`, or nil once it would pass `maxEntries`.
    static func build<V: ParquetDictionaryKey>(_ values: UnsafeBufferPointer<V>, maxEntries: Int,
                                               entryBytes: Int) -> (entries: [V], indices: DictionaryIndices)? {
        var entries: [V] = []
        var capacity = 1024
        while capacity < min(values.count, maxEntries) * 2 && capacity < 1 << 16 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        var mask = capacity - 1
        var indices = [UInt32](repeating: 0, count: values.count)
        var ok = true
        indices.withUnsafeMutableBufferPointer { out in
            for i in 0..<values.count {
                if i == probeRows && entries.count > probeDistinct {
                    ok = false
                    return
                }
                let v = values[i]
                var h = Int(truncatingIfNeeded: v.hash64) & mask
                while true {
                    let e = slots[h]
                    if e < 0 {
                        if entries.count >= maxEntries {
                            ok = false
                            return
                        }
                        slots[h] = Int32(entries.count)
                        out[i] = UInt32(entries.count)
                        entries.append(v)
                        if entries.count * 2 > capacity {
                            capacity <<= 1
                            mask = capacity - 1
                            slots = [Int32](repeating: -1, count: capacity)
                            for (k, x) in entries.enumerated() {
                                var s = Int(truncatingIfNeeded: x.hash64) & mask
                                while slots[s] >= 0 { s = (s + 1) & mask }
                                slots[s] = Int32(k)
                            }
                        }
                        break
                    }
                    if entries[Int(e)] == v {
                        out[i] = UInt32(e)
                        break
                    }
                    h = (h + 1) & mask
                }
            }
        }
        guard ok else { return nil }
        return (entries, DictionaryIndices(entries: entries.count, indices: indices, plainBytes: entries.count * entryBytes))
    }

    /// The dictionary of strings: entries are value numbers of their first occurrence in
    /// `strings`. Nil once the PLAIN dictionary (4-byte length + bytes per entry) would pass
    /// `maxBytes` or hold more than `maxEntries` values.
    static func build(_ strings: StringArray, maxEntries: Int, maxBytes: Int) -> (firstRows: [Int32], indices: DictionaryIndices)? {
        let n = strings.count
        var firstRows: [Int32] = []
        var capacity = 1024
        var slots = [Int32](repeating: -1, count: capacity)
        var hashes: [UInt64] = []  // per entry, for rehashing
        var mask = capacity - 1
        var indices = [UInt32](repeating: 0, count: n)
        var plainBytes = 0
        var ok = true
        strings.bytes.withUnsafeBufferPointer { bytes in
            strings.offsets.withUnsafeBufferPointer { off in
                indices.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        if i == probeRows && firstRows.count > probeDistinct {
                            ok = false
                            return
                        }
                        let start = Int(off[i]), len = Int(off[i + 1]) - start
                        let hash = hashBytes(bytes.baseAddress.map { $0 + start }, len)
                        var h = Int(truncatingIfNeeded: hash) & mask
                        while true {
                            let e = slots[h]
                            if e < 0 {
                                plainBytes += 4 + len
                                if plainBytes > maxBytes || firstRows.count >= maxEntries {
                                    ok = false
                                    return
                                }
                                slots[h] = Int32(firstRows.count)
                                out[i] = UInt32(firstRows.count)
                                firstRows.append(Int32(i))
                                hashes.append(hash)
                                if firstRows.count * 2 > capacity {
                                    capacity <<= 1
                                    mask = capacity - 1
                                    slots = [Int32](repeating: -1, count: capacity)
                                    for (k, x) in hashes.enumerated() {
                                        var s = Int(truncatingIfNeeded: x) & mask
                                        while slots[s] >= 0 { s = (s + 1) & mask }
                                        slots[s] = Int32(k)
                                    }
                                }
                                break
                            }
                            let j = Int(firstRows[Int(e)])
                            let js = Int(off[j]), jl = Int(off[j + 1]) - js
                            if hashes[Int(e)] == hash && jl == len
                                && (len == 0 || memcmp(bytes.baseAddress! + js, bytes.baseAddress! + start, len) == 0) {
                                out[i] = UInt32(e)
                                break
                            }
                            h = (h + 1) & mask
                        }
                    }
                }
            }
        }
        guard ok else { return nil }
        return (firstRows, DictionaryIndices(entries: firstRows.count, indices: indices, plainBytes: plainBytes))
    }

    /// A fast 64-bit hash of a byte range: 8 bytes at a time (unaligned loads), then the tail.
    @inline(__always)
    static func hashBytes(_ p: UnsafePointer<UInt8>?, _ count: Int) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(count)
        guard let p, count > 0 else { return mix64(h) }
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h = (h << 31) | (h >> 33)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        return mix64(h ^ tail)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
