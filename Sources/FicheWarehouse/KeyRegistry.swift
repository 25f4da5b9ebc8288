// Stable surrogate keys. Every patient, facility and encounter (by UUID) and every procedure
// and diagnosis (by code) that a build has ever seen keeps the key it was first given; the
// registry only ever grows. New entities get max+1, max+2, … in a deterministic order: UUID
// entities in the order they first appear in the input (the lake's row order, fixed for a
// given lake), codes sorted by their bytes. So the same lake always gives the same keys.

import FicheLake

/// What a registry gives keys to, in the form of the lake column that stores them: UUIDs
/// (`[UUID16]`) or codes (`StringArray`).
public protocol RegistryEntries: Sendable {
    init()
    var count: Int { get }
    /// The type of the lake column that stores them.
    static var columnType: ColumnType { get }
    /// The entries held by the values of such a column (nil for values of another type).
    init?(_ values: ColumnValues)
    /// The entries from `start` on, as the values of their lake column.
    func values(from start: Int) -> ColumnValues
}

extension Array: RegistryEntries where Element == UUID16 {
    public static var columnType: ColumnType { .uuid }
    public init?(_ values: ColumnValues) {
        guard case .uuid(let v) = values else { return nil }
        self = v
    }
    public func values(from start: Int) -> ColumnValues { .uuid(Array(self[start...])) }
}

extension StringArray: RegistryEntries {
    public static var columnType: ColumnType { .string }
    public init?(_ values: ColumnValues) {
        guard case .string(let v) = values else { return nil }
        self = v
    }
    public func values(from start: Int) -> ColumnValues {
        var s = StringArray()
        for i in start..<count { s.append(bytes[range(i)]) }
        return .string(s)
    }
}

public struct KeyRegistry: Sendable {
    /// Entry → key: the entries in the order they were given keys, and their keys.
    public struct Keys<Entries: RegistryEntries>: Sendable {
        public internal(set) var entries = Entries()
        public internal(set) var keys: [Int64] = []
        /// Entries loaded from (or already saved to) the lake; the rest are new.
        public internal(set) var storedCount = 0
        public internal(set) var maxKey: Int64 = 0

        public init() {}

        public init(entries: Entries, keys: [Int64]) {
            precondition(entries.count == keys.count, "registry entries and keys differ in length")
            self.entries = entries
            self.keys = keys
            storedCount = entries.count
            maxKey = keys.max() ?? 0
        }

        public var newCount: Int { entries.count - storedCount }
        mutating func markStored() { storedCount = entries.count }
    }

    /// UUID → key.
    public typealias IdKeys = Keys<[UUID16]>
    /// Code → key.
    public typealias CodeKeys = Keys<StringArray>

    public var patients = IdKeys()
    public var facilities = IdKeys()
    public var encounters = IdKeys()
    public var procedures = CodeKeys()
    public var diagnoses = CodeKeys()

    public init() {}

    /// Entries added since the registry was loaded or saved.
    public var newCount: Int {
        patients.newCount + facilities.newCount + encounters.newCount + procedures.newCount + diagnoses.newCount
    }

    mutating func markStored() {
        patients.markStored()
        facilities.markStored()
        encounters.markStored()
        procedures.markStored()
        diagnoses.markStored()
    }
}

/// The keys of one batch of UUIDs. The map holds every registry id (value = registry
/// position) and every id of the input (value = registry count + first input row).
struct IdAssignment: @unchecked Sendable {
    let map: UUIDIndexMap
    let registryCount: Int32
    /// Per registry position, the first input row with that id, or −1.
    let rowOfRegistry: [Int32]
    /// Per input row, the first input row with the same id (itself unless a duplicate).
    let canonicalRow: [Int32]
    /// Per input row, its key.
    let rowKey: [Int64]

    var duplicateCount: Int {
        var n = 0
        for i in canonicalRow.indices where canonicalRow[i] != Int32(i) { n += 1 }
        return n
    }

