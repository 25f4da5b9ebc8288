import ArgumentParser
import FicheLake
import FichePublish
import FicheWarehouse
import Foundation

/// Where the published warehouse lives: shared by publish, rebuild and report.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL URL or conninfo (default: $DATABASE_URL, else libpq's PG* variables and ~/.pgpass).",
        valueName: "url"))
    var database: String?

    @Option(name: .long, help: "The schema readers query.")
    var schema: String = "warehouse"

    @Flag(name: .long, help: "Also publish the clinical model (patients, encounters, …, the PadChest staging table and an audit log of the lake's commits) into --normalized-schema.")
    var includeNormalized = false

    @Option(name: .long, help: "The schema of the clinical model with --include-normalized.")
    var normalizedSchema: String = "clinical"

    var target: DatabaseTarget { DatabaseTarget.resolve(explicit: database) }

    /// With --include-normalized, publishes the lake's clinical tables too.
    func publishNormalized(_ lake: Lake, options: PublishOptions, json: Bool) throws {
        guard includeNormalized else { return }
        let report = try NormalizedPublisher.publish(tables: try NormalizedPublisher.read(lake), schema: normalizedSchema,
                                                     to: target, options: options)
        printPublishReport(report, json: json)
    }

    /// What every publishing command starts from: this schema, the lock wait of `lock`, and
    /// progress lines (on a terminal) under `command`'s name.
    func publishOptions(_ command: String, lock: LockOptions) -> PublishOptions {
        var options = PublishOptions()
        options.schema = schema
        options.waitForLock = !lock.noWait
        options.progress = progressPrinter(command)
        return options
    }

    func validate() throws {
        for (flag, name) in [("--schema", schema), ("--normalized-schema", normalizedSchema)] where !SQLIdentifier.isValid(name) {
            throw ValidationError("\(flag) must be 1-63 characters of a-z, 0-9 and _, not starting with a digit")
        }
        if includeNormalized && normalizedSchema == schema {
            throw ValidationError("--normalized-schema must differ from --schema")
        }
    }
}

/// `--no-wait`: what a publisher does when another holds the publishing lock.
struct LockOptions: ParsableArguments {
    @Flag(name: .long, help: "Fail at once if another publisher holds the lock, instead of waiting.")
    var noWait = false
}

/// Runs a gated publish as `command`: a failed quality gate is recorded in the run, its report
/// printed (text or JSON), and the command fails naming it.
func reportingGateFailure(_ command: String, run: RunRecorder, json: Bool, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as QualityGateFailure {
        run.record(e.report)
        printQualityReport(e.report, json: json)
        throw CommandFailure("\(command): \(e)")
    }
}

/// Progress lines go to stderr, and only when it is a terminal.
func progressPrinter(_ command: String) -> (@Sendable (String) -> Void)? {
    guard isatty(STDERR_FILENO) == 1 else { return nil }
    return { line in FileHandle.standardError.write(Data("\(command): \(line)\n".utf8)) }
}

/// A publishing failure as the command's failure (one line on stderr, exit 1).
@available(*, deprecated, message: "throw the error itself: FailureReport (Fiche.main) names the command")
func fail(_ command: String, _ error: Error) -> Error {
    if error is CommandFailure { return error }
    return CommandFailure("\(command): \(error)")
}

