// How each lake column type is stored in PostgreSQL and sent in binary COPY.

import FicheLake

extension ColumnType {
    /// The PostgreSQL type a lake column of this type is published as. PostgreSQL has no
    /// one-byte integer, so `int8` widens to `smallint`; timestamps are UTC instants.
    public var postgresType: String {
        switch self {
        case .bool: "boolean"
        case .int8, .int16: "smallint"
        case .int32: "integer"
        case .int64: "bigint"
        case .float64: "double precision"
        case .date: "date"
        case .timestamp: "timestamptz"
        case .uuid: "uuid"
        case .string: "text"
        }
    }

    /// Bytes of one value in binary COPY, or nil for variable-length text.
    public var binaryCopyWidth: Int? {
        switch self {
        case .bool: 1
        case .int8, .int16: 2
        case .int32, .date: 4
        case .int64, .float64, .timestamp: 8
        case .uuid: 16
        case .string: nil
        }
    }
}

/// PostgreSQL's epochs and limits for dates and timestamps.
enum PostgresEpoch {
    /// Days from 1970-01-01 to 2000-01-01.
    static let unixToPostgresDays: Int64 = 10_957
    /// Microseconds from 1970-01-01 to 2000-01-01.
    static let unixToPostgresMicros: Int64 = 946_684_800_000_000
    /// Valid `date` values as days since 1970-01-01: Julian day 0 (4714-11-24 BC) up to
    /// PostgreSQL's DATE_END_JULIAN (exclusive).
    static let dateRange: ClosedRange<Int64> = (-2_440_588)...(2_147_483_494 - 2_440_588 - 1)
    /// Valid `timestamptz` values as µs since 1970-01-01: from 4714-11-24 BC; every larger
    /// Int64 lies below PostgreSQL's END_TIMESTAMP once shifted to its epoch.
    static let timestampRange: ClosedRange<Int64> = (-210_866_803_200_000_000)...Int64.max
}