    /// Like `rows(of:into:)`, but first tries the order the rows usually come in: a child row
    /// (procedure, diagnosis, report) mostly names the same parent as the row before it, or a
    /// parent a few input rows further on (an encounter names its patient; patients without an
    /// encounter in that year partition are skipped). Those guesses are checked against
    /// `inputIds` (the ids this assignment was made from) with sequential reads; a miss is
    /// looked up in the hash table at once, and the guessing resumes from the row found there,
    /// so one out-of-order row costs one lookup, not the rest of the column.
    func rows(of ids: [UUID16], inputIds: [UUID16], into out: inout [Int32], parallel: Bool = true) {
        let n = ids.count
        out = [Int32](repeating: -1, count: n)
        ids.withUnsafeBufferPointer { src in
            inputIds.withUnsafeBufferPointer { parent in
                canonicalRow.withUnsafeBufferPointer { canonical in
                    rowOfRegistry.withUnsafeBufferPointer { ofRegistry in
                        out.withUnsafeMutableBufferPointer { dst in
                            guard let base = dst.baseAddress else { return }
                            let job = GuessedRows(src: SharedBuffer(src), parent: SharedBuffer(parent),
                                                  canonical: SharedBuffer(canonical), ofRegistry: SharedBuffer(ofRegistry),
                                                  dst: SharedPointer(base), map: map, registryCount: registryCount)
                            // Each worker starts its range with one lookup, then follows the order.
                            let ranges = parallel ? Workers.ranges(n, minPerWorker: 1 << 16) : [0..<n]
                            Workers.run(ranges.count) { w in job.run(ranges[w]) }
                        }
                    }
                }
            }
        }
    }

    /// out[i] = the first input row whose id is ids[i], or −1; chunk-parallel.
    func rows(of ids: [UUID16], into out: inout [Int32], parallel: Bool = true) {
        out = [Int32](repeating: -1, count: ids.count)
        ids.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let base = dst.baseAddress else { return }
                map.findAll(src, result: base, parallel: parallel)
            }
        }
        let r = registryCount
        rowOfRegistry.withUnsafeBufferPointer { reg in
            out.withUnsafeMutableBufferPointer { dst in
                let regView = SharedBuffer(reg)
                guard let base = dst.baseAddress else { return }
                let d = SharedPointer(base)
                let ranges = parallel ? Workers.ranges(dst.count) : [0..<dst.count]
                Workers.run(ranges.count) { w in
                    for i in ranges[w] {
                        let v = d[i]
                        if v < 0 { continue }
                        d[i] = v < r ? regView[Int(v)] : v - r
                    }
                }
            }
        }
    }
}

extension KeyRegistry.Keys where Entries == [UUID16] {
    public var ids: [UUID16] { entries }

