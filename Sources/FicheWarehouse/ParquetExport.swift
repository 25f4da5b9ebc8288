// `fiche export`: lake tables out as Parquet, in the layout engines read as datasets.
//
//   <out>/<table>/part-0.parquet                                 every table but the three below
//   <out>/fact_encounters/year=2015/month=01/part-0.parquet      Hive partitions by date_key month
//   <out>/bridge_encounter_procedure/year=…/month=…/part-0.parquet
//   <out>/bridge_encounter_diagnosis/year=…/month=…/part-0.parquet
//   <out>/_SUCCESS                                               the manifest (JSON), written last
//
// Every table is read from one snapshot taken when the export starts (or as of `--version`),
// chunk by chunk: a lake chunk becomes a row group (or, partitioned, one row group per month
// it holds), so memory stays at about one chunk whatever the table's size.

import FicheLake
import FicheModel
import Foundation

/// Named groups of lake tables.
public enum ExportTables {
    /// The clinical model (the build's input).
    public static let clinical = [ClinicalModel.facilities, ClinicalModel.patients, ClinicalModel.encounters,
                                  ClinicalModel.procedures, ClinicalModel.diagnosisCodes, ClinicalModel.diagnoses,
                                  ClinicalModel.reports]
    /// The key registry (stable surrogate keys), which a rebuild elsewhere needs to give the same keys.
    public static let keys = [KeyRegistryTables.patients, KeyRegistryTables.facilities, KeyRegistryTables.encounters,
                              KeyRegistryTables.procedures, KeyRegistryTables.diagnoses]
    /// The warehouse's eleven tables.
    public static let warehouse = Warehouse.tables.map(\.name)
    /// Tables written as Hive partitions by the month of their `date_key` (YYYYMMDD).
    public static let partitionedByMonth: Set<String> = [Warehouse.factEncounters, Warehouse.bridgeEncounterProcedure,
                                                         Warehouse.bridgeEncounterDiagnosis]

    /// The schema a table has by definition, for a known table the lake has not written yet
    /// (so it exports as an empty file of the right shape).
    static func knownSchema(_ name: String) -> Schema? {
        if let s = ClinicalModel.tables.first(where: { $0.name == name })?.schema { return s }
        if let s = Warehouse.tables.first(where: { $0.name == name })?.schema { return s }
        switch name {
        case KeyRegistryTables.patients: return KeyRegistryTables.patientSchema
        case KeyRegistryTables.facilities: return KeyRegistryTables.facilitySchema
        case KeyRegistryTables.encounters: return KeyRegistryTables.encounterSchema
        case KeyRegistryTables.procedures: return KeyRegistryTables.procedureSchema
        case KeyRegistryTables.diagnoses: return KeyRegistryTables.diagnosisSchema
        default: return nil
        }
    }
}

public struct ParquetExportRequest: Sendable {
    public var tables: [String]
    public var directory: String
    /// Each table as of this commit version instead of its latest.
    public var version: Int?
    public var options: ParquetWriteOptions

    public init(tables: [String], directory: String, version: Int? = nil, options: ParquetWriteOptions = ParquetWriteOptions()) {
        self.tables = tables
        self.directory = directory
        self.version = version
        self.options = options
    }
}

public struct ExportedFile: Sendable, Codable {
    /// Relative to the export folder.
    public var path: String
    public var rows: Int
    public var bytes: Int
}

public struct ExportedTable: Sendable, Codable {
    public var table: String
    /// The table's lake version that was exported (0: the lake has no such table yet).
    public var lakeVersion: Int
    public var rows: Int
    public var partitionedBy: [String]?
    public var files: [ExportedFile]

    public var bytes: Int { files.reduce(0) { $0 + $1.bytes } }

    enum CodingKeys: String, CodingKey {
        case table, rows, files
        case lakeVersion = "lake_version"
        case partitionedBy = "partitioned_by"
    }
}

public struct ParquetExportReport: Sendable {
    public var directory: String
    public var tables: [ExportedTable]
    public var seconds: Double
    public var rows: Int { tables.reduce(0) { $0 + $1.rows } }
    public var bytes: Int { tables.reduce(0) { $0 + $1.bytes } }
    public var fileCount: Int { tables.reduce(0) { $0 + $1.files.count } }
}

/// The manifest written last as `<out>/_SUCCESS`.
struct ExportManifest: Codable {
    var format = "parquet"
    var ficheVersion: String
    var createdAt: String
    var lake: String
    var uuidAs: String
    var compression: String
    var tables: [ExportedTable]

