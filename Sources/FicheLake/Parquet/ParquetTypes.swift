// How each lake type is stored in Parquet: physical type, logical type and the legacy
// converted type (for older readers), and the writer's options.

/// How a uuid column is written.
public enum ParquetUUIDRepresentation: String, Sendable, CaseIterable {
    /// FIXED_LEN_BYTE_ARRAY(16) annotated UUID: 16 bytes, big-endian (RFC 4122 order).
    case uuid
    /// BYTE_ARRAY annotated STRING: canonical lower-case 8-4-4-4-12 text, for readers that
    /// refuse the UUID logical type (Spark 4).
    case string
}

/// What the Parquet writer does; the defaults are what `fiche export` uses.
public struct ParquetWriteOptions: Sendable {
    public var uuidAs: ParquetUUIDRepresentation
    public var codec: ParquetCodec
    public var zstdLevel: Int
    /// Target size of a data page before compression.
    public var pageBytes: Int
    /// A column chunk's dictionary may hold at most this many bytes (PLAIN-encoded);
    /// past it the chunk is written PLAIN.
    public var dictionaryBytes: Int
    /// String min/max statistics longer than this are left out (null_count stays).
    public var statisticsMaxBytes: Int
    /// The footer's `created_by`.
    public var createdBy: String
    /// Extra key/value metadata for the footer.
    public var keyValues: [(String, String)]

    public init(uuidAs: ParquetUUIDRepresentation = .uuid, codec: ParquetCodec = .zstd, zstdLevel: Int = 1,
                pageBytes: Int = 1 << 20, dictionaryBytes: Int = 4 << 20, statisticsMaxBytes: Int = 256,
                createdBy: String = "fiche version \(FicheVersion.current)", keyValues: [(String, String)] = []) {
        self.uuidAs = uuidAs
        self.codec = codec
        self.zstdLevel = zstdLevel
        self.pageBytes = max(1024, pageBytes)
        self.dictionaryBytes = dictionaryBytes
        self.statisticsMaxBytes = statisticsMaxBytes
        self.createdBy = createdBy
        self.keyValues = keyValues
    }
}

/// Fiche's version, as `created_by` and manifests name it.
public enum FicheVersion {
    public static let current = "0.9.0"
}

extension ParquetSchemaElement {
    /// The leaf column for a lake field.
    init(_ field: Field, uuidAs: ParquetUUIDRepresentation) {
        name = field.name
        repetition = field.nullable ? 1 : 0
        switch field.type {
        case .bool:
            type = .boolean
        case .int8:
            type = .int32
            convertedType = .int8
            logicalType = .integer(bitWidth: 8, signed: true)
        case .int16:
            type = .int32
            convertedType = .int16
            logicalType = .integer(bitWidth: 16, signed: true)
        case .int32:
            type = .int32
            convertedType = .int32
            logicalType = .integer(bitWidth: 32, signed: true)
        case .int64:
            type = .int64
            convertedType = .int64
            logicalType = .integer(bitWidth: 64, signed: true)
        case .float64:
            type = .double
        case .date:
            type = .int32
            convertedType = .date
            logicalType = .date
        case .timestamp:
            type = .int64
            convertedType = .timestampMicros
            logicalType = .timestampMicrosUTC
        case .uuid where uuidAs == .uuid:
            type = .fixedLenByteArray
            typeLength = 16
            logicalType = .uuid
        case .uuid, .string:
            type = .byteArray
            convertedType = .utf8
            logicalType = .string
        }
    }

    /// The root of a flat schema.
    static func root(children: Int) -> ParquetSchemaElement {
        ParquetSchemaElement(name: "schema", numChildren: Int32(children))
    }
}
