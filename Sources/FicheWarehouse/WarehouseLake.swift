// The build against a lake: read only the needed columns of the clinical tables (both cores,
// one table per worker), keep the key registry in `_keys_*` tables (append-only), and write
// the warehouse back as lake tables in one transaction.

import Dispatch
import FicheLake
import FicheModel

/// The lake tables that hold the key registry.
public enum KeyRegistryTables {
    public static let patients = "_keys_patient"
    public static let facilities = "_keys_facility"
    public static let encounters = "_keys_encounter"
    public static let procedures = "_keys_procedure"
    public static let diagnoses = "_keys_diagnosis"

    static func idSchema(_ id: String, _ key: String) -> Schema {
        Schema([Field(id, .uuid, nullable: false), Field(key, .int64, nullable: false)])
    }
    static func codeSchema(_ code: String, _ key: String) -> Schema {
        Schema([Field(code, .string, nullable: false), Field(key, .int64, nullable: false)])
    }
    static let patientSchema = idSchema("patient_id", "patient_key")
    static let facilitySchema = idSchema("facility_id", "facility_key")
    static let encounterSchema = idSchema("encounter_id", "encounter_key")
    static let procedureSchema = codeSchema("procedure_code", "procedure_key")
    static let diagnosisSchema = codeSchema("diagnosis_code", "diagnosis_key")
    static let all = [patients, facilities, encounters, procedures, diagnoses]
}

/// Reads the key registry from the lake (empty where a table was never written), from
/// `snapshots` where they hold its tables (taken with the build's input), else the latest.
public func loadKeyRegistry(lake: Lake, snapshots: [String: TableSnapshot] = [:]) throws -> KeyRegistry {
    func read(_ table: String, _ schema: Schema) throws -> Batch? {
        let snap = try snapshots[table] ?? lake.table(table).snapshot()
        guard snap.schema != nil else { return nil }
        return try snap.readAll(columns: schema.names)
    }
    func keys<E>(_ table: String, _ schema: Schema) throws -> KeyRegistry.Keys<E> {
        guard let b = try read(table, schema) else { return KeyRegistry.Keys() }
        let r = ColumnReader(table: table, batch: b)
        let keys = try r.column(schema.fields[1].name, of: .int64)
        guard case .int64(let k) = keys.values,
              let entries = E(try r.nonNullValues(schema.fields[0].name, of: E.columnType)) else { return KeyRegistry.Keys() }
        return KeyRegistry.Keys(entries: entries, keys: k)
    }
    var registry = KeyRegistry()
    registry.patients = try keys(KeyRegistryTables.patients, KeyRegistryTables.patientSchema)
    registry.facilities = try keys(KeyRegistryTables.facilities, KeyRegistryTables.facilitySchema)
    registry.encounters = try keys(KeyRegistryTables.encounters, KeyRegistryTables.encounterSchema)
    registry.procedures = try keys(KeyRegistryTables.procedures, KeyRegistryTables.procedureSchema)
    registry.diagnoses = try keys(KeyRegistryTables.diagnoses, KeyRegistryTables.diagnosisSchema)
    return registry
}

/// Appends the registry's new entries to the lake in one transaction (nothing if none).
public func saveKeyRegistry(_ registry: inout KeyRegistry, to lake: Lake) throws {
    guard registry.newCount > 0 else { return }
    let txn = LakeTransaction(lake: lake, source: "warehouse", operation: "keys")
    func save<E>(_ k: KeyRegistry.Keys<E>, _ table: String, _ schema: Schema) throws {
        guard k.newCount > 0 else { return }
        try txn.append(Batch(schema: schema, columns: [Column(k.entries.values(from: k.storedCount)),
                                                       Column(.int64(Array(k.keys[k.storedCount...])))]), to: table)
    }
    try save(registry.patients, KeyRegistryTables.patients, KeyRegistryTables.patientSchema)
    try save(registry.facilities, KeyRegistryTables.facilities, KeyRegistryTables.facilitySchema)
    try save(registry.encounters, KeyRegistryTables.encounters, KeyRegistryTables.encounterSchema)
    try save(registry.procedures, KeyRegistryTables.procedures, KeyRegistryTables.procedureSchema)
    try save(registry.diagnoses, KeyRegistryTables.diagnoses, KeyRegistryTables.diagnosisSchema)
    try txn.commit()
    registry.markStored()
}

