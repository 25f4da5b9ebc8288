import ArgumentParser
import FicheLake
import FicheSources
import Foundation

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a synthetic Rwandan clinic network into the lake's clinical tables.",
        discussion: """
            Writes facilities, diagnosis_codes, patients, encounters, procedures, diagnoses and reports (source `synthetic`) in one commit: a failed run leaves the lake unchanged. A lake that already holds synthetic data is refused unless --replace is given.

            The data imitate a Rwandan network of referral hospitals, district hospitals and health centres over 2022-2024: a young population, rainy-season malaria and respiratory peaks, age-dependent ICD-10 diagnoses, CPT-coded tests and images (XR, CT, MR, US, LAB) and templated radiology and pathology reports.

            The same --seed gives the same data, byte for byte. The defaults give the original pipeline's volumes (about 27,000 encounters, 50,000 procedures and 33,000 diagnoses); --patients scales them linearly, in blocks of --block-patients patients, so memory stays bounded however many patients are generated. The summary gives encounters and rows per second, and the time spent generating and writing.

            Examples:
              fiche generate
              fiche generate --patients 1000000 --json
              fiche generate --lake /tmp/lake --seed 7 --replace
              fiche generate --patients 1000000 --dry-run
            """)

    @Option(help: "The lake folder (default: $FICHE_LAKE, else ./lake).")
    var lake: String?

    @Option(help: "Random seed; the same seed gives the same data.")
    var seed: UInt64 = SyntheticClinic.defaultSeed

    @Option(help: "Number of patients (about 5.4 encounters each).")
    var patients: Int = SyntheticClinic.defaultPatients

    @Option(help: "Number of facilities in the network (named Rwandan facilities first).")
    var facilities: Int = SyntheticClinic.defaultFacilities

    @Option(help: "Patients generated and written per block (bounds memory).")
    var blockPatients: Int = SyntheticClinic.defaultBlockPatients

    @Flag(help: "Replace synthetic data already in the lake instead of refusing.")
    var replace = false

    @Flag(help: "Generate and count the rows, but write nothing (measures the generator alone).")
    var dryRun = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    func run() throws {
        let clinic: SyntheticClinic
        do {
            clinic = try SyntheticClinic(seed: seed, patients: patients, facilities: facilities, blockPatients: blockPatients)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let showProgress = isatty(STDERR_FILENO) == 1 && clinic.blockCount > 1
        let summary: SyntheticWriteSummary
        let progress = { (done: Int, total: Int) in
            guard showProgress else { return }
            FileHandle.standardError.write(Data("\rgenerating: block \(done)/\(total)".utf8))
        }
        do {
            if dryRun {
                summary = clinic.dryRun(progress: progress)
            } else {
                summary = try clinic.write(to: try Lake(root: lake ?? Lake.defaultRoot()), replace: replace, progress: progress)
            }
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        } catch {
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(Self.json(summary))
        } else {
            print(Self.text(summary))
        }
    }

    static func rate(_ n: Int, _ seconds: Double) -> Double { seconds > 0 ? Double(n) / seconds : 0 }

    static func text(_ s: SyntheticWriteSummary) -> String {
        let verb = !s.written ? "dry run (nothing written)," : s.replaced ? "replaced with" : "generated"
        var lines = ["\(verb) seed \(s.seed): \(s.patients) patients, \(s.facilities) facilities, \(s.blocks) block(s)"]
        let width = s.rows.map(\.table.count).max() ?? 0
        for (table, rows) in s.rows {
            lines.append("  \(table.padding(toLength: width, withPad: " ", startingAt: 0))  \(rows)")
        }
        let f = { (x: Double) in String(format: "%.3f", x) }
        let m = { (x: Double) in String(format: "%.2fM", x / 1e6) }
        lines.append("  total rows \(s.totalRows), \(String(format: "%.1f", Double(s.bytes) / 1_048_576)) MiB compressed")
        lines.append("time: \(f(s.wallSeconds)) s" + (s.written ? " (generate \(f(s.generateSeconds)) s overlapped with write \(f(s.writeSeconds)) s)" : ""))
        lines.append("rate: \(m(rate(s.encounters, s.wallSeconds))) encounters/s, \(m(rate(s.totalRows, s.wallSeconds))) rows/s"
            + (s.written ? " (generate alone \(m(rate(s.totalRows, s.generateSeconds))) rows/s, write alone \(m(rate(s.totalRows, s.writeSeconds))) rows/s)" : ""))
        return lines.joined(separator: "\n")
    }

    static func json(_ s: SyntheticWriteSummary) -> String {
        var rows: [String: Int] = [:]
        for (t, n) in s.rows { rows[t] = n }
        let object: [String: Any] = [
            "seed": s.seed, "patients": s.patients, "facilities": s.facilities, "blocks": s.blocks,
            "replaced": s.replaced, "written": s.written, "rows": rows, "total_rows": s.totalRows, "bytes": s.bytes,
            "generate_seconds": s.generateSeconds, "write_seconds": s.writeSeconds, "wall_seconds": s.wallSeconds,
            "encounters_per_second": rate(s.encounters, s.wallSeconds),
            "rows_per_second": rate(s.totalRows, s.wallSeconds),
            "generate_rows_per_second": rate(s.totalRows, s.generateSeconds),
            "write_rows_per_second": rate(s.totalRows, s.writeSeconds),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
