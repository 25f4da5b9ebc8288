// The parts of Parquet's metadata that Fiche writes (apache/parquet-format
// src/main/thrift/parquet.thrift): page headers, column chunk metadata, row groups and the
// footer's FileMetaData, each with the field ids of the Thrift definition. Only what we
// write is modelled; every required field is always written.

/// Parquet's physical types (`Type` in parquet.thrift).
enum ParquetPhysicalType: Int32 {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
}

/// `Encoding` in parquet.thrift: the ones we write.
enum ParquetEncoding: Int32 {
    case plain = 0
    /// The RLE/bit-packing hybrid: definition levels (and their declared encoding).
    case rle = 3
    /// Dictionary indices in a data page (bit width byte + RLE/bit-packed hybrid).
    case rleDictionary = 8
}

/// `PageType` in parquet.thrift.
enum ParquetPageType: Int32 {
    case dataPage = 0
    case dictionaryPage = 2
}

/// `CompressionCodec`: Fiche writes ZSTD (6); UNCOMPRESSED (0) for tests.
public enum ParquetCodec: Int32, Sendable {
    case uncompressed = 0
    case zstd = 6
}

/// `ConvertedType`: the legacy annotation, written beside the logical type for older readers.
enum ParquetConvertedType: Int32 {
    case utf8 = 0
    case date = 6
    case timestampMicros = 10
    case int8 = 15
    case int16 = 16
    case int32 = 17
    case int64 = 18
}

/// `LogicalType` (a Thrift union): the annotations the lake's types need.
enum ParquetLogicalType: Equatable {
    case string
    case date
    /// TIMESTAMP(isAdjustedToUTC = true, unit = MICROS)
    case timestampMicrosUTC
    case integer(bitWidth: Int8, signed: Bool)
    case uuid

    func encode(_ w: inout ThriftCompactWriter) {
        switch self {
        case .string: w.field(1, struct: { _ in })
        case .date: w.field(6, struct: { _ in })
        case .timestampMicrosUTC:
            w.field(8, struct: { t in
                t.field(1, bool: true)  // isAdjustedToUTC
                t.field(2, struct: { unit in unit.field(2, struct: { _ in }) })  // TimeUnit.MICROS
            })
        case .integer(let bits, let signed):
            w.field(10, struct: { t in
                t.field(1, i8: bits)
                t.field(2, bool: signed)
            })
        case .uuid: w.field(14, struct: { _ in })
        }
    }
}

/// `SchemaElement`: the root (with `numChildren`) or one leaf column.
struct ParquetSchemaElement {
    var name: String
    var type: ParquetPhysicalType?
    var typeLength: Int32?
    /// 0 REQUIRED, 1 OPTIONAL (nil for the root).
    var repetition: Int32?
    var numChildren: Int32?
    var convertedType: ParquetConvertedType?
    var logicalType: ParquetLogicalType?

    func encode(_ w: inout ThriftCompactWriter) {
        w.writeStruct { s in
            if let type { s.field(1, i32: type.rawValue) }
            if let typeLength { s.field(2, i32: typeLength) }
            if let repetition { s.field(3, i32: repetition) }
            s.field(4, string: name)
            if let numChildren { s.field(5, i32: numChildren) }
            if let convertedType { s.field(6, i32: convertedType.rawValue) }
            if let logicalType { s.field(10, struct: { logicalType.encode(&$0) }) }
        }
    }
}

/// `Statistics`: min and max in the column's plain encoding (no length prefix), computed
/// over present values in the type's sort order; `null_count` is always set.
struct ParquetStatistics: Equatable {
    var nullCount: Int64
    var minValue: [UInt8]?
    var maxValue: [UInt8]?
    /// Set (even when 0) for floating-point columns, as the spec asks of TYPE_ORDER writers.
    var nanCount: Int64?

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(3, i64: nullCount)
        if let maxValue, let minValue {
            w.field(5, binary: maxValue)
            w.field(6, binary: minValue)
        }
        if let nanCount { w.field(9, i64: nanCount) }
    }
}

/// `PageHeader` with its `DataPageHeader` (v1) or `DictionaryPageHeader`.
struct ParquetPageHeader {
    enum Kind {
        /// `num_values` counts nulls too; levels are declared RLE.
        case data(numValues: Int32, encoding: ParquetEncoding)
        case dictionary(numValues: Int32)
    }

    var kind: Kind
    var uncompressedSize: Int32
    var compressedSize: Int32

