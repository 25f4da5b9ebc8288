// The nightly rebuild: load the whole warehouse into a fresh staging schema over two
// connections, build keys, indexes and statistics there, then swap it with the live schema
// in one short transaction. Readers see the old warehouse or the new one, never a mix.

import FicheLake
import FicheWarehouse
import Foundation

public struct PublishOptions: Sendable {
    /// The live schema readers query.
    public var schema: String = "warehouse"
    /// Wait for another publisher's lock (true) or fail at once (`--no-wait`).
    public var waitForLock: Bool = true
    /// Connections loading in parallel.
    public var connections: Int = 2
    /// Bytes per PQputCopyData call.
    public var blockBytes: Int = 8 << 20
    /// Called with one line per phase (the CLI prints it on a TTY).
    public var progress: (@Sendable (String) -> Void)?
    /// `application_name` of every connection (lets operators and tests find our backends).
    public var applicationName: String = "fiche publish"
    /// Wait for the old schema's drop after the swap (true), or leave it running on the
    /// server and return as soon as the new warehouse is live (false). Readers are not
    /// affected either way; a drop that does not finish is redone by the next run.
    public var waitForOldSchemaDrop = false
    /// Runs after everything is loaded into the staging schema (given), before the swap; if
    /// it throws, nothing is swapped and the live schema stays as it was (the quality gates'
    /// row-count reconciliation, `PublishedRowCounts`).
    public var beforeSwap: (@Sendable (PostgresConnection, SQLIdentifier) throws -> Void)?
    /// Fact rows a partition may hold before the next month starts a partition of its own:
    /// runs of sparse months share one partition (0: one partition per month).
    public var partitionRows = 100_000
    /// Republish only what changed since the live warehouse's publish record (`fiche rebuild`
    /// without `--full`); falls back to a full rebuild, saying why, when it cannot.
    public var incremental = false
    /// Lake table → version the tables were built from, kept in the publish record.
    public var lakeVersions: [String: Int] = [:]

    public init() {}
}

/// What a publish did, with timings per phase.
public struct PublishReport: Sendable {
    public var schema: String
    public var tables: [TableLoadStats] = []
    /// (phase, seconds) in order.
    public var phases: [(name: String, seconds: Double)] = []
    public var partitions: Int = 0
    /// "full" or "incremental".
    public var mode = "full"
    /// Why an incremental publish fell back to full, or what it replaced.
    public var note: String?

    public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    public var totalBytes: Int { tables.reduce(0) { $0 + $1.bytes } }

    /// Ends phase `name`, begun at `clock`: records its seconds, tells `progress` (its line
    /// prefixed with `label`, if any) and starts the next phase's clock.
    mutating func endPhase(_ name: String, clock: inout DispatchTime, progress: (@Sendable (String) -> Void)?, label: String = "") {
        phases.append((name, seconds(since: clock)))
        progress?("\(label)\(name): \(String(format: "%.2f", phases.last?.seconds ?? 0)) s")
        clock = DispatchTime.now()
    }
}