/// The publish summary: one line per table, then the phases; or JSON.
func printPublishReport(_ report: PublishReport, json: Bool) {
    if json {
        let object: [String: Any] = [
            "schema": report.schema,
            "mode": report.mode,
            "note": report.note ?? "",
            "partitions": report.partitions,
            "rows": report.totalRows,
            "bytes": report.totalBytes,
            "tables": report.tables.map { ["table": $0.table, "rows": $0.rows, "bytes": $0.bytes, "seconds": $0.seconds] },
            "phases": report.phases.map { ["phase": $0.name, "seconds": $0.seconds] },
        ]
        print(JSONText.document(object))
        return
    }
    let total = report.phases.reduce(0) { $0 + $1.seconds }
    let partitions = report.partitions > 0 ? ", \(report.partitions) month partitions" : ""
    if let note = report.note { print("\(report.mode): \(note)") }
    print("published \(report.totalRows) rows (\(report.totalBytes / 1_000_000) MB of COPY data\(partitions)) to schema \(report.schema) in \(String(format: "%.2f", total)) s")
    let rows = report.tables.map { [$0.table, String($0.rows), String(format: "%.1f", Double($0.bytes) / 1e6), String(format: "%.2f", $0.seconds)] }
    print(ReportFormatter.table(QueryResult(columns: ["table", "rows", "MB", "seconds"], rows: rows)), terminator: "")
    print(report.phases.map { "\($0.name) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", "))
}

struct PublishCommand: ParsableCommand, NamesItselfInEveryFailure {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the warehouse tables of the lake to PostgreSQL.",
        discussion: """
            Reads the warehouse tables `fiche build` wrote into the lake and loads them with binary \
            COPY over two connections into a fresh staging schema; builds keys, indexes and \
            statistics there; then swaps it with the live schema in one short transaction. Readers \
            see the old warehouse or the new one, never a partial one; a failure leaves the old one.

            With --backfill, replaces only the given months of fact_encounters and the bridges \
            (and adds new dimension rows) in the live schema, atomically; other months are untouched.

            Before loading, the quality gates (`fiche check`; <lake>/checks.toml) judge the \
            warehouse tables against the lake as it is now (an audit build in memory gives the \
            lake's row accounting; a warehouse older than the lake's clinical tables fails the \
            reconciliation), and the loaded row counts are checked before the swap. A failed \
            check of severity error leaves the live warehouse untouched and exits 1. Backfills \
            are not gated. Every run is recorded in the run log (`fiche runs`).

            Examples:
              fiche publish --database postgresql://fiche@127.0.0.1:5433/fiche
              fiche publish --backfill 2015-01..2016-12
              fiche publish --print-ddl > sql/warehouse.sql
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @OptionGroup var db: DatabaseOptions

    @Option(name: .long, help: ArgumentHelp("Replace only these months: YYYY-MM or YYYY-MM..YYYY-MM.", valueName: "months"))
    var backfill: String?

    @OptionGroup var runOptions: RunOptions

    @Flag(name: .customLong("skip-checks"), help: "Publish without the quality gates (the run log records the flag): for a warehouse that was not built from this lake.")
    var skipChecks = false

    @OptionGroup var lock: LockOptions

    @Flag(name: .long, help: "With --include-normalized: publish only the clinical model, not the warehouse.")
    var normalizedOnly = false

    @Flag(name: .long, help: "Print the warehouse DDL (sql/warehouse.sql) and exit.")
    var printDdl = false

    @Option(name: .long, help: ArgumentHelp(
        "Publish nothing: time our COPY of each table against the server's own COPY FROM a file of the same rows, written to <dir> (which the server must be able to read).",
        valueName: "dir"))
    var compareServerCopy: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --compare-server-copy: loads of each table per side, alternating; medians are reported (this machine's timings vary by ±10% from one load to the next).",
        valueName: "n"))
    var compareRuns = 5

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func validate() throws {
        if normalizedOnly && !db.includeNormalized {
            throw ValidationError("--normalized-only needs --include-normalized")
        }
        if let backfill, MonthRange.parse(backfill) == nil {
            throw ValidationError("--backfill takes YYYY-MM or YYYY-MM..YYYY-MM (e.g. 2015-01..2016-12), got \(backfill)")
        }
        if !(1...99).contains(compareRuns) {
            throw ValidationError("--compare-runs takes 1 to 99, got \(compareRuns)")
        }
    }

    func run() throws {
        if printDdl {
            print(WarehouseDDL.script(liveSchema: try SQLIdentifier(db.schema)), terminator: "")
            return
        }
        let options = db.publishOptions("publish", lock: lock)
        let lake = try lakeOptions.open()
        if let dir = compareServerCopy {
            let tables = try WarehouseLakeReader.read(lake)
            printComparison(try ServerCopyComparison.run(tables: tables, to: db.target, directory: dir, runs: compareRuns, progress: options.progress))
            return
        }
        try recordedRun("publish", lakeRoot: lakeOptions.root, options: runOptions) { run in
            try reportingGateFailure("publish", run: run, json: json) {
                try publish(lake, options: options, run: run)
            }
        }
    }

    /// The publish itself: the clinical model only, a backfill (not gated: the gates judge a
    /// whole warehouse), or the whole warehouse behind the quality gates.
    private func publish(_ lake: Lake, options: PublishOptions, run: RunRecorder) throws {
        if normalizedOnly {
            try db.publishNormalized(lake, options: options, json: json)
            return
        }
        if let backfill, let months = MonthRange.parse(backfill) {
            let tables = try WarehouseLakeReader.read(lake, months: months)
            let report = try WarehousePublisher.publishBackfill(tables: tables, months: months, to: db.target, options: options)
            run.record(report.phases.map { (stage: $0.name, seconds: $0.seconds) })
            for t in report.tables { run.rows[t.table] = t.rows }
            printPublishReport(report, json: json)
        } else if skipChecks {
            let report = try WarehousePublisher.publish(tables: try WarehouseLakeReader.read(lake), to: db.target, options: options)
            run.record(report.phases.map { (stage: $0.name, seconds: $0.seconds) })
            for t in report.tables { run.rows[t.table] = t.rows }
            printPublishReport(report, json: json)
        } else {
            let result = try GatedPublish.publishStored(lake: lake, to: db.target, options: options,
                                                        config: try QualityConfig.load(lake: lake),
                                                        history: RunHistory.factRows(lake))
            run.record(result)
            if !json { print(result.quality.text(), terminator: "") }
            printPublishReport(result.publish, json: json)
        }
        try db.publishNormalized(lake, options: options, json: json)
    }

    private func printComparison(_ rows: [CopyComparison]) {
        let totalOurs = rows.reduce(0) { $0 + $1.oursSeconds }, totalServer = rows.reduce(0) { $0 + $1.serverSeconds }
        if json {
            let object: [String: Any] = [
                "tables": rows.map { ["table": $0.table, "rows": $0.rows, "bytes": $0.bytes, "ours_seconds": $0.oursSeconds, "server_seconds": $0.serverSeconds] },
                "ours_seconds": totalOurs, "server_seconds": totalServer,
            ]
            print(JSONText.document(object))
            return
        }
        var lines = rows.map { r in
            [r.table, String(r.rows), String(format: "%.1f", Double(r.bytes) / 1e6), String(format: "%.3f", r.oursSeconds),
             String(format: "%.3f", r.serverSeconds), String(format: "%.2f", r.oursSeconds / max(r.serverSeconds, 1e-9))]
        }
        lines.append(["total", String(rows.reduce(0) { $0 + $1.rows }), String(format: "%.1f", Double(rows.reduce(0) { $0 + $1.bytes }) / 1e6),
                      String(format: "%.3f", totalOurs), String(format: "%.3f", totalServer), String(format: "%.2f", totalOurs / max(totalServer, 1e-9))])
        print(ReportFormatter.table(QueryResult(columns: ["table", "rows", "MB", "ours_s", "server_file_s", "ours/server"], rows: lines)), terminator: "")
    }
}

/// `2015-01..2016-12` → [201501, …, 201612].
enum MonthRange {
    static func parse(_ text: String) -> [Int]? {
        let parts = text.components(separatedBy: "..")
        guard (1...2).contains(parts.count), let from = month(parts[0]), let to = month(parts.last ?? ""), from <= to else { return nil }
        var out: [Int] = []
        var m = from
        while m <= to {
            out.append(m)
            m = m % 100 == 12 ? (m / 100 + 1) * 100 + 1 : m + 1
            if out.count > 12 * 200 { return nil }
        }
        return out
    }

    private static func month(_ s: String) -> Int? {
        let p = s.split(separator: "-")
        guard p.count == 2, p[0].count == 4, p[1].count == 2, let y = Int(p[0]), let m = Int(p[1]), (1...12).contains(m), y > 0 else { return nil }
        return y * 100 + m
    }
}
