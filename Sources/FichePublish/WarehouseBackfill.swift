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
        func phase(_ name: String) { report.endPhase(name, clock: &clock, progress: options.progress) }

        let needed = Warehouse.tables.map(\.name).filter { !$0.hasPrefix("mv_") }
        let byName = try checkedTables(tables.filter { needed.contains($0.name) }, required: needed)
        let plan = PartitionPlan(byName, only: Set(months))
        phase("validate")

        let main = try PostgresConnection(target, applicationName: options.applicationName)
        defer { main.close() }
        // The rebuild's names too: a backfill and a rebuild of one schema never run at once.
        try names.lock(main, roles: [.live, .staging, .old, .backfill], wait: options.waitForLock)
        try names.claimLive(main, mustExist: true)
        try checkLiveColumns(main, live)
        try names.clearLeftover(.backfill, main)
        try names.create(.backfill, main)
        var replacedUnits: [PartitionUnit] = []
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
            // 3. The new partitions: every live partition holding one of the months (a partition
            //    may hold several sparse months: its other months' rows are carried over from the
            //    live one), and one per month no partition holds yet. Keys, indexes and dimension
            //    keys are checked now (unqualified dim_* names find the live dimensions), so
            //    attaching them checks nothing.
            let liveUnits = try WarehousePublisher.liveUnits(main, live: live)
            var units = liveUnits.filter { u in months.contains(where: u.contains) }
            units += months.filter { m in !liveUnits.contains { $0.contains(m) } }.map(PartitionUnit.init(month:))
            units.sort()
            replacedUnits = units
            let monthList = months.map(String.init).joined(separator: ",")
            let partitionMonth = WarehouseDDL.partitionMonthExpression("date_key")
            var jobs: [LoadJob] = []
            for table in WarehouseDDL.partitionedTables {
                guard let batch = byName[table] else { continue }
                for unit in units {
                    let carry = liveUnits.contains(unit) && !unit.months.allSatisfy(months.contains)
                        ? ["INSERT INTO \(unit.name(table)) SELECT * FROM \(live.quoted).\(unit.name(table)) WHERE \(partitionMonth) <> ALL ('{\(monthList)}'::int[])"]
                        : []
                    jobs.append(partitionJob(table, unit: unit, batch: batch, rows: plan.rows(of: table, in: unit), dimensionKeys: true, carry: carry))
                }
                report.partitions += units.count
            }
            stats += try CopyLoader.runParallel(jobs, workers: options.connections, target: target, setup: setup,
                                                blockBytes: options.blockBytes, applicationName: options.applicationName)
            report.tables = mergeStats(stats.map { s in
                var s = s
                if s.table.hasSuffix("_new") { s.table = String(s.table.dropLast(4)) }
                return s
            })
            // The new bridge months reference the new fact months (both in the side schema).
            try CopyLoader.runStatementsParallel(unitForeignKeyGroups(units, includeDefault: false), workers: options.connections,
                                                 target: target, setup: setup, applicationName: options.applicationName)
            phase("load")

            // 4. The aggregates as they will be once the months are swapped, computed now, before
            //    any lock: views in the side schema show the live fact and bridges with these
            //    months replaced by the new partitions, and refresh_all_warehouse_views()'s own
            //    queries run over them (dimensions resolve to the live ones, already updated).
            let replaced = units.map { "(date_key >= \($0.bounds.from) AND date_key < \($0.bounds.to))" }.joined(separator: " OR ")
            let views = WarehouseDDL.partitionedTables.map { table in
                "CREATE VIEW \(side.quoted).\(table) AS SELECT * FROM \(live.quoted).\(table) WHERE NOT (\(replaced))"
                    + units.map { " UNION ALL SELECT * FROM \(side.quoted).\($0.name(table))" }.joined()
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
                    for unit in units where existing.contains(unit.name(table)) {
                        swap.append("DROP TABLE \(unit.name(table))")
                    }
                }
                for table in WarehouseDDL.partitionedTables {
                    for unit in units {
                        swap.append("ALTER TABLE \(side.quoted).\(unit.name(table)) SET SCHEMA \(live.quoted)")
                        swap.append(WarehouseDDL.attachPartition(table, unit: unit))
                    }
                }
                let mv = WarehouseDDL.aggregateQueries.map(\.table)
                swap.append("TRUNCATE " + mv.joined(separator: ", "))
                swap += mv.map { "INSERT INTO \($0) SELECT * FROM \(side.quoted).\($0)_new" }
                // The publish record no longer describes these months: the next rebuild is full.
                if try main.scalar("SELECT to_regclass($1) IS NOT NULL", ["\(live.quoted).\(PublishRecord.table)"]) == "t" {
                    swap.append("UPDATE \(PublishRecord.table) SET checksum = 0 WHERE item = 'format'")
                }
                try main.execute(swap)
            }
            phase("swap months")
        } catch {
            names.abandon(.backfill, main)
            throw error
        }
        names.dropIfOurs(.backfill, main)
        let units = replacedUnits
        let analyze = WarehouseDDL.partitionedTables.flatMap { t in units.map { "\(live.quoted).\($0.name(t))" } }
            + Warehouse.tables.filter { !WarehouseDDL.isPartitioned($0.name) }.map { "\(live.quoted).\($0.name)" }
        try main.execute("ANALYZE " + analyze.joined(separator: ", "))
        try? main.execute("SELECT pg_advisory_unlock_all()")
        phase("analyze")
        return report
    }

    /// A backfill adds months to the live tables as they are: refuses, before touching anything,
    /// a live warehouse whose columns differ from this version's (one published by an older
    /// fiche, say, before bridge_encounter_diagnosis had `quantity`).
    static func checkLiveColumns(_ c: PostgresConnection, _ live: SQLIdentifier) throws {
        let rows = try c.query("""
            SELECT c.relname, string_agg(a.attname, ',' ORDER BY a.attnum)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') GROUP BY c.relname
            """, [live.name]).rows
        let found = Dictionary(rows.compactMap { r in r[0].map { ($0, r[1] ?? "") } }, uniquingKeysWith: { a, _ in a })
        for (table, schema) in Warehouse.tables {
            let want = schema.names.joined(separator: ",")
            guard let have = found[table], have == want else {
                throw PublishError(.usage, """
                    the live warehouse in schema \(live.name) was published with other columns than this fiche writes \
                    (\(table): \(found[table] ?? "missing"); expected \(want)): publish it whole once \
                    (`fiche rebuild` or `fiche publish` without --backfill), then backfill
                    """)
            }
        }
    }

    /// Runs `body` in a transaction holding ACCESS EXCLUSIVE locks on every live warehouse
    /// table, taken with a short lock_timeout and retried with jitter so readers never
    /// deadlock with us and never see the change half made.
    static func withTableLocks(_ c: PostgresConnection, live: SQLIdentifier, _ body: () throws -> Void) throws {
        try c.withExclusiveTableLocks({ _ in Warehouse.tables.map { "\(live.quoted).\($0.name)" } }, body)
    }
}
