// The in-memory column model shared by every stage: typed contiguous buffers,
// an optional validity bitmap, and batches of equal-length columns.

/// The logical types a lake column can hold. The raw value is the on-disk type tag.
public enum ColumnType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case bool = 1
    case int8 = 2
    case int16 = 3
    case int32 = 4
    case int64 = 5
    case float64 = 6
    /// Days since 1970-01-01 (may be negative).
    case date = 7
    /// Microseconds since 1970-01-01T00:00:00Z.
    case timestamp = 8
    /// 16 bytes, RFC 4122 byte order.
    case uuid = 9
    /// UTF-8 bytes.
    case string = 10

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float64: "float64"
        case .date: "date"
        case .timestamp: "timestamp"
        case .uuid: "uuid"
        case .string: "string"
        }
    }

    public init?(name: String) {
        guard let t = ColumnType.allCases.first(where: { $0.description == name }) else { return nil }
        self = t
    }

    /// True for the types stored as integers (and so eligible for integer encodings).
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .date, .timestamp: true
        default: false
        }
    }
}

/// One named, typed column of a schema.
public struct Field: Sendable, Equatable, Hashable {
    public var name: String
    public var type: ColumnType
    public var nullable: Bool

    public init(_ name: String, _ type: ColumnType, nullable: Bool = true) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}

/// An ordered list of fields; names are unique.
public struct Schema: Sendable, Equatable, Hashable {
    public var fields: [Field]

    public init(_ fields: [Field]) { self.fields = fields }

    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
    public subscript(name: String) -> Field? { index(of: name).map { fields[$0] } }
    public var names: [String] { fields.map(\.name) }
}

