// Backfills: replace exactly some months of the fact and bridges, atomically, and add the
// dimension rows the new months need. Other months are not touched; repeating a backfill
// with the same data changes nothing.

import FicheLake
import FicheWarehouse
import Foundation

extension WarehousePublisher {
    /// Replaces the partitions of `months` (YYYYMM) of fact_encounters and both bridges in
    /// the live schema with the rows of `tables` dated in those months, inserts dimension rows
    /// whose keys are new (existing keys keep their rows), and replaces the mv_* rows with
    /// what `refresh_all_warehouse_views()` would compute after the swap — all in one
    /// transaction. Rows of other months in `tables` are ignored. The new partitions are built
    /// and indexed, and the new aggregates computed, beforehand in a side schema, so the
    /// transaction (readers wait for it) only drops, moves, attaches and copies a few rows.
    @discardableResult
    public static func publishBackfill(tables: [(name: String, batch: Batch)], months: [Int], to target: DatabaseTarget,
                                       options: PublishOptions = PublishOptions()) throws -> PublishReport {
        let live = try SQLIdentifier(options.schema)
        let names = ManagedSchemas(live, kind: .warehouse)
        let side = names.backfill
        let months = Array(Set(months)).sorted()
        for m in months where !(1...12).contains(m % 100) || m < 100 {
            throw PublishError(.usage, "backfill month \(m) is not a YYYYMM month")
        }
        guard !months.isEmpty else { throw PublishError(.usage, "a backfill needs at least one month") }
        var report = PublishReport(schema: live.name)
        var clock = DispatchTime.now()
        func phase(_ name: String) {
            report.phases.append((name, seconds(since: clock)))
            options.progress?("\(name): \(String(format: "%.2f", report.phases.last?.seconds ?? 0)) s")
            clock = DispatchTime.now()
        }

        let needed = Warehouse.tables.map(\.name).filter { !$0.hasPrefix("mv_") }
        let byName = try checkedTables(tables.filter { needed.contains($0.name) }, required: needed)
        let plan = PartitionPlan(byName, only: Set(months))
        phase("validate")

        let main = try PostgresConnection(target, applicationName: options.applicationName)
        defer { main.close() }
        // The rebuild's names too: a backfill and a rebuild of one schema never run at once.
        try names.lock(main, roles: [.live, .staging, .old, .backfill], wait: options.waitForLock)
        try names.claimLive(main, mustExist: true)
        try names.clearLeftover(.backfill, main)
        try names.create(.backfill, main)
        do {
            // 1. The dimension rows, into side tables named <dim>_new.
            let setup = ["SET search_path = \(side.quoted), \(live.quoted)", "SET maintenance_work_mem = '256MB'", "SET jit = off",
                         // Staging work is thrown away on a crash anyway: no fsync wait per commit.
                         "SET synchronous_commit = off"]
            let dimensions = Warehouse.tables.map(\.name).filter { byName[$0] != nil && !WarehouseDDL.isPartitioned($0) }
            let dimensionJobs = dimensions.compactMap { table in
                byName[table].map { batch in
                    LoadJob(table: "\(table)_new", before: ["CREATE TABLE \(table)_new (LIKE \(live.quoted).\(table))"],
                            batch: batch, rows: identity(batch.rowCount), freeze: true, after: [])
                }
            }
            var stats = try CopyLoader.runParallel(dimensionJobs, workers: options.connections, target: target, setup: setup,
                                                   blockBytes: options.blockBytes, applicationName: options.applicationName)
            // 2. New dimension rows go live first, on their own: keys are stable, so a row that is
            //    new is referenced by nothing yet, and existing rows are kept as they are.
            try main.execute("BEGIN")
            for table in dimensions {
                let key = WarehouseDDL.primaryKeys[table] ?? []
                try main.execute("INSERT INTO \(live.quoted).\(table) SELECT * FROM \(side.quoted).\(table)_new ON CONFLICT (\(key.joined(separator: ", "))) DO NOTHING")
            }
            try main.execute("COMMIT")
            // 3. The new month partitions, with their keys, indexes and dimension keys checked now
            //    (unqualified dim_* names find the live dimensions), so attaching them checks nothing.
            var jobs: [LoadJob] = []
            for table in WarehouseDDL.partitionedTables {
                guard let batch = byName[table] else { continue }
                let present = Dictionary(plan.months(of: table).map { ($0.month, $0.rows) }, uniquingKeysWith: { a, _ in a })
                for month in months {
                    jobs.append(partitionJob(table, month: month, batch: batch, rows: present[month] ?? [], dimensionKeys: true))
                }
                report.partitions += months.count
            }
            stats += try CopyLoader.runParallel(jobs, workers: options.connections, target: target, setup: setup,
                                                blockBytes: options.blockBytes, applicationName: options.applicationName)
            report.tables = mergeStats(stats.map { s in
                var s = s
                if s.table.hasSuffix("_new") { s.table = String(s.table.dropLast(4)) }
                return s
            })
            // The new bridge months reference the new fact months (both in the side schema).
            try CopyLoader.runStatementsParallel(monthForeignKeyGroups(months, includeDefault: false), workers: options.connections,
                                                 target: target, setup: setup, applicationName: options.applicationName)
            phase("load")

            // 4. The aggregates as they will be once the months are swapped, computed now, before
            //    any lock: views in the side schema show the live fact and bridges with these
            //    months replaced by the new partitions, and refresh_all_warehouse_views()'s own
            //    queries run over them (dimensions resolve to the live ones, already updated).
            let partitionMonth = WarehouseDDL.partitionMonthExpression("date_key")
            let monthList = months.map(String.init).joined(separator: ",")
            let views = WarehouseDDL.partitionedTables.map { table in
                "CREATE VIEW \(side.quoted).\(table) AS SELECT * FROM \(live.quoted).\(table) WHERE \(partitionMonth) <> ALL ('{\(monthList)}'::int[])"
                    + months.map { " UNION ALL SELECT * FROM \(side.quoted).\(WarehouseDDL.partitionName(table, month: $0))" }.joined()
            }
            let aggregates = WarehouseDDL.aggregateQueries.map {
                "CREATE TABLE \(side.quoted).\($0.table)_new AS \($0.query)"
            }
            try main.execute(["SET search_path = \(side.quoted), \(live.quoted)"] + views + aggregates + ["RESET search_path"])
            phase("aggregates")

            // 5. Swap the months in, in one transaction, in one round trip: drop the old months
            //    (bridges before the fact they reference), move the new ones in and attach them
            //    (the fact before the bridges), replace the aggregates' rows.
            try withTableLocks(main, live: live) {
                let existing = Set(try main.query("""
                    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
                    """, [live.name]).rows.compactMap { $0.first ?? nil })
                var swap = ["SET LOCAL search_path = \(live.quoted)"]
                for table in WarehouseDDL.partitionedTables.reversed() {
                    for month in months where existing.contains(WarehouseDDL.partitionName(table, month: month)) {
                        swap.append("DROP TABLE \(WarehouseDDL.partitionName(table, month: month))")
                    }
                }
                for table in WarehouseDDL.partitionedTables {
                    for month in months {
                        swap.append("ALTER TABLE \(side.quoted).\(WarehouseDDL.partitionName(table, month: month)) SET SCHEMA \(live.quoted)")
                        swap.append(WarehouseDDL.attachPartition(table, month: month))
                    }
                }
                let mv = WarehouseDDL.aggregateQueries.map(\.table)
                swap.append("TRUNCATE " + mv.joined(separator: ", "))
                swap += mv.map { "INSERT INTO \($0) SELECT * FROM \(side.quoted).\($0)_new" }
                try main.execute(swap)
            }
            phase("swap months")
        } catch {
            names.abandon(.backfill, main)
            throw error
        }
        names.dropIfOurs(.backfill, main)
        let analyze = WarehouseDDL.partitionedTables.flatMap { t in months.map { "\(live.quoted).\(WarehouseDDL.partitionName(t, month: $0))" } }
            + Warehouse.tables.filter { !WarehouseDDL.isPartitioned($0.name) }.map { "\(live.quoted).\($0.name)" }
        try main.execute("ANALYZE " + analyze.joined(separator: ", "))
        try? main.execute("SELECT pg_advisory_unlock_all()")
        phase("analyze")
        return report
    }

    /// Runs `body` in a transaction holding ACCESS EXCLUSIVE locks on every live warehouse
    /// table, taken with a short lock_timeout and retried with jitter so readers never
    /// deadlock with us and never see the change half made.
    static func withTableLocks(_ c: PostgresConnection, live: SQLIdentifier, _ body: () throws -> Void) throws {
        try c.withExclusiveTableLocks({ _ in Warehouse.tables.map { "\(live.quoted).\($0.name)" } }, body)
    }
}
