import ArgumentParser
import FicheLake
import FicheSources

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

    @OptionGroup var lakeOptions: LakeOptions

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

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        do {
            _ = try SyntheticClinic(seed: seed, patients: patients, facilities: facilities, blockPatients: blockPatients)
        } catch {
            throw ValidationError(error.description)
        }
        if dryRun && replace { throw ValidationError("--dry-run writes nothing, so it does not combine with --replace") }
    }

    func run() throws {
        let clinic = try SyntheticClinic(seed: seed, patients: patients, facilities: facilities, blockPatients: blockPatients)
        let showProgress = Terminal.stderrIsTTY && clinic.blockCount > 1
        let progress = { (done: Int, total: Int) in
            guard showProgress else { return }
            FileOutput.standardError.write("\rgenerating: block \(done)/\(total)")
        }
        let summary: SyntheticWriteSummary
        do {
            if dryRun {
                summary = clinic.dryRun(progress: progress)
            } else {
                summary = try clinic.write(to: try lakeOptions.openOrCreate(), replace: replace, progress: progress)
            }
            if showProgress { FileOutput.standardError.write("\r\u{1B}[K") }
        } catch {
            if showProgress { FileOutput.standardError.write("\n") }
            throw error
        }
        let out = FileOutput.standardOutput
        out.write(json ? Self.json(summary) + "\n" : Self.text(summary))
        out.flush()
    }

    static func rate(_ n: Int, _ seconds: Double) -> Double { seconds > 0 ? Double(n) / seconds : 0 }

    static func text(_ s: SyntheticWriteSummary) -> String {
        let verb = !s.written ? "dry run (nothing written):" : s.replaced ? "replaced synthetic data with" : "generated"
        var out = "\(verb) seed \(s.seed), \(Terminal.count(s.patients)) patients, \(s.facilities) facilities, "
            + "\(s.blocks) block\(s.blocks == 1 ? "" : "s")\n"
        out += Terminal.table(["table", "rows"], s.rows.map { [$0.table, Terminal.count($0.rows)] } + [["total", Terminal.count(s.totalRows)]],
                              rightAligned: [1])
        let millions = { (x: Double) in x >= 1e6 ? String(format1: x / 1e6) + "M" : String(format1: x / 1e3) + "k" }
        let secs = { (x: Double) in String(Int((x * 1000).rounded())) + " ms" }
        if s.written {
            out += "wrote \(Terminal.bytes(s.bytes)) in \(secs(s.wallSeconds)) "
                + "(generating \(secs(s.generateSeconds)), overlapped with writing \(secs(s.writeSeconds)))\n"
        } else {
            out += "generated in \(secs(s.wallSeconds))\n"
        }
        out += "\(millions(rate(s.encounters, s.wallSeconds))) encounters/s, \(millions(rate(s.totalRows, s.wallSeconds))) rows/s"
        if s.written {
            out += " (generating alone \(millions(rate(s.totalRows, s.generateSeconds))) rows/s, "
                + "writing alone \(millions(rate(s.totalRows, s.writeSeconds))) rows/s)"
        }
        return out + "\n"
    }

    static func json(_ s: SyntheticWriteSummary) -> String {
        func number(_ x: Double) -> String { x.isFinite ? String(x) : "0" }
        let rows = s.rows.map { "\($0.table.jsonQuoted):\($0.rows)" }.joined(separator: ",")
        let fields = [
            "\"seed\":\(s.seed)", "\"patients\":\(s.patients)", "\"facilities\":\(s.facilities)", "\"blocks\":\(s.blocks)",
            "\"written\":\(s.written)", "\"replaced\":\(s.replaced)", "\"rows\":{\(rows)}", "\"total_rows\":\(s.totalRows)",
            "\"bytes\":\(s.bytes)", "\"wall_seconds\":\(number(s.wallSeconds))",
            "\"generate_seconds\":\(number(s.generateSeconds))", "\"write_seconds\":\(number(s.writeSeconds))",
            "\"encounters_per_second\":\(number(rate(s.encounters, s.wallSeconds)))",
            "\"rows_per_second\":\(number(rate(s.totalRows, s.wallSeconds)))",
            "\"generate_rows_per_second\":\(number(rate(s.totalRows, s.generateSeconds)))",
            "\"write_rows_per_second\":\(number(rate(s.totalRows, s.writeSeconds)))",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}
