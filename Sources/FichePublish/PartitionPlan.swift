// Which rows of the partitioned tables fall in which month: a counting sort of date_key/100,
// done once per table, column at a time.

import FicheLake
import FicheWarehouse

struct PartitionPlan {
    /// table → (YYYYMM, row indices in that month, in row order), months ascending.
    private var byTable: [String: [(month: Int, rows: [Int32])]] = [:]
    /// table → rows whose date_key is no valid YYYYMMDD month (they go to the DEFAULT partition).
    private var outside: [String: [Int32]] = [:]

    init(_ tables: [String: Batch], only months: Set<Int>? = nil) {
        for table in WarehouseDDL.partitionedTables {
            guard let batch = tables[table], case .int32(let keys)? = batch.column("date_key")?.values else { continue }
            let (groups, rest) = PartitionPlan.group(keys, only: months)
            byTable[table] = groups
            outside[table] = rest
        }
    }

    func months(of table: String) -> [(month: Int, rows: [Int32])] { byTable[table] ?? [] }
    func outOfRange(of table: String) -> [Int32] { outside[table] ?? [] }

    /// Groups row indices by YYYYMM of a YYYYMMDD key. Months are numbered densely as
    /// year*12 + month-1 between the smallest and largest seen, counted, then scattered.
    static func group(_ keys: [Int32], only: Set<Int>?) -> ([(month: Int, rows: [Int32])], [Int32]) {
        keys.withUnsafeBufferPointer { k in
            let n = k.count
            var lo = Int.max, hi = Int.min
            var slot = [Int32](repeating: -1, count: n)  // dense month index, -1 = outside
            slot.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    let ym = Int(k[i]) / 100
                    let y = ym / 100, m = ym % 100
                    guard k[i] > 0, (1...12).contains(m) else { continue }
                    let dense = y * 12 + m - 1
                    s[i] = Int32(truncatingIfNeeded: dense)
                    lo = min(lo, dense)
                    hi = max(hi, dense)
                }
            }
            var rest: [Int32] = []
            guard lo <= hi else { return ([], WarehousePublisher.identity(n)) }
            var counts = [Int](repeating: 0, count: hi - lo + 1)
            for i in 0..<n where slot[i] >= 0 { counts[Int(slot[i]) - lo] += 1 }
            var groups: [[Int32]] = counts.map { var a = [Int32](); a.reserveCapacity($0); return a }
            for i in 0..<n {
                if slot[i] >= 0 { groups[Int(slot[i]) - lo].append(Int32(truncatingIfNeeded: i)) } else { rest.append(Int32(truncatingIfNeeded: i)) }
            }
            var out: [(month: Int, rows: [Int32])] = []
            for (d, rows) in groups.enumerated() where !rows.isEmpty {
                let dense = d + lo
                let month = (dense / 12) * 100 + dense % 12 + 1
                if let only, !only.contains(month) { continue }
                out.append((month, rows))
            }
            return (out, rest)
        }
    }
}

/// The months one partition of the fact and of each bridge holds: `first` to `last` (YYYYMM),
/// both included. A month with many rows is a unit of its own; runs of sparse months share
/// one, so a warehouse of a few rows a month is not thousands of tiny tables. The fact and
/// both bridges always have the same units, so a bridge partition's key to the fact names
/// one fact partition.
public struct PartitionUnit: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var first: Int
    public var last: Int

    public init(first: Int, last: Int) {
        self.first = first
        self.last = last
    }

    public init(month: Int) { self.init(first: month, last: month) }

    public static func < (a: PartitionUnit, b: PartitionUnit) -> Bool { a.first < b.first }

    /// YYYYMM after `month`.
    public static func next(_ month: Int) -> Int { month % 100 == 12 ? (month / 100 + 1) * 100 + 1 : month + 1 }

    public var months: [Int] {
        var out: [Int] = []
        var m = first
        while m <= last {
            out.append(m)
            m = PartitionUnit.next(m)
        }
        return out
    }

    public func contains(_ month: Int) -> Bool { first <= month && month <= last }

    /// date_key bounds: [first's YYYYMM00, the month after last's YYYYMM00).
    public var bounds: (from: Int, to: Int) { (first * 100, PartitionUnit.next(last) * 100) }

    /// `fact_encounters_p201501` for one month, `fact_encounters_p201501_201712` for several.
    public func name(_ table: String) -> String {
        first == last ? "\(table)_p\(first)" : "\(table)_p\(first)_\(last)"
    }

    public var description: String {
        let f = String(format: "%04d-%02d", first / 100, first % 100), l = String(format: "%04d-%02d", last / 100, last % 100)
        return first == last ? f : "\(f)..\(l)"
    }

    /// The unit a partition's bounds `FROM (from) TO (to)` describe, if they are whole months.
    public init?(from: Int, to: Int) {
        guard from % 100 == 0, to % 100 == 0, from < to else { return nil }
        let f = from / 100, t = to / 100
        guard (1...12).contains(f % 100), (1...12).contains(t % 100) else { return nil }
        // last = the month before t
        let l = t % 100 == 1 ? (t / 100 - 1) * 100 + 12 : t - 1
        guard l >= f else { return nil }
        self.init(first: f, last: l)
    }

    /// Units covering every month from the first to the last of `monthRows` (months ascending,
    /// each with its fact rows): consecutive months share a unit while their rows together stay
    /// within `maxRows`; a month past it starts the next. Months without rows between two
    /// months with rows join the unit before them, so the units leave no gap. `maxRows` 0
    /// gives one unit per month with rows.
    public static func layout(_ monthRows: [(month: Int, rows: Int)], maxRows: Int) -> [PartitionUnit] {
        var units: [PartitionUnit] = []
        var rows = 0
        for (month, n) in monthRows {
            if var u = units.last, maxRows > 0, rows + n <= maxRows {
                u.last = month
                units[units.count - 1] = u
                rows += n
            } else {
                if maxRows > 0, var u = units.last {
                    // Close the gap: the previous unit runs to the month before this one.
                    u.last = max(u.last, PartitionUnit(from: u.first * 100, to: month * 100)?.last ?? u.last)
                    units[units.count - 1] = u
                }
                units.append(PartitionUnit(month: month))
                rows = n
            }
        }
        return units
    }
}

extension PartitionPlan {
    /// Row indices of `table` in `unit`'s months, month by month.
    func rows(of table: String, in unit: PartitionUnit) -> [Int32] {
        var out: [Int32] = []
        for (month, rows) in months(of: table) where unit.contains(month) { out += rows }
        return out
    }

    /// The fact's rows per month, for `PartitionUnit.layout`.
    var factMonthRows: [(month: Int, rows: Int)] {
        months(of: Warehouse.factEncounters).map { ($0.month, $0.rows.count) }
    }
}