    /// Keys for every input row; ids new to the registry get the next keys in row order.
    mutating func assign(_ input: [UUID16]) -> IdAssignment {
        let r = ids.count
        let n = input.count
        let map = UUIDIndexMap(first: ids, second: input)
        var found = [Int32](repeating: 0, count: n)
        found.withUnsafeMutableBufferPointer { map.insertAll(result: $0.baseAddress) }
        var rowOfRegistry = [Int32](repeating: -1, count: r)
        var canonical = [Int32](repeating: 0, count: n)
        var rowKey = [Int64](repeating: 0, count: n)
        var next = maxKey
        var newRows = [Int32]()
        let r32 = Int32(r)
        keys.withUnsafeBufferPointer { regKeys in
            found.withUnsafeBufferPointer { f in
                rowOfRegistry.withUnsafeMutableBufferPointer { ror in
                    canonical.withUnsafeMutableBufferPointer { can in
                        rowKey.withUnsafeMutableBufferPointer { rk in
                            for i in 0..<n {
                                let v = f[i]
                                if v == r32 + Int32(i) {
                                    next += 1
                                    rk[i] = next
                                    can[i] = Int32(i)
                                    newRows.append(Int32(i))
                                } else if v < r32 {
                                    rk[i] = regKeys[Int(v)]
                                    if ror[Int(v)] < 0 {
                                        ror[Int(v)] = Int32(i)
                                        can[i] = Int32(i)
                                    } else {
                                        can[i] = ror[Int(v)]
                                    }
                                } else {
                                    let j = Int(v - r32)
                                    can[i] = Int32(j)
                                    rk[i] = rk[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        if !newRows.isEmpty {
            entries.append(contentsOf: input.gathered(newRows))
            keys.append(contentsOf: rowKey.gathered(newRows))
            maxKey = next
        }
        return IdAssignment(map: map, registryCount: r32, rowOfRegistry: rowOfRegistry,
                            canonicalRow: canonical, rowKey: rowKey)
    }
}

extension KeyRegistry.Keys where Entries == StringArray {
    public var codes: StringArray { entries }

    /// Keys for distinct codes; codes new to the registry get the next keys in byte order.
    mutating func assign(_ distinct: StringArray) -> [Int64] {
        var known = CodeIndexMap(expected: codes.count)
        codes.bytes.withUnsafeBufferPointer { b in
            for i in 0..<codes.count {
                let rg = codes.range(i)
                _ = known.findOrInsert(b, rg.lowerBound, rg.count)
            }
        }
        var out = [Int64](repeating: 0, count: distinct.count)
        var fresh = [Int]()
        distinct.bytes.withUnsafeBufferPointer { b in
            for i in 0..<distinct.count {
                let rg = distinct.range(i)
                let v = known.find(b, rg.lowerBound, rg.count)
                if v >= 0 { out[i] = keys[Int(v)] } else { fresh.append(i) }
            }
        }
        fresh.sort { distinct.bytes[distinct.range($0)].lexicographicallyPrecedes(distinct.bytes[distinct.range($1)]) }
        for i in fresh {
            maxKey += 1
            out[i] = maxKey
            entries.append(distinct.bytes[distinct.range(i)])
            keys.append(maxKey)
        }
        return out
    }
}

/// One worker's part of `IdAssignment.rows(of:inputIds:into:)`.
private struct GuessedRows: @unchecked Sendable {
    let src: SharedBuffer<UUID16>
    let parent: SharedBuffer<UUID16>
    let canonical: SharedBuffer<Int32>
    let ofRegistry: SharedBuffer<Int32>
    let dst: SharedPointer<Int32>
    let map: UUIDIndexMap
    let registryCount: Int32
    /// Parent rows compared before a lookup: the previous row's parent and the 7 after it.
    static let lookahead = 8

    func run(_ range: Range<Int>) {
        let m = parent.count
        var previous = 0
        for i in range {
            let id = src[i]
            var row = -1
            var j = previous
            let end = min(m, previous + Self.lookahead)
            while j < end {
                if parent[j] == id {
                    row = j
                    break
                }
                j += 1
            }
            if row < 0 {
                let v = map.find(id)
                if v < 0 { continue }
                let r = v < registryCount ? ofRegistry[Int(v)] : v - registryCount
                if r < 0 { continue }
                row = Int(r)
            }
            previous = row
            dst[i] = canonical[row]
        }
    }
}

/// Live rows in ascending key order. Keys are distinct per canonical row, so a counting
/// placement by key (or nothing, when the rows already ascend) sorts them in linear time.
func rowsInKeyOrder(keys: [Int64], live: [Bool], maxKey: Int64) -> [Int32] {
    var rows = [Int32]()
    rows.reserveCapacity(keys.count)
    var ascending = true
    var last: Int64 = .min
    for i in 0..<keys.count where live[i] {
        rows.append(Int32(i))
        if keys[i] <= last { ascending = false }
        last = keys[i]
    }
    if ascending { return rows }
    var slot = [Int32](repeating: -1, count: Int(maxKey) + 1)
    for r in rows { slot[Int(keys[Int(r)])] = r }
    var k = 0
    for s in slot where s >= 0 {
        rows[k] = s
        k += 1
    }
    return rows
}
