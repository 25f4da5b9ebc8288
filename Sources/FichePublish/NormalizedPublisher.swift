// `--include-normalized`: the clinical model (the original operational schema) published as
// it sits in the lake, with an audit log built from the lake's commit log, into its own
// schema — through the same staging-and-swap path as the warehouse.

import FicheLake
import FicheModel
import Foundation

/// One table of the clinical model to publish: a lake table, streamed chunk by chunk (the
/// normalized tables at 10M encounters hold more text than memory should), or rows built here.
public struct NormalizedTable: Sendable {
    public enum Rows: Sendable {
        case lake(TableSnapshot)
        case batch(Batch)
    }

    public var name: String
    public var rows: Rows

    public var schema: Schema {
        switch rows {
        case .lake(let snapshot): snapshot.schema ?? Schema([])
        case .batch(let batch): batch.schema
        }
    }
}

public enum NormalizedPublisher {
    /// Indexes on the id and join columns, where a table has them.
    static let indexedColumns = ["facility_id", "patient_id", "encounter_id", "procedure_id", "diagnosis_id", "report_id", "code"]

    /// The clinical tables the lake holds (every table of the clinical model, the PadChest
    /// staging table, the quarantine) plus `audit_log`, one row per lake commit. Lake tables
    /// are named by their snapshot here, all taken at one instant (an ingest committing
    /// meanwhile is published whole or not at all), and read while they load.
    public static func read(_ lake: Lake) throws -> [NormalizedTable] {
        var out: [NormalizedTable] = []
        var commits: [Commit] = []
        let names = ClinicalModel.tables.map(\.name) + [ClinicalModel.padchest]
        for (name, snapshot) in zip(names, try lake.snapshots(of: names)) {
            commits += snapshot.history
            guard snapshot.version > 0, snapshot.schema != nil else { continue }
            out.append(NormalizedTable(name: name, rows: .lake(snapshot)))
        }
        out.append(NormalizedTable(name: "audit_log", rows: .batch(auditLog(commits))))
        return out
    }

    static let auditLogSchema = Schema([
        Field("table_name", .string, nullable: false), Field("version", .int64, nullable: false),
        Field("operation", .string, nullable: false), Field("source", .string, nullable: false),
        Field("user_name", .string, nullable: false), Field("host", .string, nullable: false),
        Field("pid", .int32, nullable: false), Field("committed_at", .timestamp),
        Field("transaction_id", .string), Field("rows_added", .int64, nullable: false),
        Field("rows_removed", .int64, nullable: false),
    ])

    static func auditLog(_ commits: [Commit]) -> Batch {
        let sorted = commits.sorted { ($0.time, $0.table, $0.version) < ($1.time, $1.table, $1.version) }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let isoWhole = ISO8601DateFormatter()
        var times: [Int64] = [], valid = Bitmap(), tx = StringArray(), txValid = Bitmap()
        for c in sorted {
            if let d = iso.date(from: c.time) ?? isoWhole.date(from: c.time) {
                times.append(Int64((d.timeIntervalSince1970 * 1_000_000).rounded()))
                valid.append(true)
            } else {
                times.append(0)
                valid.append(false)
            }
            tx.append(c.transaction ?? "")
            txValid.append(c.transaction != nil)
        }
        return Batch(schema: auditLogSchema, columns: [
            Column(.string(StringArray(sorted.map(\.table)))), Column(.int64(sorted.map { Int64($0.version) })),
            Column(.string(StringArray(sorted.map(\.operation)))), Column(.string(StringArray(sorted.map(\.source)))),
            Column(.string(StringArray(sorted.map(\.user)))), Column(.string(StringArray(sorted.map(\.host)))),
            Column(.int32(sorted.map(\.pid))), Column(.timestamp(times), validity: valid),
            Column(.string(tx), validity: txValid), Column(.int64(sorted.map { Int64($0.rowsAdded) })),
            Column(.int64(sorted.map { Int64($0.rowsRemoved) })),
        ])
    }

    /// Publishes `tables` as the new content of `schema` (staging, load, indexes, ANALYZE, swap).
    @discardableResult
    public static func publish(tables: [NormalizedTable], schema: String, to target: DatabaseTarget,
                               options: PublishOptions = PublishOptions()) throws -> PublishReport {
        let live = try SQLIdentifier(schema)
        let names = ManagedSchemas(live, kind: .clinical)
        let staging = names.staging
        var report = PublishReport(schema: live.name)
        var clock = DispatchTime.now()
        func phase(_ name: String) { report.endPhase(name, clock: &clock, progress: options.progress, label: live.name + " ") }
        var jobs: [LoadJob] = []
        for t in tables {
            let table = try SQLIdentifier(t.name)
            let schema = t.schema
            for f in schema.fields { _ = try SQLIdentifier(f.name) }
            let indexes = schema.names.filter(indexedColumns.contains).map {
                "CREATE INDEX \(t.name)_\($0)_idx ON \(table.quoted) (\($0))"
            }
            let before = [WarehouseDDL.createTable(table.quoted, schema: schema, partitioned: false)]
            let after = indexes + ["ANALYZE \(table.quoted)"]
            switch t.rows {
            case .lake(let snapshot):
                // Checked chunk by chunk as it loads; a bad value aborts the staging schema.
                jobs.append(LoadJob(table: table, before: before, streaming: snapshot, freeze: true, after: after))
            case .batch(let batch):
                try BinaryCopyEncoder.validate(batch, table: t.name)
                jobs.append(LoadJob(table: table.quoted, before: before, batch: batch,
                                    rows: WarehousePublisher.identity(batch.rowCount), freeze: true, after: after, label: t.name))
            }
        }
        phase("validate")
        let main = try PostgresConnection(target, applicationName: options.applicationName)
        defer { main.close() }
        try names.lock(main, roles: [.live, .staging, .old], wait: options.waitForLock)
        // Only schemas Fiche provably made are replaced or dropped; anything else stops here.
        try names.claimLive(main)
        try names.clearLeftover(.staging, main)
        try names.clearLeftover(.old, main)
        try names.create(.staging, main)
        do {
            let setup = ["SET search_path = \(staging.quoted)", "SET maintenance_work_mem = '256MB'", "SET jit = off",
                         // Staging work is thrown away on a crash anyway: no fsync wait per commit.
                         "SET synchronous_commit = off"]
            report.tables = try CopyLoader.runParallel(jobs, workers: options.connections, target: target, setup: setup,
                                                       blockBytes: options.blockBytes, applicationName: options.applicationName)
            phase("load")
            try WarehousePublisher.swap(main, names)
            phase("swap")
        } catch {
            names.abandon(.staging, main)
            throw error
        }
        names.dropIfOurs(.old, main)
        try? main.execute("SELECT pg_advisory_unlock_all()")
        return report
    }
}
