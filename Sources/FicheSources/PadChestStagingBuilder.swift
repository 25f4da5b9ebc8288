// Parsing PadChest CSV blocks into the `padchest` staging table's columns (the table itself:
// PadChestStaging.swift): column at a time into typed arrays, bad rows kept with line and
// reason, rows of images already seen counted as duplicates.

import FicheLake

/// Typed storage for one column being built; only the array matching `type` is used.
struct ColumnBuilder {
    let type: ColumnType
    var i64: [Int64] = []
    var i32: [Int32] = []
    var i16: [Int16] = []
    var f64: [Double] = []
    var strings = StringArray()
    var validity = Bitmap()
    var nulls = 0

    init(_ type: ColumnType) { self.type = type }

    var count: Int { validity.count }

    mutating func removeAll() {
        i64.removeAll(keepingCapacity: true)
        i32.removeAll(keepingCapacity: true)
        i16.removeAll(keepingCapacity: true)
        f64.removeAll(keepingCapacity: true)
        strings.offsets.removeAll(keepingCapacity: true)
        strings.offsets.append(0)
        strings.bytes.removeAll(keepingCapacity: true)
        validity = Bitmap()
        nulls = 0
    }

    func column() -> Column {
        let values: ColumnValues
        switch type {
        case .int64: values = .int64(i64)
        case .int32: values = .int32(i32)
        case .int16: values = .int16(i16)
        case .float64: values = .float64(f64)
        case .date: values = .date(i32)
        case .string: values = .string(strings)
        default: preconditionFailure("unsupported builder type \(type)")
        }
        return Column(values, validity: nulls > 0 ? validity : nil)
    }
}

/// Parses CSV blocks of PadChest rows into staging columns, column at a time. Rows that
/// fail go to `badRows`; rows whose ImageID was seen (in the lake or earlier in the file)
/// are counted as duplicates; the rest are kept, up to an optional limit.
public struct PadChestStagingBuilder {
    public let file: String
    public private(set) var rowsRead = 0
    public private(set) var duplicates = 0
    public private(set) var badRows: [PadChestBadRow] = []
    /// True once `limit` new rows were kept; later rows are not read.
    public private(set) var limitReached = false
    public let limit: Int?

    private var columns: [ColumnBuilder]
    private var itemColumns: [ColumnBuilder]
    private var sourceLines: [Int64] = []
    /// ImageIDs already ingested or kept in this run (stable 128-bit keys).
    private var seenImages: UUIDSet
    /// Expected uncompressed input size, to size the columns once after the first block.
    private let expectedBytes: Int64?
    private var reserved = false

    // Per-block scratch.
    private var blockBad: [Bool] = []
    private var blockReason: [String?] = []
    private var blockKeep: [Bool] = []
    private var blockI64: [[Int64]] = []
    private var blockF64: [[Double]] = []
    private var blockNull: [[Bool]] = []
    private var blockItems: [StringArray] = []

    /// `knownImageIDs`: keys (`PadChestIDs.imageKey`) of images already in the lake.
    public init(file: String, knownImageIDs: UUIDSet = UUIDSet(), limit: Int? = nil, expectedBytes: Int64? = nil) {
        self.file = file
        self.limit = limit
        self.expectedBytes = expectedBytes
        seenImages = knownImageIDs
        columns = PadChestStaging.csvColumns.map { ColumnBuilder(PadChestStaging.columnType($0.kind)) }
        itemColumns = PadChestStaging.csvColumns.filter { $0.kind == .listLiteral }.map { _ in ColumnBuilder(.string) }
        blockI64 = Array(repeating: [], count: PadChestStaging.csvColumnCount)
        blockF64 = Array(repeating: [], count: PadChestStaging.csvColumnCount)
        blockNull = Array(repeating: [], count: PadChestStaging.csvColumnCount)
        blockItems = Array(repeating: StringArray(), count: itemColumns.count)
    }

    /// Sizes every column for the whole input from the first block's density, so columns
    /// grow once instead of doubling (and copying) their way up.
    private mutating func reserveForInput(blockBytes: Int) {
        guard !reserved, let expectedBytes, blockBytes > 0, rowsKept > 0 else { return }
        reserved = true
        let scale = Double(expectedBytes) / Double(blockBytes) * 1.02
        guard scale > 1.5 else { return }
        let rows = min(Int(Double(rowsKept) * scale), flushRows + rowsKept)
        let bytesScale = Double(rows) / Double(rowsKept)
        func reserve(_ b: inout ColumnBuilder) {
            switch b.type {
            case .int64: b.i64.reserveCapacity(rows)
            case .int32, .date: b.i32.reserveCapacity(rows)
            case .int16: b.i16.reserveCapacity(rows)
            case .float64: b.f64.reserveCapacity(rows)
            case .string: b.strings.reserveCapacity(rows: rows, bytes: Int(Double(b.strings.bytes.count) * bytesScale))
            default: break
            }
            b.validity.reserveCapacity(rows)
        }
        for c in columns.indices { reserve(&columns[c]) }
        for c in itemColumns.indices { reserve(&itemColumns[c]) }
        sourceLines.reserveCapacity(rows)
    }

