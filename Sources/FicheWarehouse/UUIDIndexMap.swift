// An open-addressing hash map from a 16-byte UUID to a dense Int32 index into two id lists
// (the key registry's ids, then the input's): power-of-two capacity, linear probing.
//
// A slot is one 8-byte word: a 32-bit tag (hash bits not used to place the slot) and the
// value + 1 (0 = empty slot). The id itself is not copied into the table: a tag match is
// confirmed by comparing the id in its list. Inserting a new id (nearly all inserts) touches
// only its slot, a third of the memory of a slot holding the id, so far more of the table
// stays in cache; a lookup that hits reads the id from the list once more. Tags of distinct
// ids agree once in 2^32, so confirmations of non-matches are rare.
//
// The table is split into one partition per worker by the hash's top bit, so both cores
// build it at once without locks: worker p scans every id and inserts those of partition p.

import FicheLake
#if canImport(Glibc)
import Glibc
#endif

/// UUID → Int32 (−1 = absent). Value v names `first[v]` when v < first.count, else
/// `second[v − first.count]`. Each partition is written by exactly one worker.
final class UUIDIndexMap: @unchecked Sendable {
    struct Partition {
        var slots: UnsafeMutablePointer<UInt64>
        var mask: Int
        var count: Int
        var mappedBytes: Int
    }

    private let parts: UnsafeMutablePointer<Partition>
    let partitionCount: Int
    private let partitionShift: UInt64
    /// The id lists the values index (kept alive here: slots hold no ids).
    let first: [UUID16]
    let second: [UUID16]
    private let firstCount: Int32

    /// A map over `first` then `second`, sized for all of them; nothing is inserted yet.
    init(first: [UUID16], second: [UUID16], partitions: Int = Workers.count >= 2 ? 2 : 1) {
        precondition(first.count + second.count < Int(Int32.max), "more ids than an Int32 index holds")
        self.first = first
        self.second = second
        firstCount = Int32(first.count)
        var p = 1
        while p < partitions { p <<= 1 }
        partitionCount = p
        var bits: UInt64 = 0
        while (1 << bits) < p { bits += 1 }
        partitionShift = 64 - bits
        parts = .allocate(capacity: p)
        let expected = first.count + second.count
        let perPart = expected / p + expected / (8 * p) + 16  // slack for uneven partitions
        for i in 0..<p {
            (parts + i).initialize(to: Self.makePartition(capacityFor: perPart))
        }
    }

    deinit {
        for i in 0..<partitionCount { Self.freeSlots(parts[i]) }
        parts.deallocate()
    }

    private static func makePartition(capacityFor n: Int) -> Partition {
        // Load factor at most 0.6: with 8 slots per cache line a probe rarely leaves its line.
        var cap = 16
        while cap * 6 < n * 10 { cap <<= 1 }
        return allocateSlots(cap)
    }

    /// Zeroed (empty) slots straight from the kernel: no pass writing them first. Tables of
    /// 2 MiB or more are asked to live on huge pages, since every probe of a big table is a
    /// TLB miss on 4 KiB pages.
    private static func allocateSlots(_ cap: Int) -> Partition {
        let bytes = cap * MemoryLayout<UInt64>.stride
        #if canImport(Glibc)
        let huge = 2 << 20
        if bytes >= huge {
            let length = bytes + huge
            let raw = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let raw, raw != MAP_FAILED else { fatalError("out of memory for a \(bytes)-byte hash table") }
            // Keep the whole mapping (so munmap gets back what mmap gave), use its aligned part.
            let address = UInt(bitPattern: raw)
            let aligned = (address + UInt(huge - 1)) & ~UInt(huge - 1)
            let base = UnsafeMutableRawPointer(bitPattern: aligned)!
            _ = madvise(base, bytes, 14)  // MADV_HUGEPAGE; advisory, failure is harmless
            let slots = base.bindMemory(to: UInt64.self, capacity: cap)
            // The aligned start lies within the first huge page of the mapping.
            return Partition(slots: slots, mask: cap - 1, count: 0, mappedBytes: length | Int(aligned - address) << 40)
        }
        #endif
        guard let raw = calloc(cap, MemoryLayout<UInt64>.stride) else {
            fatalError("out of memory for a \(bytes)-byte hash table")
        }
        return Partition(slots: raw.bindMemory(to: UInt64.self, capacity: cap), mask: cap - 1, count: 0, mappedBytes: 0)
    }

