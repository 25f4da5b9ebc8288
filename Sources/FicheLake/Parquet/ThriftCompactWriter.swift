// The Thrift compact protocol, write side only: the encoding of Parquet's page headers and
// footer (apache/thrift doc/specs/thrift-compact-protocol.md). Structs are fields in any
// order, each led by a header holding the field-id delta and the type, closed by a stop byte;
// integers are zigzag varints; binary is a varint length and the bytes; lists a header with
// size and element type. Byte tables: Documentation.docc/ParquetFormat.md.

/// Appends compact-protocol values to a byte buffer. Fields must be written in increasing
/// id order within a struct (the short header form then holds the delta).
struct ThriftCompactWriter {
    /// Compact-protocol type codes (field headers and list element types share them,
    /// except that a bool field carries its value in the header).
    enum TypeCode: UInt8 {
        case boolTrue = 1
        case boolFalse = 2
        case i8 = 3
        case i16 = 4
        case i32 = 5
        case i64 = 6
        case double = 7
        case binary = 8
        case list = 9
        case structure = 12
    }

    private(set) var bytes: [UInt8] = []
    /// The id of the last field written in the struct being written.
    private var lastFieldID: Int16 = 0
    /// `lastFieldID` of each enclosing struct.
    private var enclosing: [Int16] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    // MARK: Primitive encodings

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// ULEB128: seven bits at a time, least significant first, high bit set on all but the last.
    mutating func appendVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func fieldHeader(_ id: Int16, _ type: TypeCode) {
        precondition(id > lastFieldID, "thrift fields must be written in increasing id order")
        let delta = id - lastFieldID
        if delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            appendVarint(Self.zigzag(Int64(id)))
        }
        lastFieldID = id
    }

    // MARK: Fields

    mutating func field(_ id: Int16, bool v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }

    /// An i8 is one byte, two's complement (not zigzagged).
    mutating func field(_ id: Int16, i8 v: Int8) {
        fieldHeader(id, .i8)
        bytes.append(UInt8(bitPattern: v))
    }

    mutating func field(_ id: Int16, i16 v: Int16) {
        fieldHeader(id, .i16)
        appendVarint(Self.zigzag(Int64(v)))
    }

    mutating func field(_ id: Int16, i32 v: Int32) {
        fieldHeader(id, .i32)
        appendVarint(Self.zigzag(Int64(v)))
    }

    mutating func field(_ id: Int16, i64 v: Int64) {
        fieldHeader(id, .i64)
        appendVarint(Self.zigzag(v))
    }

    mutating func field(_ id: Int16, binary v: [UInt8]) {
        fieldHeader(id, .binary)
        appendBinary(v)
    }

    mutating func field(_ id: Int16, string v: String) { field(id, binary: Array(v.utf8)) }

    /// A struct-valued field (or a union's one field): `body` writes its fields.
    mutating func field(_ id: Int16, struct body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .structure)
        writeStruct(body)
    }

    /// A list field: the header, then `body` writes `count` elements of `element` type
    /// with the element methods below.
    mutating func field(_ id: Int16, list element: TypeCode, count: Int, _ body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            appendVarint(UInt64(count))
        }
        body(&self)
    }

    // MARK: Elements (of lists) and whole structs

    /// A struct with no field header: the top-level struct, or a list element.
    mutating func writeStruct(_ body: (inout ThriftCompactWriter) -> Void) {
        enclosing.append(lastFieldID)
        lastFieldID = 0
        body(&self)
        bytes.append(0)  // stop field
        lastFieldID = enclosing.removeLast()
    }

    mutating func element(i32 v: Int32) { appendVarint(Self.zigzag(Int64(v))) }
    mutating func element(i64 v: Int64) { appendVarint(Self.zigzag(v)) }
    mutating func element(string v: String) { appendBinary(Array(v.utf8)) }

    private mutating func appendBinary(_ v: [UInt8]) {
        appendVarint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }
}
