// An open-addressing hash map from a 16-byte UUID to a dense Int32 index: power-of-two
// capacity, linear probing, the key stored in the slot so a hit costs one cache line.
// The table is split into one partition per worker by the hash's top bits, so both cores
// build it at once without locks: worker p scans every id and inserts those of partition p.

import FicheLake
#if canImport(Glibc)
import Glibc
#endif

/// UUID → Int32 (−1 = absent). Slots live in one manually managed allocation per
/// partition; each partition is written by exactly one worker.
final class UUIDIndexMap: @unchecked Sendable {
    struct Slot {
        var high: UInt64
        var low: UInt64
        var value: Int32
    }

    struct Partition {
        var slots: UnsafeMutablePointer<Slot>
        var mask: Int
        var count: Int
    }

    private let parts: UnsafeMutablePointer<Partition>
    let partitionCount: Int
    private let partitionShift: UInt64

    /// `expected`: how many distinct ids will be inserted (the table grows if more arrive).
    init(expected: Int, partitions: Int = Workers.count >= 2 ? 2 : 1) {
        var p = 1
        while p < partitions { p <<= 1 }
        partitionCount = p
        var bits: UInt64 = 0
        while (1 << bits) < p { bits += 1 }
        partitionShift = 64 - bits
        parts = .allocate(capacity: p)
        let perPart = expected / p + expected / (8 * p) + 16  // slack for uneven partitions
        for i in 0..<p {
            (parts + i).initialize(to: Self.makePartition(capacityFor: perPart))
        }
    }

    deinit {
        for i in 0..<partitionCount { Self.freeSlots(parts[i].slots) }
        parts.deallocate()
    }

    private static func makePartition(capacityFor n: Int) -> Partition {
        // Load factor at most ~0.7.
        var cap = 16
        while cap * 7 < n * 10 { cap <<= 1 }
        return Partition(slots: allocateSlots(cap), mask: cap - 1, count: 0)
    }

    /// Empty slots; tables of 2 MiB or more are asked to live on huge pages, since every probe
    /// of a big table is a TLB miss on 4 KiB pages.
    private static func allocateSlots(_ cap: Int) -> UnsafeMutablePointer<Slot> {
        let bytes = cap * MemoryLayout<Slot>.stride
        var raw: UnsafeMutableRawPointer?
        #if canImport(Glibc)
        let huge = 2 << 20
        if bytes >= huge, posix_memalign(&raw, huge, bytes) == 0, let r = raw {
            _ = madvise(r, bytes, 14)  // MADV_HUGEPAGE; advisory, failure is harmless
        } else {
            raw = malloc(bytes)
        }
        #else
        raw = malloc(bytes)
        #endif
        guard let r = raw else { fatalError("out of memory for a \(bytes)-byte hash table") }
        let slots = r.bindMemory(to: Slot.self, capacity: cap)
        slots.initialize(repeating: Slot(high: 0, low: 0, value: -1), count: cap)
        return slots
    }

    private static func freeSlots(_ p: UnsafeMutablePointer<Slot>) { free(p) }

    @inline(__always)
    static func hash(_ id: UUID16) -> UInt64 {
        var h = (id.high ^ (id.low &* 0x9E37_79B9_7F4A_7C15)) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 29
        return h
    }

    @inline(__always)
    private func partition(_ h: UInt64) -> Int { partitionCount == 1 ? 0 : Int(h >> partitionShift) }

    /// The value stored for `id`, or −1.
    @inline(__always)
    func find(_ id: UUID16) -> Int32 {
        let h = Self.hash(id)
        let part = parts[partition(h)]
        var i = Int(truncatingIfNeeded: h) & part.mask
        while true {
            let s = part.slots[i]
            if s.value < 0 { return -1 }
            if s.high == id.high && s.low == id.low { return s.value }
            i = (i + 1) & part.mask
        }
    }