/// Reads the projected clinical tables (all seven, in memory), two at a time. With a date
/// range, encounter chunks whose encounter_date min/max lies outside it are skipped.
public func readClinicalInput(lake: Lake, dateRange: ClosedRange<Int32>? = nil) throws -> ClinicalInput {
    let names = ClinicalInput.columns.map(\.table)
    let b = try readTables(Dictionary(uniqueKeysWithValues: zip(names, try lake.snapshots(of: names))), names, dateRange: dateRange)
    return ClinicalInput(facilities: b[0], patients: b[1], encounters: b[2], procedures: b[3],
                         diagnosisCodes: b[4], diagnoses: b[5], reports: b[6])
}

/// The projected columns of the named clinical tables (from `snapshots`), in that order: every
/// chunk of every table goes through one queue that both cores take from (largest tables
/// first), then each table's chunks are joined column by column.
func readTables(_ snapshots: [String: TableSnapshot], _ names: [String], dateRange: ClosedRange<Int32>?) throws -> [Batch] {
    var sources: [TableChunks] = []
    for name in names {
        let columns = ClinicalInput.columns.first { $0.table == name }?.columns ?? []
        var prune: ChunkPrune?
        if name == ClinicalModel.encounters, let r = dateRange {
            prune = ChunkPrune(column: "encounter_date", range: Int64(r.lowerBound)...Int64(r.upperBound))
        }
        guard let snapshot = snapshots[name] else { throw WarehouseError("no snapshot of table \(name)") }
        sources.append(TableChunks(table: name, snapshot: snapshot, columns: columns, prune: prune))
    }
    var tasks: [(table: Int, chunk: Int)] = []
    for t in sources.indices.sorted(by: { sources[$0].count > sources[$1].count }) {
        for i in 0..<sources[t].count { tasks.append((t, i)) }
    }
    let slots = TaskSlots<Batch>(tasks.count)
    let next = WorkCounter()
    let taskList = tasks, chunkSources = sources
    Workers.run(min(Workers.count, max(1, tasks.count))) { _ in
        while true {
            let k = next.increment()
            if k >= taskList.count { return }
            let (t, i) = taskList[k]
            do {
                slots.set(k, try chunkSources[t].chunk(i))
            } catch {
                slots.fail(k, error)
            }
        }
    }
    if let e = slots.firstError() { throw e }
    var out: [Batch] = []
    for t in sources.indices {
        // Tasks of one table were queued in chunk order.
        var parts: [Batch] = []
        for (k, task) in tasks.enumerated() where task.table == t {
            if let b = slots.take(k) { parts.append(b) }
        }
        out.append(parts.isEmpty ? ClinicalInput.emptyBatch(names[t]) : concatenateReleasing(&parts))
    }
    return out
}

/// Builds the warehouse from the lake's clinical tables: reads the projected columns of
/// facilities, patients, encounters and diagnosis_codes (two tables at a time) and the key
/// registry, then streams procedures, diagnoses and reports chunk by chunk through the build
/// (only dense integer columns of them stay in memory). New keys are appended to the registry
/// tables before returning, unless `saveKeys` is false (benchmarks, audits).
///
/// Every table is read as of one instant (`Lake.snapshots`), so an ingest committing meanwhile
/// is in the build entirely or not at all. A build that saves keys holds the lake lock
/// `key_registry` from reading the registry to saving it: two builds at once take turns, and
/// neither registers the other's new keys a second time (or hands one key to two entities).
public func buildWarehouse(lake: Lake, options: BuildOptions = BuildOptions(), saveKeys: Bool = true) throws -> WarehouseTables {
    guard saveKeys else { return try buildWarehouseFromSnapshots(lake: lake, options: options, saveKeys: false) }
    return try lake.withExclusiveLock("key_registry") {
        try buildWarehouseFromSnapshots(lake: lake, options: options, saveKeys: true)
    }
}