public enum WarehousePublisher {
    /// Publishes the warehouse tables (every table of `Warehouse.tables`, by name) as the new
    /// content of `options.schema`. Any failure leaves the live schema untouched.
    @discardableResult
    public static func publish(tables: [(name: String, batch: Batch)], to target: DatabaseTarget,
                               options: PublishOptions = PublishOptions()) throws -> PublishReport {
        let live = try SQLIdentifier(options.schema)
        let names = ManagedSchemas(live, kind: .warehouse)
        let staging = names.staging, old = names.old
        var report = PublishReport(schema: live.name)
        var clock = DispatchTime.now()
        func phase(_ name: String) { report.endPhase(name, clock: &clock, progress: options.progress) }

        // 1. Everything we can check before touching the database.
        let byName = try checkedTables(tables)
        let plan = PartitionPlan(byName)
        let factMonths = Set(plan.months(of: Warehouse.factEncounters).map(\.month))
        for bridge in WarehouseDDL.encounterBridges {
            if let stray = plan.months(of: bridge).first(where: { !factMonths.contains($0.month) }) {
                throw PublishError(.invalidData, "table \(bridge), row \(stray.rows[0]): date_key in \(stray.month / 100)-\(String(format: "%02d", stray.month % 100)), a month without encounters in fact_encounters")
            }
        }
        // Partitions: a month of its own where the fact has many rows, runs of sparse months together.
        // No more than a quarter of the fact (at least 10,000 rows) per partition, either, so the
        // connections share the fact's and bridges' load waves evenly.
        let factRows = byName[Warehouse.factEncounters]?.rowCount ?? 0
        let waveShare = max(10_000, (factRows + 2 * options.connections - 1) / max(1, 2 * options.connections))
        let maxRows = options.partitionRows == 0 ? 0 : min(options.partitionRows, waveShare)
        let units = PartitionUnit.layout(plan.factMonthRows, maxRows: maxRows)
        let record = PublishRecord(build: byName, plan: plan, lake: options.lakeVersions)
        phase("validate")

        // 2. Lock, clear leftovers of a failed run, create the staging schema and the parents.
        let main = try PostgresConnection(target, applicationName: options.applicationName)
        defer { main.close() }
        try names.lock(main, roles: [.live, .staging, .old, .backfill], wait: options.waitForLock)
        // Only schemas Fiche provably made are replaced or dropped; anything else stops here.
        try names.claimLive(main)
        try names.clearLeftover(.staging, main)
        try names.clearLeftover(.old, main)
        if options.incremental {
            switch try IncrementalPublish.decide(main, live: live, build: record, plan: plan, maxRows: maxRows) {
            case .incremental(let change):
                report.mode = "incremental"
                let months = change.units.map(\.description).joined(separator: ", ")
                report.note = change.units.isEmpty && change.tables.isEmpty ? "nothing changed"
                    : "replaced \(change.replaced.count) and added \(change.added.count) partitions of each of the fact and bridges"
                      + (months.isEmpty ? "" : " (\(months))") + "; republished \(change.tables.isEmpty ? "no other table" : change.tables.joined(separator: ", "))"
                phase("compare")
                let done = try IncrementalPublish.run(change, main: main, names: names, target: target, byName: byName, plan: plan,
                                                      record: record, options: options, phase: phase)
                report.tables = done.tables
                report.partitions = done.partitions
                try? main.execute("SELECT pg_advisory_unlock_all()")
                return report
            case .full(let reason):
                report.note = "full rebuild: " + reason
            }
        }
        try names.create(.staging, main)
        do {
            try main.execute("SET search_path = \(staging.quoted); SET jit = off; SET synchronous_commit = off")
            for table in WarehouseDDL.partitionedTables {
                guard let schema = WarehouseDDL.schema(of: table) else { continue }
                // The DEFAULT partition now: created during the load, it would wait for the lock
                // every other partition's transaction holds on the parent.
                try main.execute([WarehouseDDL.createTable(table, schema: schema, partitioned: true), WarehouseDDL.createDefaultPartition(table)])
            }
            phase("prepare")

            // 3. Load: every table and month partition in its own transaction (created there,
            //    so COPY FREEZE applies), its key and indexes built right after its data.
            var jobs: [LoadJob] = []
            var emptyDefaults: [String] = []
            for (table, schema) in Warehouse.tables {
                guard let batch = byName[table] else { continue }
                if WarehouseDDL.isPartitioned(table) {
                    for unit in units {
                        jobs.append(partitionJob(table, unit: unit, batch: batch, rows: plan.rows(of: table, in: unit),
                                                 dimensionKeys: true, encounterKey: true))
                    }
                    let outside = plan.outOfRange(of: table)
                    if !outside.isEmpty { jobs.append(defaultPartitionJob(table, batch: batch, rows: outside)) }
                    emptyDefaults += outside.isEmpty ? [table] : []
                    report.partitions += units.count
                } else {
                    var after: [String] = []
                    if let pk = WarehouseDDL.primaryKey(table) { after.append(pk) }
                    after += WarehouseDDL.indexes.filter { $0.table == table }.map(WarehouseDDL.createIndex)
                    jobs.append(LoadJob(table: table,
                                        before: [WarehouseDDL.createTable(table, schema: schema, partitioned: false)],
                                        batch: batch, rows: identity(batch.rowCount), freeze: true, after: after))
                }
            }
            let recordBatch = record.batch
            jobs.append(LoadJob(table: PublishRecord.table, before: PublishRecord.createTable(), batch: recordBatch,
                                rows: identity(recordBatch.rowCount), freeze: true, after: []))
            let setup = ["SET search_path = \(staging.quoted)", "SET maintenance_work_mem = '256MB'", "SET jit = off",
                         // Staging work is thrown away on a crash anyway: no fsync wait per commit.
                         "SET synchronous_commit = off"]
            // Dimensions (and the small aggregates) first, so each month partition can check its
            // keys to them right after its COPY, while the other connection loads the next month.
            // Then the fact's months, then the bridges' months, each bridge month checking its
            // key to the fact month right after its COPY as well.
            let phases = [jobs.filter { !$0.isPartition },
                          jobs.filter { $0.isPartition && !WarehouseDDL.encounterBridges.contains($0.parent) },
                          jobs.filter { $0.isPartition && WarehouseDDL.encounterBridges.contains($0.parent) }]
            var stats: [TableLoadStats] = []
            for phaseJobs in phases {
                stats += try CopyLoader.runParallel(phaseJobs, workers: options.connections, target: target, setup: setup,
                                                    blockBytes: options.blockBytes, applicationName: options.applicationName)
            }
            report.tables = mergeStats(stats)
            phase("load")

            // 4. Attach month partitions (their range CHECK spares the scan), then the parents'
            //    keys and indexes adopt the partitions' own, then foreign keys, comments, function.
            //    All in one round trip.
            var attach = ["BEGIN"]
            for table in WarehouseDDL.partitionedTables {
                attach += units.map { WarehouseDDL.attachPartition(table, unit: $0) }
                if let pk = WarehouseDDL.primaryKey(table) { attach.append(pk) }
                attach += WarehouseDDL.indexes.filter { $0.table == table }.map(WarehouseDDL.createIndex)
            }
            // An empty DEFAULT partition got its key and indexes from the parents' just now; a
            // bridge's still needs its key to the fact's.
            attach += WarehouseDDL.encounterBridges.filter(emptyDefaults.contains).map { WarehouseDDL.unitForeignKey($0, unit: nil) }
            try main.execute(attach + ["COMMIT"])
            phase("attach")
            try main.execute(WarehouseDDL.foreignKeys.map(WarehouseDDL.createForeignKey))
            phase("foreign keys")
            // The function's body names the live schema, which does not hold these tables yet.
            try main.execute((WarehouseDDL.comments() + ["SET check_function_bodies = off", WarehouseDDL.refreshFunction(liveSchema: live),
                                                         "RESET check_function_bodies"]).joined(separator: ";\n"))
            try CopyLoader.runStatementsParallel(Warehouse.tables.map { ["ANALYZE \($0.name)"] }, workers: options.connections,
                                                 target: target, setup: setup, applicationName: options.applicationName)
            phase("analyze")

            try options.beforeSwap?(main, staging)

            // 5. The swap.
            try swap(main, names)
            phase("swap")
        } catch {
            // Leave the live schema as it was; drop what we built if the connection still works.
            names.abandon(.staging, main)
            throw error
        }
        // The old schema is unreachable by its live name now; drop it outside the swap so the
        // swap never waits for readers still using it. A leftover is dropped by the next run.
        try? main.execute("SELECT pg_advisory_unlock_all()")
        if options.waitForOldSchemaDrop {
            try? main.execute("DROP SCHEMA IF EXISTS \(old.quoted) CASCADE")
            phase("drop old")
        } else {
            try? main.sendWithoutWaiting("DROP SCHEMA IF EXISTS \(old.quoted) CASCADE")
        }
        return report
    }