    enum CodingKeys: String, CodingKey {
        case format, lake, tables, compression
        case ficheVersion = "fiche_version"
        case createdAt = "created_at"
        case uuidAs = "uuid_as"
    }
}

public enum ParquetExport {
    public static let manifestName = "_SUCCESS"

    /// Exports `request.tables` from `lake`. The output folder must be missing or empty.
    /// `progress` hears (table, rows written so far, rows of the table).
    public static func run(lake: Lake, _ request: ParquetExportRequest,
                           progress: ((String, Int, Int) -> Void)? = nil) throws -> ParquetExportReport {
        let start = Date()
        var names: [String] = []
        for t in request.tables where !names.contains(t) { names.append(t) }
        guard try OutputFiles.isMissingOrEmpty(request.directory) else {
            throw WarehouseError("\(request.directory) is not empty; export into a new or empty folder")
        }
        // One snapshot of every table before anything is written.
        let snapshots = try lake.snapshots(of: names, version: request.version)
        for snap in snapshots where snap.schema == nil && ExportTables.knownSchema(snap.table.name) == nil {
            throw WarehouseError("the lake at \(lake.root) has no table `\(snap.table.name)` (`fiche ls` lists them)")
        }
        try OutputFiles.makeDirectories(request.directory)

        // Tables are written two at a time (one per core, largest first), as a table's
        // columns alone rarely keep both cores busy; each table reads its chunks ahead.
        let order = snapshots.indices.sorted { snapshots[$0].bytes > snapshots[$1].bytes }
        var results = [Result<ExportedTable, Error>?](repeating: nil, count: snapshots.count)
        let lock = NSLock()
        var taken = 0
        var failed = false
        let report: ((String, Int, Int) -> Void)? = progress.map { hear in
            { name, done, total in lock.lock(); hear(name, done, total); lock.unlock() }
        }
        DispatchQueue.concurrentPerform(iterations: min(2, max(1, snapshots.count))) { _ in
            while true {
                lock.lock()
                guard !failed, taken < order.count else { lock.unlock(); return }
                let k = order[taken]
                taken += 1
                lock.unlock()
                let result = Result { try exportTable(snapshots[k], request, progress: report) }
                lock.lock()
                results[k] = result
                if case .failure = result { failed = true }
                lock.unlock()
            }
        }
        var tables: [ExportedTable] = []
        for r in results {
            if let r { tables.append(try r.get()) }  // the first failure, in table order
        }

        let manifest = ExportManifest(ficheVersion: FicheVersion.current, createdAt: ISO8601DateFormatter().string(from: start),
                                      lake: lake.root.hasPrefix("/") ? lake.root : FileManager.default.currentDirectoryPath + "/" + lake.root,
                                      uuidAs: request.options.uuidAs.rawValue,
                                      compression: request.options.codec == .zstd ? "zstd" : "none", tables: tables)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var bytes = Array(try encoder.encode(manifest))
        bytes.append(UInt8(ascii: "\n"))
        try OutputFiles.writeAtomically(bytes, to: request.directory + "/" + manifestName)
        return ParquetExportReport(directory: request.directory, tables: tables, seconds: Date().timeIntervalSince(start))
    }

    /// Writes one table of the snapshot; `progress` as for `run`.
    static func exportTable(_ snap: TableSnapshot, _ request: ParquetExportRequest,
                            progress: ((String, Int, Int) -> Void)?) throws -> ExportedTable {
        let name = snap.table.name
        let schema = snap.schema ?? ExportTables.knownSchema(name)!
        let folder = request.directory + "/" + name
        try OutputFiles.makeDirectories(folder)
        var exported = ExportedTable(table: name, lakeVersion: snap.version, rows: 0,
                                     partitionedBy: nil, files: [])
        let total = snap.rowCount
        progress?(name, 0, total)
        if ExportTables.partitionedByMonth.contains(name), schema["date_key"]?.type == .int32 {
            exported.partitionedBy = ["year", "month"]
            var writer = MonthPartitionWriter(folder: folder, schema: schema, options: request.options)
            do {
                try snap.forEachChunkReadingAhead { batch in
                    try writer.write(batch)
                    exported.rows += batch.rowCount
                    progress?(name, exported.rows, total)
                }
                try writer.finish()
                if writer.files.isEmpty {
                    // No rows: one empty file still gives readers the schema.
                    let info = try ParquetFileWriter(path: folder + "/part-0.parquet", schema: schema,
                                                     options: request.options).finish()
                    writer.adopt(relativePath: "part-0.parquet", info)
                }
            } catch {
                writer.abandon()
                throw error
            }
            exported.files = writer.files.map { f in
                ExportedFile(path: name + "/" + f.relativePath, rows: f.info.rows, bytes: f.info.bytes)
            }
        } else {
            let writer = try ParquetFileWriter(path: folder + "/part-0.parquet", schema: schema, options: request.options)
            try snap.forEachChunkReadingAhead { batch in
                try writer.write(batch)
                exported.rows += batch.rowCount
                progress?(name, exported.rows, total)
            }
            let info = try writer.finish()
            exported.files = [ExportedFile(path: name + "/part-0.parquet", rows: info.rows, bytes: info.bytes)]
        }
        return exported
    }
}

