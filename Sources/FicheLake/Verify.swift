// Full verification: every checksum checked and every column decoded, for a chunk file,
// a table (its log, its chunks and their row counts) or a whole lake.

/// One problem `verify` found, with its precise location.
public struct VerifyProblem: Sendable, CustomStringConvertible {
    public var table: String?
    public var error: LakeError
    public var description: String { error.description }
    public init(table: String?, error: LakeError) {
        self.table = table
        self.error = error
    }
}

public struct VerifyReport: Sendable {
    public var tables = 0
    public var chunks = 0
    public var rows = 0
    public var bytes = 0
    public var problems: [VerifyProblem] = []
    public init() {}
}

public enum LakeVerifier {
    /// Opens and decodes every column of one chunk file; returns its row count.
    @discardableResult
    public static func verifyChunk(_ path: String) throws -> Int {
        let f = try ChunkFile(path: path)
        for i in f.columns.indices { _ = try f.readColumn(at: i) }
        return f.rowCount
    }

    /// Verifies tables of a lake (all if `tables` is nil). Stops at the first problem unless `all`.
    public static func verify(lake: Lake, tables: [String]? = nil, all: Bool = false,
                              progress: ((String) -> Void)? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        for name in try tables ?? lake.tableNames() {
            report.tables += 1
            let table = try lake.table(name)
            let snap: TableSnapshot
            do {
                snap = try table.snapshot()
            } catch let e as LakeError {
                report.problems.append(VerifyProblem(table: name, error: e))
                if !all { return report }
                continue
            }
            for chunk in snap.chunks {
                let path = snap.path(of: chunk)
                progress?(path)
                do {
                    let rows = try verifyChunk(path)
                    guard rows == chunk.rows else {
                        throw LakeError(.corrupt, "chunk has \(rows) rows, commit says \(chunk.rows)", file: path)
                    }
                    report.chunks += 1
                    report.rows += rows
                    report.bytes += chunk.bytes
                } catch let e as LakeError {
                    report.problems.append(VerifyProblem(table: name, error: e))
                    if !all { return report }
                }
            }
        }
        return report
    }
}
