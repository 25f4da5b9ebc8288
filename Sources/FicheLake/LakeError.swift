// One error type for the lake layer: every message names the file and, where it
// applies, the column and the byte offset, and says what was expected and found.

public struct LakeError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// The bytes of a chunk or log file are not what the format says they must be.
        case corrupt
        /// A chunk was written by a format version this build cannot read.
        case unsupportedVersion
        /// A file-system call failed (errno in the message).
        case io
        /// Another writer committed first and this commit cannot be rebased.
        case conflict
        /// The caller asked for something that is not valid.
        case invalidArgument
        /// What the caller named (a lake folder) is not there.
        case notFound
        /// A batch does not fit the table's schema.
        case schemaMismatch
        /// The data asked for does not fit in one batch (a string column holds at most
        /// `StringArray.maxBytes`); read it chunk by chunk instead.
        case tooLarge
    }

    public var code: Code
    public var message: String
    public var file: String?
    public var column: String?
    public var offset: Int?

    public init(_ code: Code, _ message: String, file: String? = nil, column: String? = nil, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.column = column
        self.offset = offset
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let column { parts.append("column `\(column)`") }
        if let offset { parts.append("byte \(offset)") }
        let place = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
        return place + message
    }

    /// The same error located in `file` (kept if already set).
    func located(file: String? = nil, column: String? = nil) -> LakeError {
        var e = self
        if e.file == nil { e.file = file }
        if e.column == nil { e.column = column }
        return e
    }
}
