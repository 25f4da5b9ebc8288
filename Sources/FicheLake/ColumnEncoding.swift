// Per-column encodings: the four layouts a column block can have, the statistics kept
// for a column in the footer, and an encoded column before compression. The writer
// (ColumnEncoder.swift) picks, from the data, whichever of plain, dictionary,
// frame-of-reference or delta gives the fewest bytes before zstd; the reader
// (ColumnDecoder.swift) checks every length and index it decodes, since its bytes come from
// a file. Layouts are specified in Documentation.docc/ChunkFormat.md.

/// How a column's values are laid out inside its (uncompressed) block.
public enum ColumnEncoding: UInt8, Sendable, CustomStringConvertible {
    case plain = 0
    case dictionary = 1
    case frameOfReference = 2
    case delta = 3

    public var description: String {
        switch self {
        case .plain: "plain"
        case .dictionary: "dictionary"
        case .frameOfReference: "for"
        case .delta: "delta"
        }
    }
}

/// Min/max of a column's present values, kept in the footer.
public enum ColumnStats: Sendable, Equatable {
    case none
    case integer(min: Int64, max: Int64)
    case float(min: Double, max: Double)
    /// Prefixes of at most `stringStatsLimit` bytes; `truncated` when either was cut.
    case string(min: [UInt8], max: [UInt8], truncated: Bool)
}

let stringStatsLimit = 48
/// The most distinct values a dictionary may hold.
let dictionaryLimit = 65_536

/// One column encoded, before compression.
struct EncodedColumn {
    var encoding: ColumnEncoding
    var payload: [UInt8]
    var nullCount: Int
    var stats: ColumnStats
}
