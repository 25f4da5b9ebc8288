// A set of UUIDs as one open-addressing table. Derived and random UUIDs are already
// well mixed, so a cheap fold of their bits is the hash; no per-insert SipHash.

import FicheLake

public struct UUIDSet: Sendable {
    private var slots: [UUID16]
    private var used: [Bool]
    public private(set) var count = 0
    private var mask: Int

    public init(minimumCapacity: Int = 16) {
        var cap = 16
        while cap < minimumCapacity * 2 { cap <<= 1 }
        slots = Array(repeating: .zero, count: cap)
        used = Array(repeating: false, count: cap)
        mask = cap - 1
    }

    public init(_ values: some Sequence<UUID16>) {
        self.init()
        for v in values { insert(v) }
    }

    @inline(__always)
    static func slot(_ v: UUID16) -> Int {
        let h = (v.high ^ (v.low &* 0x9E37_79B9_7F4A_7C15))
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    public func contains(_ v: UUID16) -> Bool {
        var i = Self.slot(v) & mask
        while used[i] {
            if slots[i] == v { return true }
            i = (i + 1) & mask
        }
        return false
    }

    /// Inserts `v`; true when it was not there yet.
    @discardableResult
    public mutating func insert(_ v: UUID16) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        var i = Self.slot(v) & mask
        while used[i] {
            if slots[i] == v { return false }
            i = (i + 1) & mask
        }
        used[i] = true
        slots[i] = v
        count += 1
        return true
    }

    public mutating func reserveCapacity(_ n: Int) {
        while n * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        let oldSlots = slots, oldUsed = used
        let cap = slots.count * 2
        slots = Array(repeating: .zero, count: cap)
        used = Array(repeating: false, count: cap)
        mask = cap - 1
        count = 0
        for i in 0..<oldSlots.count where oldUsed[i] { insert(oldSlots[i]) }
    }
}
