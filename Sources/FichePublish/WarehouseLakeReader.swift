// Reads the warehouse tables the build wrote into the lake, for publishing.

import FicheLake
import FicheWarehouse

public enum WarehouseLakeReader {
    /// Every warehouse table from `lake` as of one instant, in load order. A table the build has not written
    /// is an error naming it (run `fiche build` first).
    /// With `months` (YYYYMM), the fact and bridges are read only from chunks whose date_key
    /// range meets those months (the publisher keeps exactly the months' rows).
    public static func read(_ lake: Lake, months: [Int]? = nil) throws -> [(name: String, batch: Batch)] {
        let prune = months.flatMap { m -> ChunkPrune? in
            guard let lo = m.min(), let hi = m.max() else { return nil }
            return ChunkPrune(column: "date_key", range: Int64(lo) * 100...Int64(hi) * 100 + 99)
        }
        // Every table as of one instant: a build committing meanwhile is read whole or not at all.
        let snapshots = try lake.snapshots(of: Warehouse.tables.map(\.name))
        return try zip(Warehouse.tables, snapshots).map { table, snapshot in
            let (name, schema) = table
            guard snapshot.version > 0 else {
                throw PublishError(.usage, "the lake at \(lake.root) has no warehouse table \(name): run `fiche build` first")
            }
            let partitioned = WarehouseDDL.isPartitioned(name)
            return (name, try snapshot.readAll(columns: schema.names, prune: partitioned ? prune : nil))
        }
    }
}