    /// Inserts `id` → `value` unless present; returns the value now stored.
    /// Only the worker owning the id's partition may call this concurrently.
    @inline(__always)
    private func findOrInsert(_ id: UUID16, hash h: UInt64, partition p: Int, value: Int32) -> Int32 {
        var part = parts[p]
        var i = Int(truncatingIfNeeded: h) & part.mask
        while true {
            let s = part.slots[i]
            if s.value < 0 { break }
            if s.high == id.high && s.low == id.low { return s.value }
            i = (i + 1) & part.mask
        }
        part.slots[i] = Slot(high: id.high, low: id.low, value: value)
        part.count += 1
        parts[p] = part
        if part.count * 10 > (part.mask + 1) * 7 { grow(p) }
        return value
    }

    private func grow(_ p: Int) {
        let old = parts[p]
        let cap = (old.mask + 1) * 2
        let slots = Self.allocateSlots(cap)
        let mask = cap - 1
        for j in 0...old.mask where old.slots[j].value >= 0 {
            let s = old.slots[j]
            var i = Int(truncatingIfNeeded: Self.hash(UUID16(high: s.high, low: s.low))) & mask
            while slots[i].value >= 0 { i = (i + 1) & mask }
            slots[i] = s
        }
        Self.freeSlots(old.slots)
        parts[p] = Partition(slots: slots, mask: mask, count: old.count)
    }

    /// Inserts ids[i] → base + i for every id not yet present (the first of equal ids wins) and
    /// writes into result[i] the value stored for ids[i] afterwards. One worker per partition.
    func insertAll(_ ids: UnsafeBufferPointer<UUID16>, base: Int32, result: UnsafeMutablePointer<Int32>?) {
        let out = result.map { SharedPointer($0) }
        let n = ids.count
        guard n > 0 else { return }
        let src = SharedBuffer(ids)
        let workers = n < 1 << 14 ? 1 : partitionCount
        Workers.run(workers) { w in
            for i in 0..<n {
                let id = src[i]
                let h = Self.hash(id)
                let p = self.partition(h)
                if workers > 1 && p != w { continue }
                let v = self.findOrInsert(id, hash: h, partition: p, value: base + Int32(truncatingIfNeeded: i))
                if let out { out[i] = v }
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
    /// then each id is probed from its now-cached slot. Rows of one encounter usually sit
    /// together (lake order): a repeat of the previous id reuses its answer.
    private func findRange(_ src: SharedBuffer<UUID16>, _ range: Range<Int>, _ out: SharedPointer<Int32>) {
        let block = 16
        withUnsafeTemporaryAllocation(of: Partition.self, capacity: block) { part in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: block) { home in
                var last = UUID16.zero, lastValue = self.find(.zero)
                var start = range.lowerBound
                var touched: Int32 = 0
                while start < range.upperBound {
                    let m = min(block, range.upperBound - start)
                    for k in 0..<m {
                        let h = Self.hash(src[start + k])
                        let p = parts[partition(h)]
                        let i = Int(truncatingIfNeeded: h) & p.mask
                        part[k] = p
                        home[k] = i
                        touched |= p.slots[i].value
                    }
                    for k in 0..<m {
                        let id = src[start + k]
                        if id != last {
                            last = id
                            lastValue = Self.probe(id, part[k], home[k])
                        }
                        out[start + k] = lastValue
                    }
                    start += m
                }
                // Keeps the touching loads from being optimised away; a table value is never
                // below −1, so this is never true.
                if touched == Int32.min { out[range.lowerBound] = touched }
            }
        }
    }

    /// Linear probe from a home slot: the value for `id` or −1.
    @inline(__always)
    private static func probe(_ id: UUID16, _ part: Partition, _ home: Int) -> Int32 {
        var i = home
        while true {
            let s = part.slots[i]
            if s.value < 0 { return -1 }
            if s.high == id.high && s.low == id.low { return s.value }
            i = (i + 1) & part.mask
        }
    }
}
