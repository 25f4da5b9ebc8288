// Our client-side binary COPY against PostgreSQL's own server-side `COPY … FROM 'file'` of
// the very same bytes into the same kind of table: the server's limit for a load.

import FicheLake
import FicheWarehouse
import Foundation

public struct CopyComparison: Sendable {
    public var table: String
    public var rows: Int
    public var bytes: Int
    /// Median seconds over the runs: our COPY FROM STDIN (encoding included) …
    public var oursSeconds: Double
    /// … and the server reading the same binary stream from a file.
    public var serverSeconds: Double
}

public enum ServerCopyComparison {
    /// For each table: create a fresh table and fill it with our COPY (FREEZE), and create
    /// another and fill it with server-side `COPY … FROM '<directory>/<table>.bin' (FORMAT
    /// binary, FREEZE)` of the same encoded stream; `runs` times each, alternating, medians
    /// reported. `directory` must be readable by the server (the files are removed after).
    public static func run(tables: [(name: String, batch: Batch)], to target: DatabaseTarget, directory: String,
                           runs: Int = 3, progress: (@Sendable (String) -> Void)? = nil) throws -> [CopyComparison] {
        let schema = try SQLIdentifier("fiche_copy_comparison")
        let c = try PostgresConnection(target, applicationName: "fiche copy comparison")
        try c.execute("DROP SCHEMA IF EXISTS \(schema.quoted) CASCADE; CREATE SCHEMA \(schema.quoted); SET search_path = \(schema.quoted)")
        defer { try? c.execute("DROP SCHEMA IF EXISTS \(schema.quoted) CASCADE") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        var out: [CopyComparison] = []
        for (name, batch) in tables {
            _ = try SQLIdentifier(name)
            try BinaryCopyEncoder.validate(batch, table: name)
            let rows = WarehousePublisher.identity(batch.rowCount)
            let path = directory + "/" + name + ".bin"
            var stream = BinaryCopyEncoder.header
            rows.withUnsafeBufferPointer { BinaryCopyEncoder.encodeRows(batch, rows: $0, into: &stream) }
            stream += BinaryCopyEncoder.trailer
            guard FileManager.default.createFile(atPath: path, contents: Data(stream), attributes: [.posixPermissions: 0o644]) else {
                throw PublishError(.usage, "could not write \(path)")
            }
            let bytes = stream.count
            stream = []
            defer { try? FileManager.default.removeItem(atPath: path) }
            let create = WarehouseDDL.createTable("t", schema: batch.schema, partitioned: false)
            var ours: [Double] = [], server: [Double] = []
            for run in 0..<max(1, runs) {
                for side in (run % 2 == 0 ? [0, 1] : [1, 0]) {
                    try c.execute("DROP TABLE IF EXISTS t")
                    let start = DispatchTime.now()
                    if side == 0 {
                        let job = LoadJob(table: "t", before: [create], batch: batch, rows: rows, freeze: true, after: [])
                        _ = try CopyLoader.run(job, on: c, blockBytes: 8 << 20)
                        ours.append(seconds(since: start))
                    } else {
                        try c.execute("BEGIN")
                        try c.execute(create)
                        try c.query("COPY t FROM '\(path.replacingOccurrences(of: "'", with: "''"))' (FORMAT binary, FREEZE)")
                        try c.execute("COMMIT")
                        server.append(seconds(since: start))
                    }
                }
            }
            let row = CopyComparison(table: name, rows: batch.rowCount, bytes: bytes, oursSeconds: median(ours), serverSeconds: median(server))
            progress?("\(name): ours \(String(format: "%.3f", row.oursSeconds)) s, server \(String(format: "%.3f", row.serverSeconds)) s")
            out.append(row)
        }
        try c.execute("DROP TABLE IF EXISTS t")
        return out
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
