// The one place where a failure becomes what the user sees: the line on stderr and the exit
// code (0 success, 1 failure, 2 usage error), in the manner of swift-argument-parser's
// MessageInfo. Commands throw whatever their libraries throw and never catch to re-wrap;
// each layer has one error type (LakeError, SourceError, WarehouseError, PublishError) that
// already names its file/line/column or table/column/row, and CommandFailure is the CLI's own.

import ArgumentParser
import FicheLake
import FichePublish
import FicheSources
import FicheWarehouse

/// A failure the command explains itself (exit 1).
struct CommandFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A command that talks to PostgreSQL: a failure there can come from any layer (the lake,
/// the build, the server), so every failure message starts with the command's name.
protocol NamesItselfInEveryFailure {}

/// What `Fiche.main` prints and exits with for an error.
struct FailureReport {
    enum Stream { case standardOutput, standardError }

    var message: String
    var exitCode: Int32
    var stream: Stream

    /// `command` is the parsed subcommand, or nil when parsing itself failed.
    init(_ error: any Error, command: (any ParsableCommand)?) {
        let name = command.flatMap { type(of: $0).configuration.commandName }
        func named(_ text: String) -> String { name.map { "\($0): \(text)" } ?? text }
        let namesItself = command is NamesItselfInEveryFailure
        stream = .standardError
        exitCode = 1
        switch error {
        case let e as CommandFailure:
            message = e.message
        case let e as WarehouseError:
            message = named(e.description)
        case let e as PublishError:
            message = named(e.description)
        case let e as LakeError:
            message = namesItself ? named(e.description) : e.description
        case let e as SourceError:
            message = namesItself ? named(e.description) : e.description
        default:
            // swift-argument-parser's own errors: --help and --version (exit 0, stdout), usage
            // errors (exit 2, with the usage line); anything else is a failure.
            let code = Fiche.exitCode(for: error)
            let full = Fiche.fullMessage(for: error)
            if code == .success {
                message = full
                exitCode = 0
                stream = .standardOutput
            } else if code == .validationFailure {
                message = full
                exitCode = 2
            } else {
                let text = full.isEmpty ? "\(error)" : full
                message = namesItself ? named(text) : text
            }
        }
    }
}
