// The one error type of the warehouse layer: what kind of failure, a message naming the
// table, column and row it is about, those as fields for a program to read, and the error
// underneath when another layer's failure caused it.

import FicheLake

/// Why a build could not run; names the table, column and row.
public struct WarehouseError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// The clinical tables are not what the build needs (a column missing, of the wrong
        /// type, null where it must not be, a date out of range).
        case invalidInput
        /// A surrogate key no longer fits the warehouse's key column.
        case keyOverflow
        /// A file the build writes (the CSV export) cannot be written.
        case io
        /// The build contradicted itself: a bug, never the data's fault.
        case `internal`
    }

    public var code: Code
    /// The whole message, naming table, column and row where they are known.
    public var message: String
    public var table: String?
    public var column: String?
    /// 0-based row in `table`'s input.
    public var row: Int?
    public var cause: (any Error & Sendable)?

    public init(_ message: String, code: Code = .invalidInput, table: String? = nil, column: String? = nil,
                row: Int? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.table = table
        self.column = column
        self.row = row
        self.cause = cause
    }

    public var description: String { message }

    /// Equal when everything but the cause is.
    public static func == (a: WarehouseError, b: WarehouseError) -> Bool {
        a.code == b.code && a.message == b.message && a.table == b.table && a.column == b.column && a.row == b.row
    }

    static func missing(_ table: String, _ column: String) -> WarehouseError {
        WarehouseError("clinical table `\(table)` lacks column `\(column)`", table: table, column: column)
    }
    static func type(_ table: String, _ column: String, _ found: ColumnType, _ wanted: ColumnType) -> WarehouseError {
        WarehouseError("column `\(column)` of `\(table)` is \(found), the build needs \(wanted)", table: table, column: column)
    }
}