    // MARK: steps

    /// Every warehouse table present once, with the contract's columns and types.
    static func checkedTables(_ tables: [(name: String, batch: Batch)],
                              required: [String] = Warehouse.tables.map(\.name)) throws -> [String: Batch] {
        var byName: [String: Batch] = [:]
        for (name, batch) in tables {
            guard let expected = WarehouseDDL.schema(of: name) else {
                throw PublishError(.usage, "\(name) is not a warehouse table (expected one of: \(Warehouse.tables.map(\.name).joined(separator: ", ")))")
            }
            guard byName[name] == nil else { throw PublishError(.usage, "table \(name) given twice") }
            let got = batch.schema.fields.map { "\($0.name) \($0.type)" }
            let want = expected.fields.map { "\($0.name) \($0.type)" }
            guard got == want else {
                throw PublishError(.usage, "table \(name) has columns (\(got.joined(separator: ", "))), expected (\(want.joined(separator: ", ")))")
            }
            for (field, column) in zip(batch.schema.fields, batch.columns) where expected[field.name]?.nullable == false {
                if column.nullCount > 0 {
                    throw PublishError(.invalidData, "table \(name), column \(field.name): \(column.nullCount) NULLs in a NOT NULL column")
                }
            }
            try BinaryCopyEncoder.validate(batch, table: name)
            byName[name] = batch
        }
        let missing = required.filter { byName[$0] == nil }
        guard missing.isEmpty else { throw PublishError(.usage, "missing warehouse tables: \(missing.joined(separator: ", "))") }
        return byName
    }