/// Writes a table's rows into `year=YYYY/month=MM/part-N.parquet` by the month of
/// `date_key`: each chunk's rows are grouped by month (a counting sort, order kept within
/// a month) and each group becomes a row group of that month's open file.
struct MonthPartitionWriter {
    struct Finished {
        var relativePath: String
        var info: ParquetFileInfo
    }

    let folder: String
    let schema: Schema
    let options: ParquetWriteOptions
    /// At most this many files open at once; past it every open file is finished and later
    /// rows of those months go to part-1, part-2, …
    let maxOpen = 200
    private var open: [Int32: (writer: ParquetFileWriter, relativePath: String)] = [:]
    private var nextPart: [Int32: Int] = [:]
    private(set) var files: [Finished] = []

    init(folder: String, schema: Schema, options: ParquetWriteOptions) {
        self.folder = folder
        self.schema = schema
        self.options = options
    }

    mutating func write(_ batch: Batch) throws {
        guard let column = batch.column("date_key"), case .int32(let keys) = column.values else {
            throw WarehouseError("`date_key` of \(folder) is not an int32 column")
        }
        let n = batch.rowCount
        guard n > 0 else { return }
        // Months as year * 12 + month - 1, dense from the smallest.
        var months = [Int32](repeating: 0, count: n)
        var lo = Int32.max, hi = Int32.min
        keys.withUnsafeBufferPointer { k in
            months.withUnsafeMutableBufferPointer { m in
                for i in 0..<n {
                    let ym = k[i] / 100
                    let v = (ym / 100) * 12 + (ym % 100) - 1
                    m[i] = v
                    lo = min(lo, v)
                    hi = max(hi, v)
                }
            }
        }
        guard Int(hi) - Int(lo) < 1 << 20 else {
            throw WarehouseError("`date_key` of \(folder) spans more than 87,000 years; is it YYYYMMDD?")
        }
        let span = Int(hi - lo) + 1
        var starts = [Int](repeating: 0, count: span + 1)
        for v in months { starts[Int(v - lo) + 1] += 1 }
        for s in 0..<span { starts[s + 1] += starts[s] }
        var order = [Int32](repeating: 0, count: n)
        var fill = starts
        for i in 0..<n {
            let s = Int(months[i] - lo)
            order[fill[s]] = Int32(i)
            fill[s] += 1
        }
        for s in 0..<span where starts[s + 1] > starts[s] {
            let rows = Array(order[starts[s]..<starts[s + 1]])
            let part = rows.count == n
                ? batch
                : Batch(schema: batch.schema, columns: batch.columns.map { $0.gathered(rows) }, rowCount: rows.count)
            try writer(month: lo + Int32(s)).write(part)
        }
    }

    private mutating func writer(month: Int32) throws -> ParquetFileWriter {
        if let w = open[month] { return w.writer }
        if open.count >= maxOpen { try finishOpen() }
        let year = month / 12, m = month % 12 + 1
        let dir = "year=\(year)/month=\(m < 10 ? "0" : "")\(m)"
        try OutputFiles.makeDirectories(folder + "/" + dir)
        let part = nextPart[month, default: 0]
        nextPart[month] = part + 1
        let relative = dir + "/part-\(part).parquet"
        let w = try ParquetFileWriter(path: folder + "/" + relative, schema: schema, options: options)
        open[month] = (w, relative)
        return w
    }

    private mutating func finishOpen() throws {
        for month in open.keys.sorted() {
            let (w, relative) = open[month]!
            files.append(Finished(relativePath: relative, info: try w.finish()))
        }
        open = [:]
    }

    /// Finishes every open file (months in order).
    mutating func finish() throws {
        try finishOpen()
        files.sort { $0.relativePath < $1.relativePath }
    }

    mutating func adopt(relativePath: String, _ info: ParquetFileInfo) {
        files.append(Finished(relativePath: relativePath, info: info))
    }

    mutating func abandon() {
        for (_, w) in open { w.writer.abandon() }
        open = [:]
    }
}
