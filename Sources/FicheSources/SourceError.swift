// The one error type of the sources layer (PadChest ingest, the label mapping, the synthetic
// clinic): what kind of failure, a message that says what was expected and found, the file,
// line and column where that applies, and the lower-level error that caused it, if any.

import FicheLake

/// A failure reading or writing a source: an input file that cannot be read, a file whose
/// content is not what it must be, a synthetic run asked for something impossible, or a lake
/// that already holds what a run would write.
public struct SourceError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// An input file cannot be opened or read (missing, not a regular file, truncated .gz).
        case input
        /// An input file's content is not what its format says (header, field, duplicate label…).
        case format
        /// A parameter is out of range (patients, facilities, block size).
        case invalidArgument
        /// The lake already holds what the run would write, and it cannot be replaced.
        case conflict
    }

    public var code: Code
    public var message: String
    public var file: String?
    /// 1-based line and column in `file`.
    public var line: Int?
    public var column: Int?
    /// The error underneath, when another layer's failure caused this one.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
                cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.cause = cause
    }

    /// `file:line:column: message`, as compilers print it; the parts that are known.
    public var description: String {
        guard let file else { return message }
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        return s + ": " + message
    }

    /// Equal when everything but the cause is.
    public static func == (a: SourceError, b: SourceError) -> Bool {
        a.code == b.code && a.message == b.message && a.file == b.file && a.line == b.line && a.column == b.column
    }
}

extension SourceError {
    static func invalidPatients(_ n: Int) -> SourceError {
        SourceError(.invalidArgument, "--patients must be between 0 and \(SyntheticClinic.maxPatients) (got \(n))")
    }
    static func invalidFacilities(_ n: Int) -> SourceError {
        SourceError(.invalidArgument, "--facilities must be between 1 and \(SyntheticClinic.maxFacilities) (got \(n))")
    }
    static func invalidBlockSize(_ n: Int) -> SourceError {
        SourceError(.invalidArgument,
                    "block size must be between 1 and \(SyntheticClinic.maxBlockPatients) patients (got \(n))")
    }
    /// The lake already holds synthetic rows (from the commit described).
    static func alreadyGenerated(table: String, operation: String, time: String) -> SourceError {
        SourceError(.conflict, "the lake already holds synthetic data (table `\(table)`: `\(operation)` at \(time)); "
                        + "pass --replace to regenerate it, or --lake to write elsewhere")
    }
    /// `--replace` cannot remove synthetic rows from a table that other sources also wrote.
    static func sharedTable(table: String, source: String) -> SourceError {
        SourceError(.conflict, "cannot replace the synthetic data: table `\(table)` also holds `\(source)` rows, "
                        + "and the lake can only replace a table whole; generate into a separate --lake")
    }
}
