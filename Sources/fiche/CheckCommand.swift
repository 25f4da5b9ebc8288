import ArgumentParser
import FicheLake
import FichePublish
import FicheWarehouse
import Foundation

struct CheckCommand: ParsableCommand, NamesItselfInEveryFailure {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run the quality gates: data tests over the lake and the warehouse built from it.",
        discussion: """
            Builds the warehouse in memory from the lake (as `fiche rebuild` would; nothing is \
            written and no new key is saved) and runs the data tests `fiche rebuild` and `fiche \
            publish` run before they publish:

              not_null         no NULL in a warehouse NOT NULL column
              unique           lake ids (patients, facilities, encounters) and warehouse keys once each
              relationships    every lake foreign id resolves (encounter → patient, facility;
                               procedure, diagnosis, report → encounter; diagnosis → code), every
                               fact and bridge key is in its dimension
              accepted_values  sex, encounter_type, age_group, modality
              range            ages 0-120, no encounter before 1900 or in the future
              freshness        the newest encounter at most N days old (off by default)
              volume           the fact rows a run adds against the median of recent runs (warn)
              reconciliation   every lake row is in the warehouse or counted as a duplicate or
                               orphan; after loading, PostgreSQL's row counts equal the build's

            Rules, severities (error stops publishing, warn reports, off skips) and thresholds \
            come from <lake>/checks.toml; without it the defaults apply. `--print-config` prints \
            the defaults as a documented file to start from.

            Exit status 1 if a check of severity error fails. The report lists each failed check \
            with its table, rule, failing count and a few example rows.

            Examples:
              fiche check
              fiche check --all --lake /srv/lake
              fiche check --json | jq '.checks[] | select(.passed == false)'
              fiche check --print-config > lake/checks.toml
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @Flag(name: .long, help: "List every check, not only the failed ones.")
    var all = false

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    @Flag(name: .customLong("print-config"), help: "Print the default checks.toml, documented, and exit.")
    var printConfig = false

    func run() throws {
        if printConfig {
            print(QualityConfig.documentedDefaults, terminator: "")
            return
        }
        let lake = try lakeOptions.open()
        let config = try QualityConfig.load(lake: lake)
        if Terminal.stderrIsTTY { FileOutput.standardError.write("check: building the warehouse from \(lake.root) in memory …\n") }
        let built = try buildWarehouse(lake: lake, options: BuildOptions(), saveKeys: false)
        let report = try QualityGate.run(QualityGate.Input(lake: lake, tables: built.tables, build: built.report,
                                                            history: RunHistory.factRows(lake)),
                                      config: config)
        if json {
            print(report.json)
        } else {
            let buildSeconds = built.report.stageSeconds.reduce(0) { $0 + $1.seconds }
            print(report.text(all: all), terminator: "")
            print(String(format: "(the in-memory build took %.2f s)", buildSeconds))
        }
        if !report.passed {
            throw CommandFailure("check: \(report.errors.count) check\(report.errors.count == 1 ? "" : "s") of severity error failed")
        }
    }
}

/// Prints a gate report: the whole text report, or JSON.
func printQualityReport(_ report: QualityReport, json: Bool) {
    print(json ? report.json : report.text(), terminator: json ? "\n" : "")
}

/// What the volume check compares with: fact rows after each recent successful publish.
enum RunHistory {
    static func factRows(_ lake: Lake) -> [Int] {
        RunLog.rowsAfterSuccessfulRuns(lake, table: Warehouse.factEncounters, commands: ["rebuild", "publish"])
    }
}