    /// Rows kept so far (flushed or pending).
    public private(set) var rowsKept = 0
    /// Kept rows not yet taken by `takeBatch()`.
    public var pendingRows: Int { sourceLines.count }
    /// The most rows held before the caller flushes (bounds memory; sizes reservations).
    public var flushRows = 1 << 20

    /// Checks the header record (record 0 of the first block) against the PadChest layout.
    public static func checkHeader(_ block: CSVBlock, record: Int, file: String) throws {
        let line = block.recordLine[record]
        if let issue = block.issues.first(where: { $0.record == record })?.issue {
            throw SourceError(.format, "header: \(issue.kind)", file: file, line: issue.line, column: issue.column)
        }
        guard block.fieldCount(record) == PadChestStaging.csvColumnCount else {
            throw SourceError(.format, "header has \(block.fieldCount(record)) columns, PadChest has \(PadChestStaging.csvColumnCount)", file: file, line: line)
        }
        for (k, c) in PadChestStaging.csvColumns.enumerated() {
            let name = block.fieldString(record, k)
            guard name == c.header else {
                throw SourceError(.format, "header column \(k + 1) is '\(name)', expected '\(c.header)'", file: file, line: line, column: k + 1)
            }
        }
    }

    /// Stages the records `first..<block.recordCount` of a block.
    public mutating func add(_ block: CSVBlock, from first: Int = 0) {
        guard !limitReached else { return }
        let n = block.recordCount - first
        guard n > 0 else { return }
        blockBad = Array(repeating: false, count: n)
        blockReason = Array(repeating: nil, count: n)
        // 1. Reader issues and field counts.
        for (r, issue) in block.issues where r >= first {
            blockBad[r - first] = true
            blockReason[r - first] = Self.reason(issue)
        }
        for i in 0..<n where !blockBad[i] {
            let fc = block.fieldCount(first + i)
            if fc != PadChestStaging.csvColumnCount {
                blockBad[i] = true
                blockReason[i] = "wrong field count: \(fc) fields, expected \(PadChestStaging.csvColumnCount)"
            }
        }
        // 2. Typed columns, one at a time, into block scratch; failures mark the row bad.
        for (c, spec) in PadChestStaging.csvColumns.enumerated() {
            parseColumn(block, first: first, n: n, column: c, spec: spec)
        }
        // 2b. A patient born after the study cannot be: the birth year is wrong.
        let birthC = PadChestStaging.birthYearPosition, studyC = PadChestStaging.studyDatePosition
        for i in 0..<n where !blockBad[i] && !blockNull[birthC][i] && !blockNull[studyC][i] {
            let birth = blockI64[birthC][i], study = blockI64[studyC][i]
            if PadChestFieldParsing.daysFromCivil(year: Int(birth), month: 1, day: 1) > Int(study) {
                markBad(i, "PatientBirth: \(birth) is after the year of the study (StudyDate_DICOM \(CivilDate.text(study)))")
            }
        }
        // 3. Dedupe and limit, in file order.
        blockKeep = Array(repeating: false, count: n)
        var lastRead = n
        var keptInBlock = 0
        for i in 0..<n {
            if let limit, rowsKept + keptInBlock >= limit {
                limitReached = true
                lastRead = i
                break
            }
            if blockBad[i] { continue }
            let key = PadChestIDs.imageKey(block.rawField(first + i, PadChestStaging.imageIDPosition))
            if seenImages.insert(key) {
                blockKeep[i] = true
                keptInBlock += 1
            } else {
                duplicates += 1
            }
        }
        rowsRead += lastRead
        for i in 0..<lastRead where blockBad[i] {
            let r = first + i
            let raw = block.rawRecord(r)
            let cut = UnsafeBufferPointer(rebasing: raw[0..<min(raw.count, PadChestStagingBuilder.maxRawBytes)])
            badRows.append(PadChestBadRow(line: block.recordLine[r], reason: blockReason[i] ?? "bad row",
                                          rawText: String(decoding: cut, as: UTF8.self)))
        }
        // 4. Append kept rows, column at a time.
        for (c, spec) in PadChestStaging.csvColumns.enumerated() {
            appendKept(block, first: first, n: lastRead, column: c, spec: spec)
        }
        for i in 0..<lastRead where blockKeep[i] { sourceLines.append(Int64(block.recordLine[first + i])) }
        rowsKept += keptInBlock
        reserveForInput(blockBytes: block.bytes.count)
    }

