// A clinical table as a list of chunks decoded on demand, so the build can stream the big
// per-encounter tables (procedures, diagnoses, reports) chunk by chunk: each worker holds one
// decoded chunk at a time and keeps only dense integer columns from it.

import FicheLake

public struct TableChunks: Sendable {
    public let table: String
    public let count: Int
    private let load: @Sendable (Int) throws -> Batch

    /// In-memory batches, one chunk each.
    public init(table: String, batches: [Batch]) {
        self.table = table
        count = batches.count
        load = { batches[$0] }
    }

    /// The chunks of a lake table, decoding only `columns`; an uncommitted table has none.
    /// With `prune`, chunks whose footer min/max of that column lies outside the range are skipped.
    public init(table: String, snapshot: TableSnapshot, columns: [String], prune: ChunkPrune? = nil) {
        self.table = table
        guard let schema = snapshot.schema else {
            count = 0
            load = { _ in Batch(schema: Schema([]), columns: []) }
            return
        }
        let chunks = snapshot.chunks.filter { chunk in
            guard let prune, let r = chunk.ranges?[prune.column], r.count == 2 else { return true }
            return r[1] >= prune.range.lowerBound && r[0] <= prune.range.upperBound
        }
        count = chunks.count
        load = { i in
            let file = try ChunkFile(path: snapshot.path(of: chunks[i]))
            guard file.rowCount == chunks[i].rows else {
                throw LakeError(.corrupt, "chunk has \(file.rowCount) rows, its commit says \(chunks[i].rows)", file: file.path)
            }
            return try file.read(columns: columns, as: schema)
        }
    }

    public func chunk(_ i: Int) throws -> Batch { try load(i) }
}
