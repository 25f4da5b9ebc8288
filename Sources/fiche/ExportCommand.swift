import ArgumentParser
import FicheLake
import FicheWarehouse
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write lake tables as Apache Parquet files that DuckDB, pandas, Polars and Spark read.",
        discussion: """
            Name tables, or take a group: --clinical (the seven clinical tables), --keys (the \
            key registry _keys_*, which a rebuild elsewhere needs for the same surrogate keys), \
            --warehouse (the eleven tables `fiche build` wrote), --all (every lake table). The \
            output folder must be new or empty; inside it each table is a folder:

              OUT/dim_patient/part-0.parquet
              OUT/fact_encounters/year=2015/month=01/part-0.parquet
              OUT/_SUCCESS    the manifest (JSON): files, rows, lake versions

            fact_encounters and both bridges are Hive partitions by the month of \
            date_key; every other table is one file. _SUCCESS is written last.

            Each lake chunk becomes a row group (zstd, dictionary-encoded where that pays, \
            min/max/null-count statistics), so engines prune by month and by value.

            Every table is read from the snapshot the lake had when the export started, even \
            while an ingest commits; --version N takes each table as of its commit N instead \
            (`fiche log TABLE` lists them). Files appear whole (written under a dot name, \
            fsynced, renamed) and are private to you (0600, folders 0700).

            uuid columns are Parquet's UUID type (16 bytes) by default. Spark 4 refuses that \
            type ("Illegal Parquet type: FIXED_LEN_BYTE_ARRAY (UUID)"): for Spark, and for any \
            reader without UUID support, use --uuid-as string (canonical lower-case text).

            Examples:
              fiche export --warehouse --out /tmp/wh
              fiche export --clinical --keys --uuid-as string --out /tmp/for-spark
              fiche export encounters --version 3 --out /tmp/enc-v3 --json
            then, in DuckDB:
              SELECT count(*) FROM read_parquet('/tmp/wh/fact_encounters/**/*.parquet',
                hive_partitioning = true) WHERE year = 2015;
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case parquet }

    @Argument(help: ArgumentHelp("Lake tables to export.", valueName: "table")) var tables: [String] = []
    @Flag(help: "Export the seven clinical tables.") var clinical = false
    @Flag(help: "Export the key registry tables (_keys_*).") var keys = false
    @Flag(help: "Export the eleven warehouse tables.") var warehouse = false
    @Flag(help: "Export every table of the lake.") var all = false
    @Option(help: ArgumentHelp("The folder to write (new or empty).", valueName: "dir")) var out: String
    @Option(help: "Output format (parquet).") var format: Format = .parquet
    @Option(help: ArgumentHelp("Export each table as of this commit version.", valueName: "N")) var version: Int?
    @Option(name: .customLong("uuid-as"),
            help: ArgumentHelp("uuid: Parquet's UUID type; string: canonical text (Spark 4 needs this).", valueName: "uuid|string"))
    var uuidAs: UUIDRepresentation = .uuid
    @Option(name: .customLong("zstd-level"), help: ArgumentHelp("zstd compression level: 1 (Arrow's default) is fastest; higher levels shrink the files slightly.", valueName: "1-19"))
    var zstdLevel = 1
    @OptionGroup var lakeOptions: LakeOptions
    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    enum UUIDRepresentation: String, ExpressibleByArgument, CaseIterable { case uuid, string }

    func validate() throws {
        if tables.isEmpty && !clinical && !keys && !warehouse && !all {
            throw ValidationError("name tables to export, or use --clinical, --keys, --warehouse or --all")
        }
        if let version, version < 1 { throw ValidationError("--version must be 1 or more") }
        if !(1...19).contains(zstdLevel) { throw ValidationError("--zstd-level must be 1 to 19") }
        for t in tables where !Lake.isValidTableName(t) {
            throw ValidationError("`\(t)` is not a table name (lower-case letters, digits and _)")
        }
    }

    func run() throws {
        let lake = try lakeOptions.open()
        var names = tables
        if all { names += try lake.tableNames() }
        if clinical { names += ExportTables.clinical }
        if keys { names += ExportTables.keys }
        if warehouse { names += ExportTables.warehouse }
        let options = ParquetWriteOptions(uuidAs: uuidAs == .uuid ? .uuid : .string, zstdLevel: zstdLevel)
        let request = ParquetExportRequest(tables: names, directory: out, version: version, options: options)
        let tty = Terminal.stderrIsTTY
        var lastReport = DispatchTime.now().uptimeNanoseconds
        let report: ParquetExportReport
        do {
            report = try ParquetExport.run(lake: lake, request) { table, done, total in
                guard tty else { return }
                let now = DispatchTime.now().uptimeNanoseconds
                guard done == 0 || done == total || now - lastReport > 250_000_000 else { return }
                lastReport = now
                FileOutput.standardError.write("\rexporting \(table): \(Terminal.count(done)) of \(Terminal.count(total)) rows\u{1B}[K")
                if done == total { FileOutput.standardError.write("\n") }
            }
        } catch let e as WarehouseError {
            throw CommandFailure(e.message)
        }
        let stdout = FileOutput.standardOutput
        if json {
            let tables = report.tables.map { t -> [String: Any] in
                ["table": t.table, "lake_version": t.lakeVersion, "rows": t.rows, "files": t.files.count, "bytes": t.bytes]
            }
            let object: [String: Any] = ["out": report.directory, "manifest": report.directory + "/" + ParquetExport.manifestName,
                                         "rows": report.rows, "files": report.fileCount, "bytes": report.bytes,
                                         "seconds": (report.seconds * 1000).rounded() / 1000, "tables": tables]
            stdout.write(JSONText.document(object) + "\n")
        } else {
            stdout.write(Terminal.table(["table", "version", "rows", "files", "bytes"], report.tables.map { t in
                [t.table, String(t.lakeVersion), Terminal.count(t.rows), Terminal.count(t.files.count), Terminal.bytes(t.bytes)]
            }, rightAligned: [1, 2, 3, 4]))
            stdout.write("exported \(Terminal.count(report.rows)) rows in \(Terminal.count(report.fileCount)) files "
                         + "(\(Terminal.bytes(report.bytes))) to \(report.directory) in \(String(format: "%.2f", report.seconds)) s\n")
        }
        stdout.flush()
    }
}
