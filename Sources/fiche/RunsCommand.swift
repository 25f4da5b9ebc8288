import ArgumentParser
import FicheLake
import Foundation

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the recorded runs of ingest, generate, build, rebuild and publish.",
        discussion: """
            Every run of `fiche ingest`, `generate`, `build`, `rebuild` and `publish` appends one \
            JSON line to <lake>/_runs/runs.jsonl (append-only, private to its owner, never a \
            credential): start and end time, the command line, the lake versions it read and \
            wrote, rows per table, stage durations, the quality gates' results, outcome and error. \
            This lists them, oldest first; --json prints the records themselves.

            Examples:
              fiche runs --last 7
              fiche runs --failed
              fiche runs --json --last 1 | jq '.[0].stages'
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @Option(name: .long, help: ArgumentHelp("Only the last N runs.", valueName: "n"))
    var last: Int?

    @Flag(name: .long, help: "Only the runs that failed.")
    var failed = false

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    func validate() throws {
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        let lake = try lakeOptions.open()
        let (all, skipped) = try RunLog.read(lake)
        var records = failed ? all.filter { !$0.succeeded } : all
        if let last { records = Array(records.suffix(last)) }
        if json {
            print(try JSONText.document(encoding: records))
            return
        }
        if records.isEmpty {
            print(all.isEmpty ? "no runs recorded in \(RunLog.path(lake)) yet" : "no run matches")
        } else {
            let rows = records.map { r -> [String] in
                let errors = r.gates.filter { !$0.passed && $0.severity == "error" }.count
                let warnings = r.gates.filter { !$0.passed && $0.severity == "warn" }.count
                var gates = r.gates.isEmpty ? "-" : "\(r.gates.count - errors - warnings) ok"
                if errors > 0 { gates += ", \(errors) error\(errors == 1 ? "" : "s")" }
                if warnings > 0 { gates += ", \(warnings) warn" }
                let rows = r.rows["fact_encounters"].map { "\(Terminal.count($0)) fact" }
                    ?? r.rows[ "encounters"].map { "\(Terminal.count($0)) encounters" } ?? "-"
                var error = (r.error ?? "").replacingOccurrences(of: "\n", with: " ")
                if error.count > 70 { error = String(error.prefix(69)) + "…" }
                return [String(r.start.prefix(19)).replacingOccurrences(of: "T", with: " "), r.command, r.outcome,
                        String(format: "%.1f", r.seconds), rows, gates, error]
            }
            print(Terminal.table(["start (UTC)", "command", "outcome", "seconds", "rows", "gates", "error"], rows,
                                 rightAligned: [3, 4]), terminator: "")
        }
        if skipped > 0 {
            FileOutput.standardError.write("fiche: warning: \(skipped) line\(skipped == 1 ? "" : "s") of \(RunLog.path(lake)) could not be read (a torn write?)\n")
        }
    }
}
