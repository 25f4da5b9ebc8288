// Looks up the diagnosis code of a PadChest label: ICD-10 where the reviewable mapping
// (Resources/padchest_label_codes.csv, compiled in by SwiftPM) gives one, else a
// PADCHEST-FINDING code `PADCHEST:<label>`.

import FicheLake

/// One diagnosis code as it lands in `diagnosis_codes`.
public struct DiagnosisCode: Sendable, Equatable {
    public var code: String
    public var description: String
    public var category: String
    public var codingSystem: String
    public var umlsCUI: String?
}

/// The label → code table, keyed by trimmed label bytes.
public struct PadChestLabelCodes: Sendable {
    public static let findingSystem = "PADCHEST-FINDING"
    public static let findingCategory = "Radiographic finding"
    public static let icd10System = "ICD-10"

    /// Per known label: the code it maps to.
    public private(set) var codes: [DiagnosisCode] = []
    public private(set) var labels: [[UInt8]] = []
    private var index: [UInt64: Int] = [:]

    /// The bytes of Resources/padchest_label_codes.csv, compiled in by SwiftPM (`.embedInCode`).
    static var embeddedCSV: [UInt8] { PackageResources.padchest_label_codes_csv }

    /// The built-in table (Resources/padchest_label_codes.csv).
    public static func builtIn() throws -> PadChestLabelCodes {
        try PadChestLabelCodes(csv: embeddedCSV, name: "padchest_label_codes.csv")
    }

    /// Reads a mapping CSV with header `label,code,coding_system,description,category,umls_cui`.
    public init(csv: [UInt8], name: String) throws {
        var reader = CSVReader(source: MemoryBytes(csv))
        defer { reader.release() }
        var header = true
        let expected = ["label", "code", "coding_system", "description", "category", "umls_cui"]
        while let block = try reader.nextBlock() {
            if let (r, issue) = block.issues.first {
                throw SourceError(.format, "\(issue.kind) (record \(r + 1))", file: name, line: issue.line, column: issue.column)
            }
            for r in 0..<block.recordCount {
                let fields = (0..<block.fieldCount(r)).map { block.fieldString(r, $0) }
                guard fields.count == expected.count else {
                    throw SourceError(.format, "\(fields.count) fields, expected \(expected.count)", file: name, line: block.recordLine[r])
                }
                if header {
                    guard fields == expected else {
                        throw SourceError(.format, "header must be \(expected.joined(separator: ","))", file: name, line: 1)
                    }
                    header = false
                    continue
                }
                let label = Self.trim(Array(fields[0].utf8))
                guard !label.isEmpty else {
                    throw SourceError(.format, "empty label", file: name, line: block.recordLine[r], column: 1)
                }
                let cui = fields[5].isEmpty ? nil : fields[5]
                let code: DiagnosisCode
                if fields[1].isEmpty {
                    code = Self.finding(label: label, cui: cui)
                } else {
                    guard !fields[2].isEmpty, !fields[3].isEmpty, !fields[4].isEmpty else {
                        throw SourceError(.format, "a mapped label needs coding_system, description and category", file: name, line: block.recordLine[r])
                    }
                    code = DiagnosisCode(code: fields[1], description: fields[3], category: fields[4],
                                         codingSystem: fields[2], umlsCUI: cui)
                }
                guard lookup(label) == nil else {
                    throw SourceError(.format, "label '\(fields[0])' listed twice", file: name, line: block.recordLine[r], column: 1)
                }
                insert(label: label, code: code)
            }
        }
    }

    private mutating func insert(label: [UInt8], code: DiagnosisCode) {
        let h = FNV1a64.hash(label)
        if index[h] == nil { index[h] = codes.count }  // a collision falls back to the scan in lookup
        codes.append(code)
        labels.append(label)
    }

    /// Index in `codes` of a trimmed label, or nil when the label is not in the table.
    public func lookup(_ label: ArraySlice<UInt8>) -> Int? {
        let h = FNV1a64.hash(label)
        if let i = index[h], PadChestMapper.equal(label, labels[i]) { return i }
        if index[h] == nil { return nil }
        return labels.firstIndex { PadChestMapper.equal(label, $0) }
    }

    public func lookup(_ label: [UInt8]) -> Int? { lookup(label[...]) }

    public func lookup(_ label: UnsafeBufferPointer<UInt8>) -> Int? {
        let h = FNV1a64.hash(label)
        if let i = index[h], PadChestMapper.equal(label, labels[i]) { return i }
        if index[h] == nil { return nil }
        return labels.firstIndex { PadChestMapper.equal(label, $0) }
    }

    /// The code of a label absent from the table: kept as a PADCHEST-FINDING.
    public static func finding(label: [UInt8], cui: String? = nil) -> DiagnosisCode {
        let text = String(decoding: label, as: UTF8.self)
        return DiagnosisCode(code: "PADCHEST:" + text, description: text, category: findingCategory,
                             codingSystem: findingSystem, umlsCUI: cui)
    }

    static func trim(_ b: [UInt8]) -> [UInt8] {
        var s = 0, e = b.count
        while s < e && (b[s] == 32 || b[s] == 9) { s += 1 }
        while e > s && (b[e - 1] == 32 || b[e - 1] == 9) { e -= 1 }
        return Array(b[s..<e])
    }
}
