// Example rows for a failed lake check: the lake is read again, chunk by chunk, only when a
// check has failed, and only until enough examples are found.

import FicheLake
import FicheModel

enum LakeExamples {
    /// Thrown to stop a chunk scan early.
    private struct Enough: Error {}

    /// Scans `column` of `table` in lake order; `body` gets (row number, batch, row in batch)
    /// and returns false to stop.
    private static func scan(_ lake: Lake, _ table: String, _ columns: [String],
                             _ body: (Int, Batch, Int) -> Bool) throws {
        var row = 0
        do {
            try lake.table(table).snapshot().forEachChunk(columns: columns) { batch in
                for i in 0..<batch.rowCount {
                    if !body(row + i, batch, i) { throw Enough() }
                }
                row += batch.rowCount
            }
        } catch is Enough {}
    }

    private static func uuid(_ batch: Batch, _ column: String, _ i: Int) -> UUID16? {
        guard case .uuid(let v)? = batch.column(column)?.values else { return nil }
        return v[i]
    }

    /// Every id of a table's uuid column.
    static func ids(_ lake: Lake, _ table: String, _ column: String) throws -> UUIDSet {
        var set = UUIDSet()
        try scan(lake, table, [column]) { _, batch, i in
            if let id = uuid(batch, column, i) { set.insert(id) }
            return true
        }
        return set
    }

    /// Rows whose id repeats an earlier row's.
    static func duplicates(_ lake: Lake, _ table: String, _ column: String, limit: Int) throws -> [String] {
        var first: [UUID16: Int] = [:]
        var out: [String] = []
        try scan(lake, table, [column]) { row, batch, i in
            guard let id = uuid(batch, column, i) else { return true }
            if let earlier = first[id] {
                out.append("\(table) row \(row): \(column) \(id.text) repeats row \(earlier)")
            } else {
                first[id] = row
            }
            return out.count < limit
        }
        return out
    }

    /// Rows whose id is not in `known`.
    static func unresolved(_ lake: Lake, _ table: String, _ column: String, in known: UUIDSet, _ knownName: String,
                           limit: Int) throws -> [String] {
        var out: [String] = []
        try scan(lake, table, [column]) { row, batch, i in
            if let id = uuid(batch, column, i), !known.contains(id) {
                out.append("\(table) row \(row): \(column) \(id.text) is not in \(knownName)")
            }
            return out.count < limit
        }
        return out
    }

    /// Diagnosis rows whose code is not in diagnosis_codes.
    static func unknownCodes(_ lake: Lake, limit: Int) throws -> [String] {
        var codes = Set<String>()
        try scan(lake, ClinicalModel.diagnosisCodes, ["code"]) { _, batch, i in
            if let c = batch.column("code")?.text(at: i) { codes.insert(c) }
            return true
        }
        var out: [String] = []
        try scan(lake, ClinicalModel.diagnoses, ["code"]) { row, batch, i in
            if let c = batch.column("code")?.text(at: i), !codes.contains(c) {
                out.append("diagnoses row \(row): code \"\(c)\" is not in diagnosis_codes")
            }
            return out.count < limit
        }
        return out
    }
}
