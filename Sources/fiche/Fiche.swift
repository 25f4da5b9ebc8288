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

    /// Runs the command; usage errors exit 2, failures exit 1, with one clear line on stderr.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as LakeError {
            Terminal.fail("\(e)")
        } catch let e as CommandFailure {
            Terminal.fail(e.message)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help, --version
                Glibc.exit(0)
            }
            let message = fullMessage(for: error)
            if code == .validationFailure {
                FileOutput.standardError.write(Terminal.scrubbed(message) + "\n")
                Glibc.exit(2)
            }
            Terminal.fail(message.isEmpty ? "\(error)" : message)
        }
    }
}

/// A failure the command explains itself (exit 1).
struct CommandFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
