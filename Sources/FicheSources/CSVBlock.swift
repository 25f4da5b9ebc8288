// One block of complete CSV records as byte ranges into the reader's buffer: what
// `CSVReader.nextBlock()` hands out and the ingest reads field by field.

/// The complete records of one block. Byte ranges index `bytes`, which stays valid only
/// until the reader's next `nextBlock()` call.
public struct CSVBlock {
    public internal(set) var bytes: UnsafeBufferPointer<UInt8>
    /// Per field: start and end offset of its content (quotes excluded).
    public internal(set) var fieldStart: [Int32] = []
    public internal(set) var fieldEnd: [Int32] = []
    /// Per field: true when the quoted content holds doubled quotes to unescape.
    public internal(set) var fieldEscaped: [Bool] = []
    /// Per record: index of its first field in the field arrays (count + 1 entries).
    public internal(set) var recordFirstField: [Int32] = [0]
    /// Per record: physical line (1-based) where it starts.
    public internal(set) var recordLine: [Int] = []
    /// Per record: raw bytes, from its first byte to before its line terminator.
    public internal(set) var recordStart: [Int32] = []
    public internal(set) var recordEnd: [Int32] = []
    /// Records with a problem, as (record index, first issue), in record order.
    public internal(set) var issues: [(record: Int, issue: CSVIssue)] = []

    init() { bytes = UnsafeBufferPointer(start: nil, count: 0) }

    public var recordCount: Int { recordLine.count }

    @inlinable
    public func fieldCount(_ record: Int) -> Int {
        Int(recordFirstField[record + 1] - recordFirstField[record])
    }

    /// Index into the field arrays of field `f` of `record`.
    @inlinable
    public func fieldIndex(_ record: Int, _ f: Int) -> Int { Int(recordFirstField[record]) + f }

    /// The content bytes of field `f` of `record`, still escaped if `fieldEscaped` says so.
    @inlinable
    public func rawField(_ record: Int, _ f: Int) -> UnsafeBufferPointer<UInt8> {
        let i = fieldIndex(record, f)
        let s = Int(fieldStart[i]), e = Int(fieldEnd[i])
        return UnsafeBufferPointer(rebasing: bytes[s..<e])
    }

    /// Field content with doubled quotes undone, appended to `out`.
    public func appendField(_ record: Int, _ f: Int, to out: inout [UInt8]) {
        let i = fieldIndex(record, f)
        let raw = rawField(record, f)
        guard fieldEscaped[i] else {
            out.append(contentsOf: raw)
            return
        }
        var k = 0
        while k < raw.count {
            out.append(raw[k])
            if raw[k] == UInt8(ascii: "\"") { k += 1 }  // skip the second quote of a pair
            k += 1
        }
    }

    /// Field content as a String (unescaped); for headers, messages and tests.
    public func fieldString(_ record: Int, _ f: Int) -> String {
        var out = [UInt8]()
        appendField(record, f, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The raw bytes of a record as they appear in the input (without line terminator).
    public func rawRecord(_ record: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(recordStart[record])..<Int(recordEnd[record])])
    }

    mutating func reset(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        fieldStart.removeAll(keepingCapacity: true)
        fieldEnd.removeAll(keepingCapacity: true)
        fieldEscaped.removeAll(keepingCapacity: true)
        recordFirstField.removeAll(keepingCapacity: true)
        recordFirstField.append(0)
        recordLine.removeAll(keepingCapacity: true)
        recordStart.removeAll(keepingCapacity: true)
        recordEnd.removeAll(keepingCapacity: true)
        issues.removeAll(keepingCapacity: true)
    }
}
