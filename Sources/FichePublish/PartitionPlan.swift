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
