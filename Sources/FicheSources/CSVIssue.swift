// What is wrong with a bad CSV record, and where: the reader records the first problem of
// each record and carries on.

/// Why a record is bad.
public enum CSVIssueKind: UInt8, Sendable, CustomStringConvertible {
    case unterminatedQuote = 1
    case quoteInUnquotedField = 2
    case textAfterClosingQuote = 3
    case invalidUTF8 = 4
    case nulByte = 5
    case quotedFieldTooLong = 6

    public var description: String {
        switch self {
        case .unterminatedQuote: "unterminated quoted field"
        case .quoteInUnquotedField: "quote inside an unquoted field"
        case .textAfterClosingQuote: "text after a closing quote"
        case .invalidUTF8: "invalid UTF-8"
        case .nulByte: "NUL byte"
        case .quotedFieldTooLong: "quoted field not closed within \(CSVLimits.maxQuotedBytes >> 20) MiB"
        }
    }
}

/// The reader's default limits (messages name them).
public enum CSVLimits {
    /// A quoted field still open after this many bytes is taken as broken, not read on.
    public static let maxQuotedBytes = 1 << 20
}

/// The first problem found in a record, located by physical line, byte column (1-based)
/// and field number (1-based).
public struct CSVIssue: Sendable, Equatable, CustomStringConvertible {
    public var kind: CSVIssueKind
    public var line: Int
    public var column: Int
    public var field: Int

    public var description: String { "\(kind) at line \(line), column \(column) (field \(field))" }
}