    /// A reader issue as a quarantine reason, naming the PadChest column it is in.
    static func reason(_ issue: CSVIssue) -> String {
        let columns = PadChestStaging.csvColumns
        let name = (1...columns.count).contains(issue.field) ? ", " + columns[issue.field - 1].name : ""
        return "\(issue.kind) at line \(issue.line), column \(issue.column) (field \(issue.field)\(name))"
    }

    /// Raw text kept for a quarantined row, at most.
    public static let maxRawBytes = 64 << 10

    private mutating func markBad(_ i: Int, _ reason: @autoclosure () -> String) {
        if !blockBad[i] {
            blockBad[i] = true
            blockReason[i] = reason()
        }
    }

    private mutating func parseColumn(_ block: CSVBlock, first: Int, n: Int, column c: Int,
                                      spec: (header: String, name: String, kind: PadChestColumnKind, required: Bool)) {
        // Move the scratch arrays out so they are mutated in place, not copied.
        var nulls: [Bool] = [], ints: [Int64] = [], doubles: [Double] = []
        swap(&nulls, &blockNull[c])
        swap(&ints, &blockI64[c])
        swap(&doubles, &blockF64[c])
        nulls.removeAll(keepingCapacity: true)
        nulls.append(contentsOf: repeatElement(false, count: n))
        ints.removeAll(keepingCapacity: true)
        doubles.removeAll(keepingCapacity: true)
        switch spec.kind {
        case .int64, .int32, .birthYear, .date: ints.append(contentsOf: repeatElement(0, count: n))
        case .float64: doubles.append(contentsOf: repeatElement(0, count: n))
        case .string, .listLiteral: break
        }
        // The hot loop works on raw pointers; failures are collected and applied after.
        var bad: [Bool] = []
        swap(&bad, &blockBad)
        var failures: [(Int, String)] = []
        let kind = spec.kind, required = spec.required, name = spec.name
        block.fieldStart.withUnsafeBufferPointer { fs in
            block.fieldEnd.withUnsafeBufferPointer { fe in
                block.recordFirstField.withUnsafeBufferPointer { rf in
                    bad.withUnsafeMutableBufferPointer { bad in
                        nulls.withUnsafeMutableBufferPointer { nulls in
                            ints.withUnsafeMutableBufferPointer { ints in
                                doubles.withUnsafeMutableBufferPointer { doubles in
                                    guard let base = block.bytes.baseAddress else { return }
                                    func fail(_ i: Int, _ reason: String) {
                                        bad[i] = true
                                        failures.append((i, reason))
                                    }
                                    for i in 0..<n where !bad[i] {
                                        let fi = Int(rf[first + i]) + c
                                        let start = Int(fs[fi])
                                        let f = UnsafeBufferPointer(start: base + start, count: Int(fe[fi]) - start)
                                        if PadChestFieldParsing.isMissing(f) {
                                            nulls[i] = true
                                            if required { fail(i, "missing \(name)") }
                                            continue
                                        }
                                        switch kind {
                                        case .int64:
                                            if let v = PadChestFieldParsing.int64(f) { ints[i] = v } else {
                                                fail(i, Self.notA("an integer", name, f))
                                            }
                                        case .int32:
                                            if let v = PadChestFieldParsing.int64(f), let w = Int32(exactly: v) { ints[i] = Int64(w) } else {
                                                fail(i, Self.notA("a 32-bit integer", name, f))
                                            }
                                        case .birthYear:
                                            if let v = PadChestFieldParsing.wholeNumber(f), v >= 1800, v <= 2100 { ints[i] = v } else {
                                                fail(i, Self.notA("a birth year", name, f))
                                            }
                                        case .date:
                                            if let v = PadChestFieldParsing.yyyymmdd(f) { ints[i] = Int64(v) } else {
                                                fail(i, Self.notA("a YYYYMMDD date", name, f))
                                            }
                                        case .float64:
                                            if let v = PadChestFieldParsing.double(f) { doubles[i] = v } else {
                                                fail(i, Self.notA("a number", name, f))
                                            }
                                        case .listLiteral, .string:
                                            break  // lists are parsed below, into the block's item text
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        swap(&bad, &blockBad)
        for (i, reason) in failures where blockReason[i] == nil { blockReason[i] = reason }
        if spec.kind == .listLiteral {
            let k = Self.itemColumnIndex[c]
            var items = StringArray()
            swap(&items, &blockItems[k])
            items.offsets.removeAll(keepingCapacity: true)
            items.offsets.append(0)
            items.bytes.removeAll(keepingCapacity: true)
            for i in 0..<n {
                if !blockBad[i] && !nulls[i] {
                    let f = block.rawField(first + i, c)
                    if block.fieldEscaped[block.fieldIndex(first + i, c)]
                        || !PythonListLiteral.appendItems(of: f, to: &items.bytes) {
                        markBad(i, Self.notA("a list literal", spec.name, f))
                    }
                }
                items.offsets.append(Int32(truncatingIfNeeded: items.bytes.count))
            }
            swap(&items, &blockItems[k])
        }
        blockNull[c] = nulls
        blockI64[c] = ints
        blockF64[c] = doubles
    }

    /// For each CSV column, its index among the list-literal columns (or -1).
    static let itemColumnIndex: [Int] = {
        var k = 0
        return PadChestStaging.csvColumns.map { c in
            guard c.kind == .listLiteral else { return -1 }
            k += 1
            return k - 1
        }
    }()

    static func notA(_ what: String, _ column: String, _ f: UnsafeBufferPointer<UInt8>) -> String {
        let shown = String(decoding: f.prefix(60), as: UTF8.self)
        return "\(column): '\(shown)\(f.count > 60 ? "…" : "")' is not \(what)"
    }

    private mutating func appendKept(_ block: CSVBlock, first: Int, n: Int, column c: Int,
                                     spec: (header: String, name: String, kind: PadChestColumnKind, required: Bool)) {
        let nulls = blockNull[c]
        var b = ColumnBuilder(.int64)
        swap(&b, &columns[c])  // mutate in place, not a copy
        switch spec.kind {
        case .int64:
            let ints = blockI64[c]
            for i in 0..<n where blockKeep[i] { b.i64.append(ints[i]) }
        case .int32, .date:
            let ints = blockI64[c]
            for i in 0..<n where blockKeep[i] { b.i32.append(Int32(truncatingIfNeeded: ints[i])) }
        case .birthYear:
            let ints = blockI64[c]
            for i in 0..<n where blockKeep[i] { b.i16.append(Int16(truncatingIfNeeded: ints[i])) }
        case .float64:
            let doubles = blockF64[c]
            for i in 0..<n where blockKeep[i] { b.f64.append(doubles[i]) }
        case .string, .listLiteral:
            for i in 0..<n where blockKeep[i] {
                if nulls[i] {
                    b.strings.appendEmpty()
                } else if block.fieldEscaped[block.fieldIndex(first + i, c)] {
                    block.appendField(first + i, c, to: &b.strings.bytes)
                    b.strings.offsets.append(Int32(truncatingIfNeeded: b.strings.bytes.count))
                } else {
                    b.strings.append(block.rawField(first + i, c))
                }
            }
        }
        for i in 0..<n where blockKeep[i] {
            b.validity.append(!nulls[i])
            if nulls[i] { b.nulls += 1 }
        }
        swap(&b, &columns[c])
        if spec.kind == .listLiteral {
            let k = Self.itemColumnIndex[c]
            var items = ColumnBuilder(.string)
            swap(&items, &itemColumns[k])
            let parsed = blockItems[k]
            parsed.bytes.withUnsafeBufferPointer { p in
                for i in 0..<n where blockKeep[i] {
                    if nulls[i] {
                        items.strings.appendEmpty()
                        items.validity.append(false)
                        items.nulls += 1
                    } else {
                        items.strings.append(UnsafeBufferPointer(rebasing: p[parsed.range(i)]))
                        items.validity.append(true)
                    }
                }
            }
            swap(&items, &itemColumns[k])
        }
    }

    /// The staged rows as one batch under `PadChestStaging.schema`.
    public func batch() -> Batch {
        var cols = columns.map { $0.column() }
        cols += itemColumns.map { $0.column() }
        cols.append(Column(.int64(sourceLines)))
        return Batch(schema: PadChestStaging.schema, columns: cols)
    }

    /// The pending rows as a batch; the builder keeps its counts and seen ImageIDs and
    /// starts empty columns.
    public mutating func takeBatch() -> Batch {
        let b = batch()
        for c in columns.indices { columns[c] = ColumnBuilder(columns[c].type) }
        for c in itemColumns.indices { itemColumns[c] = ColumnBuilder(.string) }
        sourceLines = []
        return b
    }
}
