// Reads the warehouse tables the build wrote into the lake, for publishing.

import FicheLake
import FicheWarehouse

public enum WarehouseLakeReader {
    /// Every warehouse table from `lake`, in load order. A table the build has not written
    /// is an error naming it (run `fiche build` first).
    public static func read(_ lake: Lake) throws -> [(name: String, batch: Batch)] {
        try Warehouse.tables.map { name, schema in
            let snapshot = try lake.table(name).snapshot()
            guard snapshot.version > 0 else {
                throw PublishError(.usage, "the lake at \(lake.root) has no warehouse table \(name): run `fiche build` first")
            }
            return (name, try snapshot.readAll(columns: schema.names))
        }
    }
}
