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
              fiche generate --days 1        # one more day of the clinic already in the lake

            With --days N, the clinic in the lake goes on for N more days (after 2024-12-31, or \
            after the last day a previous --days reached): its patients come back as often as they \
            used to (busier in the rainy seasons, quiet at weekends), and a few new patients join \
            each day (about 0.05% of the first population). The same seed and lake give the same \
            rows; --days 2 then --days 3 gives what --days 5 gives. Memory stays bounded by one \
            block of patients.
            """)

    @OptionGroup var lakeOptions: LakeOptions

    @Option(help: ArgumentHelp("Random seed; the same seed gives the same data (default: \(SyntheticClinic.defaultSeed); with --days, the lake's).",
                               valueName: "n"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Continue the lake's synthetic clinic by N more days instead: new visits of its patients and a few new patients, dated after the last generated day.",
                               valueName: "n"))
    var days: Int?

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

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if let days {
            guard (1...SyntheticContinuation.maxDays).contains(days) else {
                throw ValidationError(SyntheticContinuationError.invalidDays(days).description)
            }
            if replace || dryRun { throw ValidationError("--days continues the clinic in the lake: it combines with neither --replace nor --dry-run") }
        }
        do {
            _ = try SyntheticClinic(seed: seed ?? SyntheticClinic.defaultSeed, patients: patients, facilities: facilities, blockPatients: blockPatients)
        } catch {
            throw ValidationError(error.description)
        }
        if dryRun && replace { throw ValidationError("--dry-run writes nothing, so it does not combine with --replace") }
    }

    func run() throws {
        if let days {
            try continueClinic(days: days)
            return
        }
        let clinic = try SyntheticClinic(seed: seed ?? SyntheticClinic.defaultSeed, patients: patients, facilities: facilities, blockPatients: blockPatients)
        let showProgress = Terminal.stderrIsTTY && clinic.blockCount > 1
        let progress = { (done: Int, total: Int) in
            guard showProgress else { return }
            FileOutput.standardError.write("\rgenerating: block \(done)/\(total)")
        }
        if dryRun {
            report(clinic.dryRun(progress: progress), showProgress: showProgress)
            return
        }
        try recordedRun("generate", lakeRoot: lakeOptions.root, options: runOptions) { run in
            let summary = try write(clinic, progress: progress, showProgress: showProgress)
            for r in summary.rows { run.rows[r.table] = r.rows }
            run.stage("generate", seconds: summary.generateSeconds)
            run.stage("write", seconds: summary.writeSeconds)
            report(summary, showProgress: showProgress)
        }
    }

    /// `--days N`: the lake's clinic, N days further.
    private func continueClinic(days: Int) throws {
        try recordedRun("generate", lakeRoot: lakeOptions.root, options: runOptions) { run in
            let summary: SyntheticWriteSummary
            do {
                let lake = try lakeOptions.open()
                let state = try SyntheticContinuation.state(of: lake, blockPatients: blockPatients)
                if let seed, seed != state.clinic.seed {
                    throw SyntheticContinuationError.seedMismatch(lake: state.clinic.seed, given: seed)
                }
                let continuation = try SyntheticContinuation(clinic: state.clinic, basePatients: state.basePatients,
                                                             after: state.lastDay, days: days)
                summary = try continuation.write(to: lake)
                if !json {
                    FileOutput.standardOutput.write("continued the synthetic clinic by \(days) day\(days == 1 ? "" : "s"): "
                        + "\(CivilDate.text(Int64(continuation.firstDay)))..\(CivilDate.text(Int64(continuation.lastDay))), "
                        + "\(Terminal.count(continuation.patientsAfter - state.clinic.patients)) new patients\n")
                }
            } catch let e as SyntheticContinuationError {
                throw CommandFailure("generate: \(e)")
            }
            for r in summary.rows { run.rows[r.table] = r.rows }
            run.stage("generate", seconds: summary.generateSeconds)
            run.stage("write", seconds: summary.writeSeconds)
            report(summary, showProgress: false)
        }
    }

    private func write(_ clinic: SyntheticClinic, progress: @escaping (Int, Int) -> Void, showProgress: Bool) throws -> SyntheticWriteSummary {
        let summary: SyntheticWriteSummary
        do {
            summary = try clinic.write(to: try lakeOptions.openOrCreate(), replace: replace, progress: progress)
            if showProgress { FileOutput.standardError.write("\r\u{1B}[K") }
        } catch {
            if showProgress { FileOutput.standardError.write("\n") }
            throw error
        }
        return summary
    }

    private func report(_ summary: SyntheticWriteSummary, showProgress: Bool) {
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
        let number = JSONText.number
        let object: [String: Any] = [
            "seed": s.seed, "patients": s.patients, "facilities": s.facilities, "blocks": s.blocks,
            "written": s.written, "replaced": s.replaced,
            "rows": Dictionary(s.rows.map { ($0.table, $0.rows) }, uniquingKeysWith: { first, _ in first }),
            "total_rows": s.totalRows, "bytes": s.bytes, "wall_seconds": number(s.wallSeconds),
            "generate_seconds": number(s.generateSeconds), "write_seconds": number(s.writeSeconds),
            "encounters_per_second": number(rate(s.encounters, s.wallSeconds)),
            "rows_per_second": number(rate(s.totalRows, s.wallSeconds)),
            "generate_rows_per_second": number(rate(s.totalRows, s.generateSeconds)),
            "write_rows_per_second": number(rate(s.totalRows, s.writeSeconds)),
        ]
        return JSONText.document(object)
    }
}
