// A set of UUIDs as one open-addressing table. Derived and random UUIDs are already
// well mixed, so a cheap fold of their bits is the hash; no per-insert SipHash.
// The all-zero UUID marks an empty slot and is kept aside in a flag. Filled up to 3/4 before
// it doubles (16 bytes a slot, so 21–43 bytes an id): ingest keeps one per entity kind for
// the whole file, and these sets are most of its memory on large backfills.

public struct UUIDSet: Sendable {
    private var slots: [UUID16]
    private var hasZero = false
    public private(set) var count = 0
    private var mask: Int

    public init(minimumCapacity: Int = 16) {
        var cap = 16
        while cap * 3 < minimumCapacity * 4 { cap <<= 1 }
        slots = Array(repeating: .zero, count: cap)
        mask = cap - 1
    }

    public init(_ values: some Sequence<UUID16>) {
        self.init()
        for v in values { insert(v) }
    }

    @inline(__always)
    static func slot(_ v: UUID16) -> Int {
        let h = v.high ^ (v.low &* 0x9E37_79B9_7F4A_7C15)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    public func contains(_ v: UUID16) -> Bool {
        if v == .zero { return hasZero }
        return slots.withUnsafeBufferPointer { s in
            var i = Self.slot(v) & mask
            while s[i] != .zero {
                if s[i] == v { return true }
                i = (i + 1) & mask
            }
            return false
        }
    }

    /// Inserts `v`; true when it was not there yet.
    @discardableResult
    public mutating func insert(_ v: UUID16) -> Bool {
        if v == .zero {
            defer { hasZero = true }
            if !hasZero { count += 1 }
            return !hasZero
        }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let m = mask
        let inserted = slots.withUnsafeMutableBufferPointer { s -> Bool in
            var i = Self.slot(v) & m
            while s[i] != .zero {
                if s[i] == v { return false }
                i = (i + 1) & m
            }
            s[i] = v
            return true
        }
        if inserted { count += 1 }
        return inserted
    }

    public mutating func reserveCapacity(_ n: Int) {
        var cap = slots.count
        while n * 4 > cap * 3 { cap <<= 1 }
        if cap > slots.count { rehash(capacity: cap) }
    }

    private mutating func grow() { rehash(capacity: slots.count * 2) }

    private mutating func rehash(capacity cap: Int) {
        let old = slots
        slots = Array(repeating: .zero, count: cap)
        mask = cap - 1
        let zero = hasZero
        count = 0
        hasZero = false
        for v in old where v != .zero { insert(v) }
        if zero { insert(.zero) }
    }
}
