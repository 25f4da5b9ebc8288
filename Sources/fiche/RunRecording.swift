import ArgumentParser
import FicheLake
import FichePublish
import FicheWarehouse
import Foundation

/// `--metrics-file`, shared by the commands that record runs.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "Also write the run's outcome as Prometheus metrics to this file (for node_exporter's textfile collector).",
        discussion: "Written to PATH.tmp, then renamed onto PATH: name a *.prom file in the collector's folder.",
        valueName: "path"))
    var metricsFile: String?
}

/// Runs `body` as one run of `command`: its record (times, arguments without credentials, lake
/// versions, rows, stages, gates, outcome) is appended to the lake's run log, and with
/// --metrics-file written as metrics, whether it succeeds or fails.
func recordedRun(_ command: String, lakeRoot: String, options: RunOptions, _ body: (RunRecorder) throws -> Void) throws {
    let recorder = RunRecorder(command: command, arguments: Array(CommandLine.arguments.dropFirst()), lakeRoot: lakeRoot)
    var failure: Error?
    do {
        try body(recorder)
    } catch {
        failure = error
    }
    let (record, appendError) = recorder.finish(error: failure)
    if let appendError {
        FileOutput.standardError.write("fiche: warning: the run was not recorded in the run log: \(appendError)\n")
    }
    if let path = options.metricsFile {
        do {
            try RunMetrics.write(record, lastSuccessEnd: RunMetrics.lastSuccessEnd(record, lake: try? Lake(root: lakeRoot, create: false)),
                                 to: path)
        } catch {
            if failure == nil { failure = CommandFailure("\(command): the run succeeded but its metrics could not be written: \(error)") }
        }
    }
    if let failure { throw failure }
}

extension RunRecorder {
    /// The quality gates' results, one entry per check.
    func record(_ report: QualityReport) {
        gates = report.results.map {
            RunGate(check: $0.name, rule: $0.rule.rawValue, table: $0.table, severity: $0.severity.rawValue,
                    failing: $0.failing, passed: $0.passed)
        }
        stage("checks", seconds: report.seconds)
    }

    /// A gated publish: build stages, checks, publishing phases, rows and gates.
    func record(_ result: GatedPublishResult) {
        record(result.buildStages)
        record(result.quality)
        record(result.publish.phases.map { (stage: $0.name, seconds: $0.seconds) })
        for r in result.rows { rows[r.table] = r.rows }
    }

    func record(_ stages: [(stage: String, seconds: Double)]) {
        for s in stages { stage(s.stage, seconds: s.seconds) }
    }
}

/// The run log records a failure as the message the user saw.
extension CommandFailure: CustomStringConvertible {
    var description: String { message }
}
