import ArgumentParser
import FicheLake
import FicheSources
import FicheWarehouse
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the warehouse build stage by stage on a lake of N encounters.",
        discussion: """
            Times each stage of `fiche build` separately — read and decode (projected columns of \
            facilities, patients, encounters and diagnosis codes, plus the key registry), key \
            mapping (including the chunk-by-chunk decoding of procedures, diagnoses and reports, \
            which stream through it), fact and bridges, aggregates — over --runs runs after one discarded warm-up, and prints the median \
            seconds, input rows per second and input bytes per second of each stage, and the \
            peak memory (maximum resident set size) of one build, taken after the warm-up. Nothing is written to the lake.

            The lake is --lake if given (it must hold the clinical tables), else \
            bench-out/lake-<N>, generated on first use with `fiche generate --patients N/5.4` \
            (the synthetic clinic gives about 5.4 encounters per patient) and reused after.

            Examples:
              fiche bench --lake bench-out/lake-27k
              fiche bench --encounters 10000000 --runs 3 --json
            """)

    @Option(name: .long, help: ArgumentHelp("Lake directory (default: bench-out/lake-<encounters>).", valueName: "dir"))
    var lake: String?

    @Option(name: .long, help: "Encounters the benchmark lake holds (names the default lake).")
    var encounters = 1_000_000

    @Option(name: .long, help: "Timed runs after the warm-up (the median is reported).")
    var runs = 5

    @Flag(name: .long, help: "Print the results as JSON on stdout.")
    var json = false

    @Option(name: .customLong("export-csv"), help: ArgumentHelp(
        "Instead of timing, write the columns the build reads as one CSV per clinical table into this folder (for scripts/bench-peers).",
        valueName: "dir"))
    var exportCSV: String?

    func validate() throws {
        guard runs >= 1, encounters >= 1 else { throw ValidationError("--runs and --encounters must be at least 1") }
    }

    func run() throws {
        let root = lake ?? "bench-out/lake-\(encounters)"
        let patients = max(1, encounters * 10 / 54)
        var existing = (try? Lake(root: root, create: false)).flatMap { try? $0.table("encounters").snapshot().rowCount } ?? 0
        if existing == 0 && lake == nil {
            // The default benchmark lake is made on first use by this binary's own generator.
            if Terminal.stderrIsTTY { FileOutput.standardError.write("generating \(root) (\(patients) patients) …\n") }
            let generate = Process()
            generate.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            generate.arguments = ["generate", "--lake", root, "--patients", String(patients)]
            generate.standardOutput = FileHandle.standardError
            try generate.run()
            generate.waitUntilExit()
            guard generate.terminationStatus == 0 else {
                throw CommandFailure("bench: `fiche generate --lake \(root) --patients \(patients)` failed")
            }
            existing = (try? Lake(root: root, create: false)).flatMap { try? $0.table("encounters").snapshot().rowCount } ?? 0
        }
        guard existing > 0, let benchLake = try? Lake(root: root, create: false) else {
            throw CommandFailure("bench: no encounters in \(root); generate them first, e.g. "
                                 + "`fiche generate --lake \(root) --patients \(patients)`")
        }
        let rows = existing
        if let dir = exportCSV {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let input = try readClinicalInput(lake: benchLake)
            for (name, batch) in [("facilities", input.facilities), ("patients", input.patients), ("encounters", input.encounters),
                                  ("procedures", input.procedures), ("diagnosis_codes", input.diagnosisCodes),
                                  ("diagnoses", input.diagnoses), ("reports", input.reports)] {
                try CSVExport.write(batch, to: dir + "/" + name + ".csv")
            }
            print("wrote the clinical tables' build columns as CSV into \(dir)")
            return
        }
        let tty = Terminal.stderrIsTTY
        var samples: [[String: Double]] = []
        var tableRows: [(name: String, rows: Int)] = []
        var buildPeak = 0
        var inputRows = 0, inputBytes = 0
        for run in 0...runs {
            if tty { FileHandle.standardError.write(Data("\(run == 0 ? "warm-up" : "run \(run)/\(runs)") …\r".utf8)) }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let tables = try buildWarehouse(lake: benchLake, saveKeys: false)
            var sample: [String: Double] = [:]
            for (stage, s) in tables.report.stageSeconds { sample[stage] = s }
            sample["total"] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            inputRows = tables.report.inputRows
            inputBytes = tables.report.inputBytes
            if run > 0 { samples.append(sample) }
            tableRows = tables.tables.map { ($0.name, $0.batch.rowCount) }
            _ = consume tables
            // One build's peak: the warm-up runs in a fresh process; later runs reuse (and
            // fragment) the heap the allocator kept, which says nothing about the build.
            if run == 0 { buildPeak = peakResidentBytes() }
        }
        if tty { FileHandle.standardError.write(Data("\u{1B}[2K".utf8)) }
        let stages = ["read and decode", "key mapping", "fact and bridges", "aggregates", "total"]
        let medians = stages.map { stage in (stage, median(samples.map { $0[stage] ?? 0 })) }
        let outputRows = tableRows.reduce(0) { $0 + $1.rows }
        let peak = buildPeak
        let processPeak = peakResidentBytes()
        if json {
            let object: [String: Any] = [
                "lake": root, "encounters": rows, "runs": runs, "input_rows": inputRows, "input_bytes": inputBytes,
                "output_rows": outputRows, "peak_rss_bytes": peak, "process_peak_rss_bytes": processPeak,
                "tables": Dictionary(uniqueKeysWithValues: tableRows.map { ($0.name, $0.rows) }), "cores": ProcessInfo.processInfo.activeProcessorCount,
                "stages": medians.map { ["stage": $0.0, "median_seconds": $0.1,
                                         "rows_per_second": Double(inputRows) / max($0.1, 1e-9),
                                         "bytes_per_second": Double(inputBytes) / max($0.1, 1e-9)] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("fiche bench: \(root): \(rows) encounters, \(inputRows) input rows (\(mib(inputBytes)) MiB decoded), "
                  + "\(outputRows) warehouse rows; median of \(runs) run(s) after a warm-up")
            print("  " + "stage".padding(toLength: 18, withPad: " ", startingAt: 0) + "seconds".leftPadded(10)
                  + "M rows/s".leftPadded(12) + "MiB/s".leftPadded(10))
            for (stage, s) in medians {
                print("  " + stage.padding(toLength: 18, withPad: " ", startingAt: 0)
                      + String(format: "%10.3f%12.2f%10.0f", s, Double(inputRows) / max(s, 1e-9) / 1e6,
                               Double(inputBytes) / max(s, 1e-9) / 1_048_576))
            }
            print("  peak memory (max RSS) of one build: \(mib(peak)) MiB (of the whole process over every run: \(mib(processPeak)) MiB)")
        }
    }
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }

/// The process's peak resident set size in bytes (getrusage; Linux reports KiB).
func peakResidentBytes() -> Int {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return Int(usage.ru_maxrss) * 1024
}