    /// One month of a partitioned table as a standalone table: created with its range CHECK
    /// (so ATTACH needs no scan), filled with COPY FREEZE, then given its primary key and
    /// the parent's indexes (so the parent's adopt them).
    ///
    /// With `dimensionKeys`, the partition also gets the parent's foreign keys to the
    /// dimensions (checked now, on data still in cache); the parent's keys adopt them later
    /// without checking again. The dimensions must be loaded already.
    static func partitionJob(_ table: String, unit: PartitionUnit, batch: Batch, rows: [Int32], dimensionKeys: Bool,
                             encounterKey: Bool = false, carry: [String] = []) -> LoadJob {
        let p = unit.name(table)
        let b = unit.bounds
        return LoadJob(table: p,
                       before: ["CREATE TABLE \(p) (LIKE \(table), CONSTRAINT \(p)_range CHECK (date_key >= \(b.from) AND date_key < \(b.to)))"],
                       batch: batch, rows: rows, freeze: true,
                       after: carry + partitionKeys(table, unit: unit, dimensionKeys: dimensionKeys, encounterKey: encounterKey),
                       isPartition: true, parent: table)
    }

    /// The DEFAULT partition (rows of no valid month), keyed like a month partition.
    static func defaultPartitionJob(_ table: String, batch: Batch, rows: [Int32]) -> LoadJob {
        LoadJob(table: WarehouseDDL.defaultPartitionName(table), before: [],
                batch: batch, rows: rows, freeze: false,
                after: partitionKeys(table, unit: nil, dimensionKeys: true, encounterKey: true), isPartition: true, parent: table)
    }

    /// Primary key, indexes and (optionally) foreign keys of one partition (nil month = DEFAULT).
    static func partitionKeys(_ table: String, unit: PartitionUnit?, dimensionKeys: Bool, encounterKey: Bool) -> [String] {
        let p = unit.map { $0.name(table) } ?? WarehouseDDL.defaultPartitionName(table)
        var after: [String] = []
        if let key = WarehouseDDL.primaryKeys[table] {
            after.append("ALTER TABLE \(p) ADD CONSTRAINT \(p)_pkey PRIMARY KEY (\(key.joined(separator: ", ")))")
        }
        after += WarehouseDDL.indexes.filter { $0.table == table }.map {
            "CREATE INDEX \(p)_\($0.columns.joined(separator: "_"))_idx ON \(p) (\($0.columns.joined(separator: ", ")))"
        }
        if dimensionKeys { after += dimensionForeignKeys(table, partition: p) }
        if encounterKey && WarehouseDDL.encounterBridges.contains(table) {
            after.append(WarehouseDDL.unitForeignKey(table, unit: unit))
        }
        return after
    }

