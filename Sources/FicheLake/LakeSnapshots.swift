// Snapshots of several tables taken together, and of a table as of an older version: what
// an export reads while writers go on committing.

extension Lake {
    /// The named tables as of one instant: transaction markers are read once, before any
    /// table's log, so a multi-table transaction committing meanwhile is seen in all of them
    /// or in none. With `version`, each table as of its commit `version` (which must be
    /// visible). Chunks of a snapshot stay readable while `fiche vacuum` retains them.
    public func snapshots(of names: [String], version: Int? = nil) throws -> [TableSnapshot] {
        let txns = try committedTransactions()
        return try names.map { name in
            let table = try self.table(name)
            var commits = try CommitLog.readAll(tableDir: table.directory)
            if let version {
                commits = commits.filter { $0.version <= version }
            }
            let snap = try TableSnapshot(table: table, commits: commits, committedTransactions: txns)
            if let version, snap.version != version {
                let latest = try TableSnapshot(table: table, commits: try CommitLog.readAll(tableDir: table.directory),
                                               committedTransactions: txns).version
                throw LakeError(.invalidArgument,
                                latest == 0 ? "table `\(name)` has no commits" : "table `\(name)` has no visible version \(version) (its latest is \(latest); `fiche log \(name)` lists them)",
                                file: table.directory)
            }
            return snap
        }
    }
}
