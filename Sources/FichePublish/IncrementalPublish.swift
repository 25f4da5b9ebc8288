// The incremental rebuild: compare the new build with the live warehouse's publish record and
// replace only what changed — the partitions of the fact and bridges holding a month whose
// rows changed, and the small tables (dimensions, dim_time, aggregates) whose rows changed,
// whole — in one transaction, as a backfill does. Anything it cannot prove safe falls back
// to the full rebuild, with the reason.

import FicheLake
import FicheWarehouse
import Foundation

enum IncrementalPublish {
    /// What an incremental publish would do.
    struct Change {
        /// Live partitions to replace, and new ones (months no partition holds yet).
        var replaced: [PartitionUnit]
        var added: [PartitionUnit]
        /// Non-partitioned tables whose rows changed.
        var tables: [String]
        var units: [PartitionUnit] { (replaced + added).sorted() }
    }

    enum Decision {
        case incremental(Change)
        case full(String)
    }

    /// Decides from the live schema's record. `liveExists` false, or no record, means full.
    static func decide(_ c: PostgresConnection, live: SQLIdentifier, build new: PublishRecord, plan: PartitionPlan,
                       maxRows: Int) throws -> Decision {
        guard try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [live.name]) == "1" else {
            return .full("no warehouse is published in schema \(live.name) yet")
        }
        guard let old = try PublishRecord.read(c, live: live) else {
            return .full("the live warehouse has no publish record (published by a full rebuild of an earlier Fiche)")
        }
        guard old.format == PublishRecord.format else {
            return .full(old.format == 0 ? "months were backfilled since the last rebuild (the publish record no longer describes them)" :
                         "the live warehouse was published by another Fiche version")
        }
        for (table, version) in old.lake where table.hasPrefix("_keys") {
            if let now = new.lake[table], now < version {
                return .full("the key registry \(table) is older (version \(now)) than the one the live warehouse was built from (\(version)): keys may differ")
            }
        }
        for table in WarehouseDDL.partitionedTables {
            if old.months[table]?[0] != new.months[table]?[0] {
                return .full("rows of \(table) outside any month changed")
            }
        }
        // Months whose rows changed in any of the fact and bridges (appeared, went, or differ).
        var changed = Set<Int>()
        for table in WarehouseDDL.partitionedTables {
            let a = old.months[table] ?? [:], b = new.months[table] ?? [:]
            for m in Set(a.keys).union(b.keys) where m != 0 && a[m] != b[m] { changed.insert(m) }
        }
        let tables = Warehouse.tables.map(\.name).filter { !WarehouseDDL.isPartitioned($0) && old.tables[$0] != new.tables[$0] }
        let liveUnits = try WarehousePublisher.liveUnits(c, live: live)
        let replaced = liveUnits.filter { u in changed.contains(where: u.contains) }
        let uncovered = changed.filter { m in !liveUnits.contains { $0.contains(m) } && (new.months[Warehouse.factEncounters]?[m]?.rows ?? 0) > 0 }
        // Months that went away and no partition holds have nothing to replace; new ones get
        // partitions of their own kind (sparse runs together), before and after the live ones apart.
        let lo = liveUnits.first?.first ?? Int.max, hi = liveUnits.last?.last ?? Int.min
        let factRows = plan.factMonthRows
        var added: [PartitionUnit] = []
        for side in [uncovered.filter { $0 < lo }, uncovered.filter { $0 > hi }, uncovered.filter { $0 >= lo && $0 <= hi }] where !side.isEmpty {
            added += PartitionUnit.layout(factRows.filter { side.contains($0.month) }, maxRows: maxRows)
        }
        if !liveUnits.isEmpty, replaced.count == liveUnits.count {
            return .full("every partition changed (nothing to keep)")
        }
        return .incremental(Change(replaced: replaced, added: added, tables: tables))
    }

    /// Runs the change: new partitions and changed tables loaded and keyed in the side schema,
    /// dimension differences computed there; then one transaction upserts the dimensions,
    /// swaps the partitions (their keys to the dimensions checked there), deletes dimension
    /// rows that went, replaces the changed aggregates and the record.
    static func run(_ change: Change, main: PostgresConnection, names: ManagedSchemas, target: DatabaseTarget,
                    byName: [String: Batch], plan: PartitionPlan, record: PublishRecord, options: PublishOptions,
                    phase: (String) -> Void) throws -> (tables: [TableLoadStats], partitions: Int) {
        let live = names.live, side = names.backfill
        try names.clearLeftover(.backfill, main)
        try names.create(.backfill, main)
        let units = change.units
        var loaded: [TableLoadStats] = []
        do {
            let setup = ["SET search_path = \(side.quoted), \(live.quoted)", "SET maintenance_work_mem = '256MB'", "SET jit = off",
                         "SET synchronous_commit = off"]
            var jobs: [LoadJob] = []
            for table in change.tables {
                guard let batch = byName[table] else { continue }
                jobs.append(LoadJob(table: "\(table)_new", before: ["CREATE TABLE \(table)_new (LIKE \(live.quoted).\(table))"],
                                    batch: batch, rows: WarehousePublisher.identity(batch.rowCount), freeze: true, after: []))
            }
            let recordBatch = record.batch
            jobs.append(LoadJob(table: "\(PublishRecord.table)_new",
                                before: ["CREATE TABLE \(PublishRecord.table)_new (LIKE \(live.quoted).\(PublishRecord.table))"],
                                batch: recordBatch, rows: WarehousePublisher.identity(recordBatch.rowCount), freeze: true, after: []))
            for table in WarehouseDDL.partitionedTables {
                guard let batch = byName[table] else { continue }
                for unit in units {
                    jobs.append(WarehousePublisher.partitionJob(table, unit: unit, batch: batch, rows: plan.rows(of: table, in: unit),
                                                                dimensionKeys: false))
                }
            }
            let stats = try CopyLoader.runParallel(jobs, workers: options.connections, target: target, setup: setup,
                                                   blockBytes: options.blockBytes, applicationName: options.applicationName)
            loaded = WarehousePublisher.mergeStats(stats.map { s in
                var s = s
                if s.table.hasSuffix("_new") { s.table = String(s.table.dropLast(4)) }
                return s
            })
            // The bridges' new partitions reference the fact's (both here).
            try CopyLoader.runStatementsParallel(WarehousePublisher.unitForeignKeyGroups(units, includeDefault: false),
                                                 workers: options.connections, target: target, setup: setup,
                                                 applicationName: options.applicationName)
            // Dimension rows that are new or differ, and keys that went, computed before any lock.
            let dimensions = change.tables.filter { WarehouseDDL.primaryKeys[$0] != nil && !$0.hasPrefix("mv_") }
            var diff: [String] = []
            for t in dimensions {
                guard let key = WarehouseDDL.primaryKeys[t] else { continue }
                let on = key.map { "o.\($0) = n.\($0)" }.joined(separator: " AND ")
                diff.append("CREATE TABLE \(side.quoted).\(t)_upsert AS SELECT n.* FROM \(side.quoted).\(t)_new n LEFT JOIN \(live.quoted).\(t) o ON \(on) WHERE o.\(key[0]) IS NULL OR ROW(o.*) IS DISTINCT FROM ROW(n.*)")
                diff.append("CREATE TABLE \(side.quoted).\(t)_gone AS SELECT \(key.map { "o.\($0)" }.joined(separator: ", ")) FROM \(live.quoted).\(t) o WHERE NOT EXISTS (SELECT 1 FROM \(side.quoted).\(t)_new n WHERE \(on))")
            }
            if !diff.isEmpty { try main.execute(diff) }
            phase("load")

            try WarehousePublisher.withTableLocks(main, live: live) {
                let existing = Set(try main.query("""
                    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
                    """, [live.name]).rows.compactMap { $0.first ?? nil })
                var swap = ["SET LOCAL search_path = \(live.quoted)"]
                for t in dimensions {
                    guard let key = WarehouseDDL.primaryKeys[t], let schema = WarehouseDDL.schema(of: t) else { continue }
                    let set = schema.names.filter { !key.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                    swap.append("INSERT INTO \(t) SELECT * FROM \(side.quoted).\(t)_upsert ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(set)")
                }
                for table in WarehouseDDL.partitionedTables.reversed() {
                    for unit in change.replaced where existing.contains(unit.name(table)) { swap.append("DROP TABLE \(unit.name(table))") }
                }
                for table in WarehouseDDL.partitionedTables {
                    for unit in units {
                        swap.append("ALTER TABLE \(side.quoted).\(unit.name(table)) SET SCHEMA \(live.quoted)")
                        // Keys to the dimensions as they now are, checked here; attaching adopts them.
                        swap += WarehousePublisher.dimensionForeignKeys(table, partition: unit.name(table))
                        swap.append(WarehouseDDL.attachPartition(table, unit: unit))
                    }
                }
                for t in dimensions.reversed() {
                    guard let key = WarehouseDDL.primaryKeys[t] else { continue }
                    swap.append("DELETE FROM \(t) WHERE (\(key.joined(separator: ", "))) IN (SELECT * FROM \(side.quoted).\(t)_gone)")
                }
                for mv in change.tables where mv.hasPrefix("mv_") {
                    swap.append("TRUNCATE \(mv)")
                    swap.append("INSERT INTO \(mv) SELECT * FROM \(side.quoted).\(mv)_new")
                }
                swap.append("TRUNCATE \(PublishRecord.table)")
                swap.append("INSERT INTO \(PublishRecord.table) SELECT * FROM \(side.quoted).\(PublishRecord.table)_new")
                try main.execute(swap)
                // The quality gates' row-count reconciliation, on the live schema as this
                // transaction leaves it: a failure rolls the whole change back.
                try options.beforeSwap?(main, live)
            }
            phase("swap")
        } catch {
            names.abandon(.backfill, main)
            throw error
        }
        names.dropIfOurs(.backfill, main)
        let analyze = WarehouseDDL.partitionedTables.flatMap { t in units.map { "\(live.quoted).\($0.name(t))" } }
            + change.tables.map { "\(live.quoted).\($0)" } + ["\(live.quoted).\(PublishRecord.table)"]
        try main.execute("ANALYZE " + analyze.joined(separator: ", "))
        phase("analyze")
        return (loaded, units.count * WarehouseDDL.partitionedTables.count)
    }
}