    func encoded() -> [UInt8] {
        var w = ThriftCompactWriter(capacity: 32)
        w.writeStruct { h in
            switch kind {
            case .data(let n, let encoding):
                h.field(1, i32: ParquetPageType.dataPage.rawValue)
                h.field(2, i32: uncompressedSize)
                h.field(3, i32: compressedSize)
                h.field(5, struct: { d in
                    d.field(1, i32: n)
                    d.field(2, i32: encoding.rawValue)
                    d.field(3, i32: ParquetEncoding.rle.rawValue)  // definition levels
                    d.field(4, i32: ParquetEncoding.rle.rawValue)  // repetition levels (none: flat schema)
                })
            case .dictionary(let n):
                h.field(1, i32: ParquetPageType.dictionaryPage.rawValue)
                h.field(2, i32: uncompressedSize)
                h.field(3, i32: compressedSize)
                h.field(7, struct: { d in
                    d.field(1, i32: n)
                    d.field(2, i32: ParquetEncoding.plain.rawValue)
                })
            }
        }
        return w.bytes
    }
}

/// `ColumnMetaData` inside a `ColumnChunk`. Offsets are absolute file offsets.
struct ParquetColumnChunkMetadata {
    var type: ParquetPhysicalType
    var encodings: [ParquetEncoding]
    var path: String
    var codec: ParquetCodec
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var statistics: ParquetStatistics
    /// (page type, encoding, page count): lets a reader know every data page is dictionary-encoded.
    var encodingStats: [(ParquetPageType, ParquetEncoding, Int32)]

    /// The `ColumnChunk` struct (file_offset, meta_data) as a list element.
    func encodeChunk(_ w: inout ThriftCompactWriter) {
        w.writeStruct { c in
            // file_offset: deprecated, "the byte offset of the ColumnMetaData"; writers use the
            // column's first page, readers ignore it.
            c.field(2, i64: dictionaryPageOffset ?? dataPageOffset)
            c.field(3, struct: { m in
                m.field(1, i32: type.rawValue)
                m.field(2, list: .i32, count: encodings.count) { l in
                    for e in encodings { l.element(i32: e.rawValue) }
                }
                m.field(3, list: .binary, count: 1) { $0.element(string: path) }
                m.field(4, i32: codec.rawValue)
                m.field(5, i64: numValues)
                m.field(6, i64: totalUncompressedSize)
                m.field(7, i64: totalCompressedSize)
                m.field(9, i64: dataPageOffset)
                if let dictionaryPageOffset { m.field(11, i64: dictionaryPageOffset) }
                m.field(12, struct: { statistics.encode(&$0) })
                m.field(13, list: .structure, count: encodingStats.count) { l in
                    for (page, encoding, count) in encodingStats {
                        l.writeStruct { s in
                            s.field(1, i32: page.rawValue)
                            s.field(2, i32: encoding.rawValue)
                            s.field(3, i32: count)
                        }
                    }
                }
            })
        }
    }
}

/// `RowGroup`: its column chunks in schema order.
struct ParquetRowGroup {
    var columns: [ParquetColumnChunkMetadata]
    var numRows: Int64
    /// File offset of the row group's first page.
    var fileOffset: Int64
    var ordinal: Int16

    var totalUncompressedSize: Int64 { columns.reduce(0) { $0 + $1.totalUncompressedSize } }
    var totalCompressedSize: Int64 { columns.reduce(0) { $0 + $1.totalCompressedSize } }

    func encode(_ w: inout ThriftCompactWriter) {
        w.writeStruct { g in
            g.field(1, list: .structure, count: columns.count) { l in
                for c in columns { c.encodeChunk(&l) }
            }
            g.field(2, i64: totalUncompressedSize)  // total_byte_size: uncompressed, per the spec
            g.field(3, i64: numRows)
            g.field(5, i64: fileOffset)
            g.field(6, i64: totalCompressedSize)
            g.field(7, i16: ordinal)
        }
    }
}

/// `FileMetaData`: the footer.
struct ParquetFileMetadata {
    var schema: [ParquetSchemaElement]
    var numRows: Int64
    var rowGroups: [ParquetRowGroup]
    var keyValues: [(String, String)]
    var createdBy: String

    func encoded() -> [UInt8] {
        var w = ThriftCompactWriter(capacity: 1024)
        w.writeStruct { f in
            f.field(1, i32: 2)  // version
            f.field(2, list: .structure, count: schema.count) { l in
                for e in schema { e.encode(&l) }
            }
            f.field(3, i64: numRows)
            f.field(4, list: .structure, count: rowGroups.count) { l in
                for g in rowGroups { g.encode(&l) }
            }
            if !keyValues.isEmpty {
                f.field(5, list: .structure, count: keyValues.count) { l in
                    for (k, v) in keyValues {
                        l.writeStruct { kv in
                            kv.field(1, string: k)
                            kv.field(2, string: v)
                        }
                    }
                }
            }
            f.field(6, string: createdBy)
            // column_orders: TypeDefinedOrder for every leaf (the root has none).
            let leaves = schema.count - 1
            f.field(7, list: .structure, count: leaves) { l in
                for _ in 0..<leaves { l.writeStruct { $0.field(1, struct: { _ in }) } }
            }
        }
        return w.bytes
    }
}