    private static func freeSlots(_ p: Partition) {
        #if canImport(Glibc)
        if p.mappedBytes != 0 {
            let length = p.mappedBytes & ((1 << 40) - 1)
            let offset = p.mappedBytes >> 40
            _ = munmap(UnsafeMutableRawPointer(p.slots) - offset, length)
            return
        }
        #endif
        free(p.slots)
    }

    /// A full 64-bit mix of both halves: ids from other sources need not be random.
    @inline(__always)
    static func hash(_ id: UUID16) -> UInt64 {
        var h = (id.high ^ (id.low &* 0x9E37_79B9_7F4A_7C15)) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h
    }

    @inline(__always)
    private func partition(_ h: UInt64) -> Int { partitionCount == 1 ? 0 : Int(h >> partitionShift) }

    /// Slot index bits (bits 32…62 of the hash) and the tag (bits 0…31) are disjoint.
    @inline(__always)
    private static func home(_ h: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: h >> 32) & mask }

    @inline(__always)
    private static func tag(_ h: UInt64) -> UInt64 { h & 0xFFFF_FFFF }

    /// The value stored for `id`, or −1.
    @inline(__always)
    func find(_ id: UUID16) -> Int32 {
        first.withUnsafeBufferPointer { a in
            second.withUnsafeBufferPointer { b in
                let h = Self.hash(id)
                return probe(id, Self.tag(h), parts[partition(h)], Self.home(h, parts[partition(h)].mask), a, b)
            }
        }
    }

    /// Linear probe from a home slot: the value for `id` or −1.
    @inline(__always)
    private func probe(_ id: UUID16, _ tag: UInt64, _ part: Partition, _ home: Int,
                       _ a: UnsafeBufferPointer<UUID16>, _ b: UnsafeBufferPointer<UUID16>) -> Int32 {
        probe(id, tag, part, home, part.slots[home], a, b)
    }

    /// The same, with the home slot's word already loaded.
    @inline(__always)
    private func probe(_ id: UUID16, _ tag: UInt64, _ part: Partition, _ home: Int, _ homeSlot: UInt64,
                       _ a: UnsafeBufferPointer<UUID16>, _ b: UnsafeBufferPointer<UUID16>) -> Int32 {
        var i = home
        var s = homeSlot
        while true {
            if s == 0 { return -1 }
            if s >> 32 == tag {
                let v = Int32(truncatingIfNeeded: s) &- 1
                if idOf(v, a, b) == id { return v }
            }
            i = (i + 1) & part.mask
            s = part.slots[i]
        }
    }

    @inline(__always)
    private func idOf(_ v: Int32, _ a: UnsafeBufferPointer<UUID16>, _ b: UnsafeBufferPointer<UUID16>) -> UUID16 {
        v < firstCount ? a[Int(v)] : b[Int(v &- firstCount)]
    }

    /// Inserts `id` → `value` unless present; returns the value now stored.
    /// Only the worker owning partition `p` may call this concurrently.
    @inline(__always)
    private func findOrInsert(_ id: UUID16, hash h: UInt64, partition p: Int, value: Int32,
                              _ a: UnsafeBufferPointer<UUID16>, _ b: UnsafeBufferPointer<UUID16>) -> Int32 {
        var part = parts[p]
        let tag = Self.tag(h)
        var i = Self.home(h, part.mask)
        while true {
            let s = part.slots[i]
            if s == 0 { break }
            if s >> 32 == tag {
                let v = Int32(truncatingIfNeeded: s) &- 1
                if idOf(v, a, b) == id { return v }
            }
            i = (i + 1) & part.mask
        }
        part.slots[i] = tag << 32 | UInt64(UInt32(bitPattern: value &+ 1))
        part.count += 1
        parts[p] = part
        if part.count * 10 > (part.mask + 1) * 6 { grow(p, a, b) }
        return value
    }

    /// Twice the capacity (only when a partition got far more than its share).
    private func grow(_ p: Int, _ a: UnsafeBufferPointer<UUID16>, _ b: UnsafeBufferPointer<UUID16>) {
        let old = parts[p]
        var fresh = Self.allocateSlots((old.mask + 1) * 2)
        for j in 0...old.mask where old.slots[j] != 0 {
            let s = old.slots[j]
            let h = Self.hash(idOf(Int32(truncatingIfNeeded: s) &- 1, a, b))
            var i = Self.home(h, fresh.mask)
            while fresh.slots[i] != 0 { i = (i + 1) & fresh.mask }
            fresh.slots[i] = s
        }
        fresh.count = old.count
        Self.freeSlots(old)
        parts[p] = fresh
    }

    /// Inserts first[k] → k, then second[i] → first.count + i, for every id not yet present
    /// (the first of equal ids wins), and writes into result[i] the value stored for second[i]
    /// afterwards. One worker per partition, each scanning every id.
    func insertAll(result: UnsafeMutablePointer<Int32>?) {
        let out = result.map { SharedPointer($0) }
        let n = first.count + second.count
        guard n > 0 else { return }
        let workers = n < 1 << 14 ? 1 : partitionCount
        first.withUnsafeBufferPointer { a in
            second.withUnsafeBufferPointer { b in
                let lists = (SharedBuffer(a), SharedBuffer(b))
                Workers.run(workers) { w in
                    let a = lists.0.buffer, b = lists.1.buffer
                    for k in 0..<a.count {
                        let h = Self.hash(a[k])
                        let p = self.partition(h)
                        if workers > 1 && p != w { continue }
                        _ = self.findOrInsert(a[k], hash: h, partition: p, value: Int32(k), a, b)
                    }
                    let base = Int32(a.count)
                    for i in 0..<b.count {
                        let h = Self.hash(b[i])
                        let p = self.partition(h)
                        if workers > 1 && p != w { continue }
                        let v = self.findOrInsert(b[i], hash: h, partition: p, value: base &+ Int32(i), a, b)
                        if let out { out[i] = v }
                    }
                }
            }
        }
    }

    /// result[i] = find(ids[i]) for every i, chunk-parallel.
    func findAll(_ ids: UnsafeBufferPointer<UUID16>, result: UnsafeMutablePointer<Int32>, parallel: Bool = true) {
        let n = ids.count
        guard n > 0 else { return }
        let src = SharedBuffer(ids)
        let out = SharedPointer(result)
        let ranges = parallel ? Workers.ranges(n) : [0..<n]
        Workers.run(ranges.count) { w in
            self.findRange(src, ranges[w], out)
        }
    }

    /// Lookups in blocks of 16: first every home slot of the block is loaded (independent
    /// loads, so their cache and TLB misses overlap instead of queueing one after another),
    /// then each id is probed on from its loaded slot. A repeat of the previous id (rows of
    /// one parent usually sit together) reuses its answer.
    private func findRange(_ src: SharedBuffer<UUID16>, _ range: Range<Int>, _ out: SharedPointer<Int32>) {
        let block = 16
        first.withUnsafeBufferPointer { a in
        second.withUnsafeBufferPointer { b in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: block) { part in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: block) { home in
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: block) { tags in
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: block) { homeSlots in
            var last = UUID16.zero, lastValue = self.find(.zero)
            var start = range.lowerBound
            while start < range.upperBound {
                let m = min(block, range.upperBound - start)
                for k in 0..<m {
                    let h = Self.hash(src[start + k])
                    let p = partition(h)
                    let i = Self.home(h, parts[p].mask)
                    part[k] = p
                    home[k] = i
                    tags[k] = Self.tag(h)
                    homeSlots[k] = parts[p].slots[i]
                }
                for k in 0..<m {
                    let id = src[start + k]
                    if id != last {
                        last = id
                        lastValue = probe(id, tags[k], parts[part[k]], home[k], homeSlots[k], a, b)
                    }
                    out[start + k] = lastValue
                }
                start += m
            }
        }}}}}}
    }
}