    /// The partition `partition`'s keys to the dimensions (unqualified: the search_path finds them),
    /// always in the same order (that of `foreignKeys`), so two connections never deadlock.
    static func dimensionForeignKeys(_ table: String, partition p: String) -> [String] {
        WarehouseDDL.foreignKeys.filter { $0.table == table }.map { fk in
            "ALTER TABLE \(p) ADD CONSTRAINT \(p)_\(fk.columns.joined(separator: "_"))_fkey FOREIGN KEY (\(fk.columns.joined(separator: ", "))) REFERENCES \(fk.references) (\(fk.referencedColumns.joined(separator: ", ")))"
        }
    }

    /// Renames live → old and staging → live (each re-marked) in one transaction that first
    /// takes every live table's ACCESS EXCLUSIVE lock (so no reader's statement straddles the
    /// swap). It gives up the locks after a short lock_timeout and retries, so readers never
    /// deadlock with it. The live schema is checked again inside the transaction: only a
    /// schema marked as this live warehouse is renamed away.
    static func swap(_ c: PostgresConnection, _ names: ManagedSchemas) throws {
        let live = names.live
        let liveTables: (PostgresConnection) throws -> [String] = { c in
            try c.query("""
                SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                """, [live.name]).rows.compactMap { $0.first ?? nil }
        }
        try c.withExclusiveTableLocks(liveTables) {
            let state = try names.state(of: live, c)
            if state != .absent { try names.claimLive(c) }
            try c.execute(names.swapStatements(liveExists: state != .absent))
        }
    }

    /// One group per month (both bridges' keys to that month's fact partition, in order, as
    /// they lock the same fact partition); months run in parallel.
    static func unitForeignKeyGroups(_ units: [PartitionUnit], includeDefault: Bool) -> [[String]] {
        var groups = units.map { u in WarehouseDDL.encounterBridges.map { WarehouseDDL.unitForeignKey($0, unit: u) } }
        if includeDefault { groups.append(WarehouseDDL.encounterBridges.map { WarehouseDDL.unitForeignKey($0, unit: nil) }) }
        return groups
    }

    /// The partitions of the live fact (their bridges have the same), from the catalog.
    static func liveUnits(_ c: PostgresConnection, live: SQLIdentifier) throws -> [PartitionUnit] {
        let rows = try c.query("""
            SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = $1 AND p.relname = $2
            """, [live.name, Warehouse.factEncounters]).rows
        var units: [PartitionUnit] = []
        for row in rows {
            guard let bound = row.first ?? nil, bound != "DEFAULT" else { continue }
            // FOR VALUES FROM (20150100) TO (20150200)
            let numbers = bound.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count == 2, let unit = PartitionUnit(from: numbers[0], to: numbers[1]) else {
                throw PublishError(.usage, "schema \(live.name): a partition of \(Warehouse.factEncounters) has bounds \(bound), not whole months")
            }
            units.append(unit)
        }
        return units.sorted()
    }

    static func identity(_ n: Int) -> [Int32] { (0..<Int32(truncatingIfNeeded: n)).map { $0 } }

    /// Sums the stats of a table's partitions into one line per table.
    static func mergeStats(_ stats: [TableLoadStats]) -> [TableLoadStats] {
        var order: [String] = []
        var merged: [String: TableLoadStats] = [:]
        for s in stats {
            let table = WarehouseDDL.partitionedTables.first { s.table.hasPrefix($0 + "_p") || s.table == WarehouseDDL.defaultPartitionName($0) } ?? s.table
            if var m = merged[table] {
                m.rows += s.rows
                m.bytes += s.bytes
                m.seconds += s.seconds
                merged[table] = m
            } else {
                order.append(table)
                merged[table] = TableLoadStats(table: table, rows: s.rows, bytes: s.bytes, seconds: s.seconds)
            }
        }
        return Warehouse.tables.compactMap { merged[$0.name] }
    }
}
