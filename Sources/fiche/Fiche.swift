import ArgumentParser
import FicheLake

#if canImport(Glibc)
import Glibc
#endif

@main
struct Fiche: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fiche",
        abstract: "Build a clinical star-schema warehouse from a columnar lake and publish it to PostgreSQL.",
        discussion: """
            Data flows one way: sources land in the lake (zstd columnar chunk files with a commit \
            log), the build turns the lake into the warehouse's star schema, publishing loads it \
            into PostgreSQL with binary COPY.

            The lake is ./lake unless --lake or FICHE_LAKE says otherwise.
            Exit codes: 0 success, 1 failure, 2 usage error.
            """,
        subcommands: [
            Ingest.self, GenerateCommand.self, PublishCommand.self, RebuildCommand.self, ReportCommand.self,
            ExportCommand.self, ListTables.self, Dump.self, Verify.self, Log.self, Vacuum.self,
            StressWrite.self, BuildCommand.self, BenchCommand.self,
        ])

    /// Runs the command; every failure is reported here alone (FailureReport): one clear line
    /// on stderr, exit 1, or 2 for a usage error.
    static func main() {
        var command: (any ParsableCommand)?
        do {
            command = try parseAsRoot()
            try command?.run()
        } catch {
            let report = FailureReport(error, command: command)
            switch (report.stream, report.exitCode) {
            case (.standardOutput, _):
                print(report.message)  // --help, --version
                Glibc.exit(report.exitCode)
            case (.standardError, 2):
                FileOutput.standardError.write(Terminal.scrubbed(report.message) + "\n")
                Glibc.exit(2)
            default:
                Terminal.fail(report.message)
            }
        }
    }
}