private func buildWarehouseFromSnapshots(lake: Lake, options: BuildOptions, saveKeys: Bool) throws -> WarehouseTables {
    let start = DispatchTime.now().uptimeNanoseconds
    let clinical = ClinicalInput.columns.map(\.table)
    let names = clinical + KeyRegistryTables.all
    let snapshots = Dictionary(uniqueKeysWithValues: zip(names, try lake.snapshots(of: names)))
    let dims = try readTables(snapshots, [ClinicalModel.facilities, ClinicalModel.patients, ClinicalModel.encounters,
                                          ClinicalModel.diagnosisCodes], dateRange: options.dateRange)
    var registry = try loadKeyRegistry(lake: lake, snapshots: snapshots)
    func chunks(_ table: String) throws -> TableChunks {
        let columns = ClinicalInput.columns.first { $0.table == table }?.columns ?? []
        guard let snapshot = snapshots[table] else { throw WarehouseError("no snapshot of table \(table)") }
        return TableChunks(table: table, snapshot: snapshot, columns: columns)
    }
    let procedures = try chunks(ClinicalModel.procedures)
    let diagnoses = try chunks(ClinicalModel.diagnoses)
    let reports = try chunks(ClinicalModel.reports)
    let read = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    traceMemory("read")
    var builder = WarehouseBuilder(options: options)
    var tables = try builder.build(facilities: dims[0], patients: dims[1], encounters: dims[2], diagnosisCodes: dims[3],
                                   procedures: procedures, diagnoses: diagnoses, reports: reports, registry: &registry)
    tables.report.stageSeconds.insert(("read and decode", read), at: 0)
    for name in clinical { tables.report.lakeRows[name] = snapshots[name]?.rowCount ?? 0 }
    if saveKeys {
        let saveStart = DispatchTime.now().uptimeNanoseconds
        try saveKeyRegistry(&registry, to: lake)
        tables.report.stageSeconds.append(("save keys", Double(DispatchTime.now().uptimeNanoseconds - saveStart) / 1e9))
    }
    return tables
}

/// Writes every warehouse table into the lake, replacing its previous contents, in one
/// transaction: readers see the old warehouse or the new one.
public func writeWarehouse(_ tables: WarehouseTables, to lake: Lake) throws {
    let txn = LakeTransaction(lake: lake, source: "warehouse", operation: "build")
    for (name, batch) in tables.tables {
        try txn.replaceAll(name)
        try txn.append(batch, to: name)
    }
    try txn.commit()
}

/// The chunks' rows as one batch, column by column, dropping each column from the chunks as
/// soon as it is copied: the peak is the table plus one column, not twice the table.
func concatenateReleasing(_ parts: inout [Batch]) -> Batch {
    guard let first = parts.first else { return Batch(schema: Schema([]), columns: []) }
    if parts.count == 1 { return first }
    let schema = first.schema
    let rows = parts.reduce(0) { $0 + $1.rowCount }
    var columns: [Column] = []
    for (c, field) in schema.fields.enumerated() {
        var pieces: [Column] = []
        pieces.reserveCapacity(parts.count)
        for i in parts.indices {
            pieces.append(parts[i].columns[c])
            parts[i].columns[c] = Column(.zeros(field.type, count: 0))
        }
        columns.append(Column.concatenate(pieces, type: field.type))
    }
    parts = []
    return Batch(schema: schema, columns: columns, rowCount: rows)
}

/// A counter behind a semaphore, for handing out work items to workers.
final class WorkCounter: @unchecked Sendable {
    private var value = 0
    private let lock = DispatchSemaphore(value: 1)
    func increment() -> Int {
        lock.wait()
        defer { lock.signal() }
        let v = value
        value += 1
        return v
    }
}
