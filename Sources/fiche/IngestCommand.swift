import ArgumentParser
import FicheLake
import FicheModel
import FicheSources
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load a source file into the lake.",
        subcommands: [IngestPadChestCommand.self])
}

struct IngestPadChestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "padchest",
        abstract: "Ingest the PadChest chest-radiograph metadata CSV (plain or .gz).",
        discussion: """
            FILE is the official PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv, as \
            distributed (scripts/fetch-padchest downloads it). Every row is either ingested, \
            reported as a duplicate (an ImageID already in the lake or earlier in the file), \
            or quarantined with its line number and reason (wrong field count, unterminated \
            quote, invalid UTF-8, unparsable date or number); the summary's counts add up.

            New rows land in the `padchest` staging table (all 36 columns, typed) and are \
            mapped into the clinical model: patients, encounters (one per patient and study, \
            at Hospital Universitario San Juan de Alicante), procedures (one per image), \
            radiology reports and diagnoses (one per label; ICD-10 where \
            the built-in padchest_label_codes.csv maps it, else a PADCHEST-FINDING code). All tables \
            are written in one lake transaction: an interrupted ingest leaves nothing behind, \
            and ingesting the same file again adds nothing.

            Examples:
              fiche ingest padchest "$(scripts/fetch-padchest)"
              fiche ingest padchest --limit 1000 FILE     # the next 1,000 new rows only
              fiche ingest padchest --json --lake /srv/lake FILE
            """)

    @Argument(help: "The PadChest CSV file, plain or gzip-compressed.")
    var file: String

    @OptionGroup var lakeOptions: LakeOptions

    @Option(help: ArgumentHelp("Ingest at most N new rows (the next N not yet in the lake).", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("zstd level of the chunk files written (1 to 19).",
                               discussion: "1, the default here, is faster than the lake's usual 3 and, on PadChest, no larger.",
                               valueName: "level"))
    var zstdLevel = PadChestIngest.defaultZstdLevel

    @OptionGroup var output: JSONOption
    var json: Bool { output.json }

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if !(1...19).contains(zstdLevel) { throw ValidationError("--zstd-level must be between 1 and 19") }
    }

    func run() throws {
        try recordedRun("ingest", lakeRoot: lakeOptions.root, options: runOptions) { run in
            let s = try ingest()
            run.rows = [ClinicalModel.padchest: s.ingested, ClinicalModel.patients: s.patients, ClinicalModel.encounters: s.encounters,
                        ClinicalModel.procedures: s.procedures, ClinicalModel.reports: s.reports, ClinicalModel.diagnoses: s.diagnoses,
                        ClinicalModel.quarantine: s.quarantined]
            run.stage("read", seconds: s.readSeconds)
            run.stage("map", seconds: s.mapSeconds)
            run.stage("write", seconds: s.writeSeconds)
        }
    }

    /// Ingests the file and prints the summary.
    private func ingest() throws -> PadChestIngestSummary {
        let bar = ProgressBar(enabled: Terminal.stderrIsTTY, label: "padchest")
        let summary: PadChestIngestSummary
        do {
            let lake = try lakeOptions.openOrCreate()
            summary = try PadChestIngest.run(path: file, lake: lake, limit: limit, zstdLevel: zstdLevel) { done, total in
                bar.update(done: done, total: total)
            }
            bar.finish()
        } catch {
            bar.finish()
            throw error
        }
        if json {
            FileOutput.standardOutput.write(try JSONText.document(encoding: summary) + "\n")
        } else {
            FileOutput.standardOutput.write(Self.describe(summary) + "\n")
        }
        FileOutput.standardOutput.flush()
        if !summary.addsUp { throw CommandFailure("counts do not add up: read \(summary.rowsRead) != ingested + duplicates + quarantined") }
        return summary
    }

    static func describe(_ s: PadChestIngestSummary) -> String {
        func n(_ v: Int) -> String { Terminal.count(v) }
        let seconds = s.readSeconds + s.mapSeconds + s.writeSeconds
        var lines = [
            "PadChest ingest of \(s.file)",
            "  rows read      \(n(s.rowsRead))\(s.limitReached ? " (stopped at --limit)" : "")",
            "  ingested       \(n(s.ingested))",
            "  duplicates     \(n(s.duplicates))",
            "  quarantined    \(n(s.quarantined))"
                + (s.quarantinedAlreadyRecorded > 0 ? " (\(n(s.quarantinedAlreadyRecorded)) already in the quarantine)" : ""),
            "  \(s.addsUp ? "read = ingested + duplicates + quarantined" : "COUNTS DO NOT ADD UP")",
            "  clinical model: \(n(s.patients)) patients, \(n(s.encounters)) encounters, \(n(s.procedures)) procedures, "
                + "\(n(s.reports)) reports, \(n(s.diagnoses)) diagnoses",
            "  diagnoses: \(n(s.diagnosesICD10)) ICD-10, \(n(s.diagnosesFinding)) PADCHEST-FINDING "
                + "(\(n(s.unknownLabels)) labels not in the mapping, \(n(s.emptyLabels)) empty labels skipped); "
                + "\(n(s.newDiagnosisCodes)) new diagnosis codes",
            String(format: "  %.2f s (read %.2f, map %.2f, write %.2f)%@", seconds, s.readSeconds, s.mapSeconds,
                   s.writeSeconds, s.committed ? "" : "; nothing new, no commit"),
        ]
        for e in s.quarantineExamples { lines.insert("    quarantined " + e, at: 5) }
        if s.blankLines > 0 { lines.insert("  blank lines skipped \(n(s.blankLines))", at: 5) }
        return lines.joined(separator: "\n")
    }
}

/// A one-line progress bar on stderr, drawn only on a terminal.
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    let label: String
    private var lastPercent = -1

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(done: Int64, total: Int64) {
        guard enabled, total > 0 else { return }
        let percent = Int(min(100, done * 100 / total))
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileOutput.standardError.write("\r\(label) [\(bar)] \(percent)%")
    }

    func finish() {
        guard enabled, lastPercent >= 0 else { return }
        FileOutput.standardError.write("\r\u{1B}[2K")
        lastPercent = -1
    }
}