/// A 16-byte UUID held as two big-endian 64-bit halves, so ordering and hashing
/// are cheap and the bytes round-trip exactly.
public struct UUID16: Hashable, Comparable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let zero = UUID16(high: 0, low: 0)

    public static func < (a: UUID16, b: UUID16) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// Parses the canonical 8-4-4-4-12 hex form (case-insensitive).
    public init?(_ text: some StringProtocol) {
        var hi: UInt64 = 0, lo: UInt64 = 0, nibbles = 0
        for u in text.utf8 {
            if u == UInt8(ascii: "-") { continue }
            let v: UInt8
            switch u {
            case 48...57: v = u - 48
            case 97...102: v = u - 87
            case 65...70: v = u - 55
            default: return nil
            }
            if nibbles < 16 { hi = hi << 4 | UInt64(v) } else { lo = lo << 4 | UInt64(v) }
            nibbles += 1
            if nibbles > 32 { return nil }
        }
        guard nibbles == 32 else { return nil }
        high = hi
        low = lo
    }

    /// Canonical lower-case 8-4-4-4-12 text.
    public var text: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            let word = i < 16 ? high : low
            let shift = UInt64(60 - 4 * (i % 16))
            out.append(hex[Int((word >> shift) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A version-4-shaped UUID derived deterministically from two 64-bit values
    /// (used to give generated and ingested entities stable ids).
    public static func derived(_ a: UInt64, _ b: UInt64) -> UUID16 {
        var h = SplitMix64(seed: a ^ 0x9E37_79B9_7F4A_7C15)
        var l = SplitMix64(seed: b &+ h.next())
        let hi = (h.next() & ~0xF000) | 0x4000
        let lo = (l.next() & ~(0xC000_0000_0000_0000)) | 0x8000_0000_0000_0000
        return UUID16(high: hi, low: lo)
    }
}

/// SplitMix64: a tiny, fast, well-distributed deterministic generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A packed bit per row: 1 = value present, 0 = null. Bit i lives in byte i/8, bit i%8 (LSB first).
public struct Bitmap: Sendable, Equatable {
    @usableFromInline var storage: [UInt8]
    public private(set) var count: Int
    public var bytes: [UInt8] { storage }

    public init() {
        storage = []
        count = 0
    }

    public init(repeating value: Bool, count: Int) {
        self.count = count
        storage = [UInt8](repeating: value ? 0xFF : 0, count: (count + 7) / 8)
        if value, count % 8 != 0 { storage[storage.count - 1] = UInt8((1 << (count % 8)) - 1) }
    }

    /// Adopts raw bytes; bits past `count` are cleared.
    public init(bytes: [UInt8], count: Int) {
        precondition(bytes.count == (count + 7) / 8, "bitmap byte count mismatch")
        storage = bytes
        self.count = count
        if count % 8 != 0 { storage[storage.count - 1] &= UInt8((1 << (count % 8)) - 1) }
    }

    public mutating func reserveCapacity(_ n: Int) { storage.reserveCapacity((n + 7) / 8) }

    @inlinable
    public subscript(i: Int) -> Bool {
        get { storage[i >> 3] & (1 << UInt8(i & 7)) != 0 }
        set {
            if newValue { storage[i >> 3] |= 1 << UInt8(i & 7) } else { storage[i >> 3] &= ~(1 << UInt8(i & 7)) }
        }
    }

    public mutating func append(_ v: Bool) {
        if count & 7 == 0 { storage.append(0) }
        if v { storage[count >> 3] |= 1 << UInt8(count & 7) }
        count += 1
    }

    /// Number of set bits (present values).
    public var setCount: Int {
        storage.withUnsafeBufferPointer { p in
            var n = 0
            for b in p { n &+= b.nonzeroBitCount }
            return n
        }
    }
}

/// Variable-length UTF-8 values in one byte buffer, Arrow style:
/// value i is bytes[offsets[i] ..< offsets[i+1]].
///
/// Offsets are 32-bit, so one array holds at most `maxBytes` (2 GiB) of text: a chunk holds
/// far less, and reading a whole table checks before it concatenates (`LakeError.tooLarge`).
/// Growing past the limit stops the program rather than wrap an offset into wrong data.
public struct StringArray: Sendable, Equatable {
    public var offsets: [Int32]
    public var bytes: [UInt8]

    /// The most bytes of text one array can address.
    public static let maxBytes = Int(Int32.max)

    public init() {
        offsets = [0]
        bytes = []
    }

    public init(offsets: [Int32], bytes: [UInt8]) {
        self.offsets = offsets
        self.bytes = bytes
    }

    public init(_ strings: [String]) {
        self.init()
        for s in strings { append(s) }
    }

    public var count: Int { offsets.count - 1 }

    public mutating func reserveCapacity(rows: Int, bytes n: Int) {
        offsets.reserveCapacity(rows + 1)
        bytes.reserveCapacity(n)
    }

    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
        offsets.append(Int32(bytes.count))
    }

    public mutating func append(_ raw: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: raw)
        offsets.append(Int32(bytes.count))
    }

    public mutating func append(_ raw: ArraySlice<UInt8>) {
        bytes.append(contentsOf: raw)
        offsets.append(Int32(bytes.count))
    }

    /// Appends an empty value (the placeholder under a null).
    public mutating func appendEmpty() { offsets.append(offsets[offsets.count - 1]) }

    public func range(_ i: Int) -> Range<Int> { Int(offsets[i])..<Int(offsets[i + 1]) }

    public subscript(i: Int) -> String {
        String(decoding: bytes[range(i)], as: UTF8.self)
    }
}

/// The values of a column, one typed contiguous buffer per type. Null rows hold a
/// placeholder (0, false, empty string) and are marked in the column's validity.
public enum ColumnValues: Sendable, Equatable {
    case bool([Bool])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case float64([Double])
    case date([Int32])
    case timestamp([Int64])
    case uuid([UUID16])
    case string(StringArray)

    public var type: ColumnType {
        switch self {
        case .bool: .bool
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .float64: .float64
        case .date: .date
        case .timestamp: .timestamp
        case .uuid: .uuid
        case .string: .string
        }
    }

