import ArgumentParser
import FicheLake
import FicheWarehouse
import Foundation

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the star-schema warehouse from the lake's clinical tables.",
        discussion: """
            Reads only the columns the warehouse needs from the clinical tables (facilities, \
            patients, encounters, procedures, diagnosis_codes, diagnoses, reports — every source \
            alike), builds dim_*, fact_encounters, the two bridges and the three mv_* aggregates \
            in memory, and writes them back into the lake as tables in one transaction, so \
            `fiche dump dim_patient` shows them and `fiche publish` loads them.

            Surrogate keys are stable: the lake keeps a key registry (tables _keys_*), so every \
            patient, facility, encounter, procedure and diagnosis keeps its key across rebuilds \
            and backfills, and the same lake always gives the same tables.

            Ages and age groups are taken at --as-of (default: the latest encounter date).

            Examples:
              fiche build
              fiche build --lake /data/lake --as-of 2024-12-31 --json
              fiche build --from 2016-01-01 --to 2016-12-31   # only that year's encounters
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Date ages are taken at.", valueName: "YYYY-MM-DD"))
    var asOf: String?

    @Option(name: .long, help: ArgumentHelp("Only encounters on or after this date.", valueName: "YYYY-MM-DD"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Only encounters on or before this date.", valueName: "YYYY-MM-DD"))
    var to: String?

    @Flag(name: .customLong("no-write"), help: "Build and report, but do not write the tables into the lake.")
    var noWrite = false

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        _ = try options()
    }

    /// The build options the flags ask for; a malformed date is a usage error (exit 2).
    func options() throws -> BuildOptions {
        var options = BuildOptions()
        do {
            options.asOf = try asOf.map { try CalendarDate.parse($0, option: "--as-of") }
            let lo = try from.map { try CalendarDate.parse($0, option: "--from") }
            let hi = try to.map { try CalendarDate.parse($0, option: "--to") }
            if lo != nil || hi != nil {
                let l = lo ?? CivilCalendar.supportedDays.lowerBound, h = hi ?? CivilCalendar.supportedDays.upperBound
                guard l <= h else { throw CalendarDate.UsageError(message: "--from is after --to") }
                options.dateRange = l...h
            }
        } catch let e as CalendarDate.UsageError {
            throw ValidationError(e.message)
        }
        return options
    }

    func run() throws {
        let options = try options()
        let lake = try lakeOptions.open()
        if Terminal.stderrIsTTY { FileOutput.standardError.write("building the warehouse from \(lake.root) …\n") }
        try recordedRun("build", lakeRoot: lake.root, options: runOptions) { run in
            // Two builds at once take turns, so the second replaces the first's tables instead
            // of failing on the conflict.
            try lake.withExclusiveLock("warehouse_build") { try build(lake, options, run) }
        }
    }

    private func build(_ lake: Lake, _ options: BuildOptions, _ run: RunRecorder) throws {
        let tables = try buildWarehouse(lake: lake, options: options)
        run.record(tables.report.stageSeconds)
        for (name, batch) in tables.tables { run.rows[name] = batch.rowCount }
        var writeSeconds = 0.0
        if !noWrite {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try writeWarehouse(tables, to: lake)
            writeSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            run.stage("write", seconds: writeSeconds)
        }
        let summary = BuildSummary(lake: lake.root, tables: tables, written: !noWrite, writeSeconds: writeSeconds)
        print(json ? summary.json : summary.text)
    }
}

/// YYYY-MM-DD ↔ days since 1970.
enum CalendarDate {
    struct UsageError: Error { var message: String }

    static func parse(_ text: String, option: String) throws -> Int32 {
        guard text.utf8.count == 10, let days = CivilDate.parse(text), CivilCalendar.supportedDays.contains(days) else {
            throw UsageError(message: "\(option) wants a calendar date as YYYY-MM-DD (0001-01-01 … 9999-12-31), got `\(text)`")
        }
        return days
    }

    static func format(_ days: Int32) -> String { CivilDate.text(Int64(days)) }
}

/// What `fiche build` prints.
struct BuildSummary {
    var lake: String
    var tables: WarehouseTables
    var written: Bool
    var writeSeconds: Double

    var counts: [(String, Int)] {
        let r = tables.report
        return [("input rows", r.inputRows), ("duplicate facilities", r.duplicateFacilities),
                ("duplicate patients", r.duplicatePatients), ("duplicate encounters", r.duplicateEncounters),
                ("encounters outside the date range", r.encountersOutsideRange),
                ("encounters without a known patient", r.encountersWithoutPatient),
                ("encounters without a known facility", r.encountersWithoutFacility),
                ("procedures without a fact encounter", r.proceduresWithoutEncounter),
                ("diagnoses without a fact encounter", r.diagnosesWithoutEncounter),
                ("diagnoses with an unknown code", r.diagnosesWithUnknownCode),
                ("reports without a fact encounter", r.reportsWithoutEncounter)]
    }

    var text: String {
        var out = "warehouse built from \(lake)"
        if let a = tables.report.asOf { out += ", ages as of \(CalendarDate.format(a))" }
        out += written ? ", written to the lake\n" : " (not written)\n"
        let width = tables.tables.map(\.name.count).max() ?? 0
        for (name, batch) in tables.tables {
            out += "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + String(batch.rowCount).leftPadded(12) + " rows\n"
        }
        for (label, n) in counts where n > 0 || label == "input rows" { out += "  \(label): \(n)\n" }
        var stages = tables.report.stageSeconds.map { "\($0.stage) \(String(format: "%.3f", $0.seconds)) s" }
        if written { stages.append("write \(String(format: "%.3f", writeSeconds)) s") }
        out += "  time: " + stages.joined(separator: ", ")
        return out
    }

    var json: String {
        var object: [String: Any] = [
            "lake": lake,
            "written": written,
            "tables": tables.tables.map { ["name": $0.name, "rows": $0.batch.rowCount] as [String: Any] },
            "stages": tables.report.stageSeconds.map { ["stage": $0.stage, "seconds": $0.seconds] as [String: Any] }
                + (written ? [["stage": "write", "seconds": writeSeconds]] : []),
            "counts": Dictionary(uniqueKeysWithValues: counts.map { ($0.0.replacingOccurrences(of: " ", with: "_"), $0.1) }),
        ]
        if let a = tables.report.asOf { object["as_of"] = CalendarDate.format(a) }
        return JSONText.document(object)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