    public var count: Int {
        switch self {
        case .bool(let v): v.count
        case .int8(let v): v.count
        case .int16(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float64(let v): v.count
        case .date(let v): v.count
        case .timestamp(let v): v.count
        case .uuid(let v): v.count
        case .string(let v): v.count
        }
    }

    /// Bytes these values take in memory (string offsets and bytes included).
    public var memoryBytes: Int {
        switch self {
        case .bool(let v): v.count
        case .int8(let v): v.count
        case .int16(let v): 2 * v.count
        case .int32(let v): 4 * v.count
        case .int64(let v): 8 * v.count
        case .float64(let v): 8 * v.count
        case .date(let v): 4 * v.count
        case .timestamp(let v): 8 * v.count
        case .uuid(let v): 16 * v.count
        case .string(let v): v.bytes.count + 4 * v.offsets.count
        }
    }

    /// `count` placeholder values of `type` (all zero / empty).
    public static func zeros(_ type: ColumnType, count: Int) -> ColumnValues {
        switch type {
        case .bool: .bool(Array(repeating: false, count: count))
        case .int8: .int8(Array(repeating: 0, count: count))
        case .int16: .int16(Array(repeating: 0, count: count))
        case .int32: .int32(Array(repeating: 0, count: count))
        case .int64: .int64(Array(repeating: 0, count: count))
        case .float64: .float64(Array(repeating: 0, count: count))
        case .date: .date(Array(repeating: 0, count: count))
        case .timestamp: .timestamp(Array(repeating: 0, count: count))
        case .uuid: .uuid(Array(repeating: .zero, count: count))
        case .string: .string(StringArray(offsets: Array(repeating: 0, count: count + 1), bytes: []))
        }
    }

    /// Integer-typed values widened to Int64 (nil for non-integer types).
    public func integerValue(at i: Int) -> Int64? {
        switch self {
        case .int8(let v): Int64(v[i])
        case .int16(let v): Int64(v[i])
        case .int32(let v): Int64(v[i])
        case .int64(let v): v[i]
        case .date(let v): Int64(v[i])
        case .timestamp(let v): v[i]
        default: nil
        }
    }
}

/// A column: values plus an optional validity bitmap (nil means no nulls).
public struct Column: Sendable, Equatable {
    public var values: ColumnValues
    public var validity: Bitmap?

    public init(_ values: ColumnValues, validity: Bitmap? = nil) {
        if let validity { precondition(validity.count == values.count, "validity length mismatch") }
        self.values = values
        self.validity = validity
    }

    public var type: ColumnType { values.type }
    public var count: Int { values.count }
    public var nullCount: Int { validity.map { count - $0.setCount } ?? 0 }

    @inlinable
    public func isNull(_ i: Int) -> Bool { validity.map { !$0[i] } ?? false }

    /// A column of `count` nulls.
    public static func nulls(_ type: ColumnType, count: Int) -> Column {
        Column(.zeros(type, count: count), validity: Bitmap(repeating: false, count: count))
    }

    /// Logical equality: same type, same nulls, same values where present.
    public func sameValues(as other: Column) -> Bool {
        guard type == other.type, count == other.count else { return false }
        for i in 0..<count where isNull(i) != other.isNull(i) { return false }
        if validity == nil && other.validity == nil && type != .float64 { return values == other.values }
        for i in 0..<count where !isNull(i) {
            if !valueEqual(i, other) { return false }
        }
        return true
    }

    private func valueEqual(_ i: Int, _ o: Column) -> Bool {
        switch (values, o.values) {
        case (.bool(let a), .bool(let b)): a[i] == b[i]
        case (.float64(let a), .float64(let b)): a[i].bitPattern == b[i].bitPattern
        case (.uuid(let a), .uuid(let b)): a[i] == b[i]
        case (.string(let a), .string(let b)): a.bytes[a.range(i)] == b.bytes[b.range(i)]
        default: values.integerValue(at: i) == o.values.integerValue(at: i)
        }
    }
}

/// Equal-length columns under one schema: the unit every stage passes around.
public struct Batch: Sendable {
    public var schema: Schema
    public var columns: [Column]
    public private(set) var rowCount: Int

    /// `rowCount` is needed only for a batch with no columns (a projection of nothing).
    public init(schema: Schema, columns: [Column], rowCount: Int? = nil) {
        precondition(schema.fields.count == columns.count, "schema and columns disagree")
        let n = columns.first?.count ?? rowCount ?? 0
        precondition(columns.allSatisfy { $0.count == n }, "ragged batch")
        precondition(zip(schema.fields, columns).allSatisfy { $0.type == $1.type }, "column type differs from schema")
        self.schema = schema
        self.columns = columns
        self.rowCount = n
    }

    public func column(_ name: String) -> Column? { schema.index(of: name).map { columns[$0] } }
}
