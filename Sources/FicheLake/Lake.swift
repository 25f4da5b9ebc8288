// The lake: a folder of tables, each a folder of chunk files plus its commit log.
//
//   <lake>/<table>/<chunk>.fchk       chunk files (0600), fsynced before any commit names them
//   <lake>/<table>/_log/<version>.json commits, created exclusively
//   <lake>/<table>/_log/.commit        flock held while committing
//   <lake>/<table>/_log/.writers       flock: shared by writers, exclusive by vacuum
//   <lake>/_txn/<id>                   marker making a multi-table transaction's commits visible

import Foundation

public struct Lake: Sendable {
    public let root: String

    /// Opens (and by default creates, private to its owner) the lake folder.
    public init(root: String, create: Bool = true) throws {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        if create {
            try FileIO.makeDirectory(r)
            try FileIO.makePrivate(r)
        } else if !FileIO.isDirectory(r) {
            let present = FileIO.exists(r)
            let reason = errno
            if present { throw LakeError(.invalidArgument, "not a folder", file: r) }
            if reason == ENOENT { throw LakeError(.notFound, "no lake folder here", file: r) }
            throw LakeError(.io, "cannot open the lake folder: \(String(cString: strerror(reason)))", file: r)
        }
    }

    /// `$FICHE_LAKE`, else `./lake`.
    public static func defaultRoot() -> String {
        ProcessInfo.processInfo.environment["FICHE_LAKE"].flatMap { $0.isEmpty ? nil : $0 } ?? "lake"
    }

    public static func isValidTableName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            && !name.hasPrefix("_txn")
    }

    public func table(_ name: String) throws -> LakeTable {
        guard Lake.isValidTableName(name) else {
            throw LakeError(.invalidArgument, "`\(name)` is not a table name (lower-case letters, digits and _, at most 63)")
        }
        return LakeTable(lake: self, name: name)
    }

    /// Tables that have a commit log, sorted by name.
    public func tableNames() throws -> [String] {
        try FileIO.list(root).filter {
            Lake.isValidTableName($0) && FileIO.isDirectory(root + "/" + $0 + "/" + CommitLog.folder)
        }
    }

    var transactionFolder: String { root + "/_txn" }

    func committedTransactions() throws -> Set<String> { Set(try FileIO.list(transactionFolder)) }
}

/// A limit on an integer or date column; chunks whose footer range misses it are skipped.
public struct ChunkPrune: Sendable {
    public var column: String
    public var range: ClosedRange<Int64>
    public init(column: String, range: ClosedRange<Int64>) {
        self.column = column
        self.range = range
    }
}

public struct LakeTable: Sendable {
    public let lake: Lake
    public let name: String

    public var directory: String { lake.root + "/" + name }
    var logDirectory: String { directory + "/" + CommitLog.folder }

    /// Replays the visible commits.
    public func snapshot() throws -> TableSnapshot {
        let txns = try lake.committedTransactions()  // read markers first: their commits already exist
        let commits = try CommitLog.readAll(tableDir: directory)
        return try TableSnapshot(table: self, commits: commits, committedTransactions: txns)
    }

    /// The full log, visible commits only, oldest first.
    public func history() throws -> [Commit] { try snapshot().history }
}

public struct TableSnapshot: Sendable {
    public let table: LakeTable
    /// The last visible commit's version; 0 if none.
    public let version: Int
    public let schema: Schema?
    public let chunks: [ChunkEntry]
    public let history: [Commit]
    /// Highest version of any commit file, visible or not (the next commit takes one more).
    let lastFileVersion: Int

    init(table: LakeTable, commits: [Commit], committedTransactions: Set<String>) throws {
        self.table = table
        var live: [String: ChunkEntry] = [:]
        var order: [String] = []
        var schema: Schema?
        var version = 0
        var visible: [Commit] = []
        for c in commits {
            if let t = c.transaction, !committedTransactions.contains(t) { continue }
            for f in c.remove { live[f] = nil }
            for a in c.add {
                if live[a.file] == nil { order.append(a.file) }
                live[a.file] = a
            }
            schema = try c.decodedSchema()
            version = c.version
            visible.append(c)
        }
        self.chunks = order.compactMap { live[$0] }
        self.schema = schema
        self.version = version
        self.history = visible
        self.lastFileVersion = commits.last?.version ?? 0
    }

    public var rowCount: Int { chunks.reduce(0) { $0 + $1.rows } }
    public var bytes: Int { chunks.reduce(0) { $0 + $1.bytes } }
    public var rawBytes: Int { chunks.reduce(0) { $0 + $1.rawBytes } }

    public func path(of chunk: ChunkEntry) -> String { table.directory + "/" + chunk.file }

    func keep(_ chunk: ChunkEntry, _ prune: ChunkPrune?) -> Bool {
        guard let prune, let r = chunk.ranges?[prune.column], r.count == 2 else { return true }
        return r[1] >= prune.range.lowerBound && r[0] <= prune.range.upperBound
    }

    /// One batch per chunk, in commit order, projected to `columns` (all if nil).
    public func forEachChunk(columns: [String]? = nil, prune: ChunkPrune? = nil,
                             _ body: (Batch) throws -> Void) throws {
        guard let schema else { return }
        for chunk in chunks where keep(chunk, prune) {
            try body(try read(chunk, columns: columns, as: schema))
        }
    }

    /// One chunk, projected to `columns`, its row count checked against its commit's.
    func read(_ chunk: ChunkEntry, columns: [String]?, as schema: Schema) throws -> Batch {
        let file = try ChunkFile(path: path(of: chunk))
        guard file.rowCount == chunk.rows else {
            throw LakeError(.corrupt, "chunk has \(file.rowCount) rows, its commit says \(chunk.rows)", file: file.path)
        }
        return try file.read(columns: columns, as: schema)
    }

    /// `forEachChunk`, with the next chunk read and decoded on another thread while `body`
    /// works on the current one (two chunks in memory at most). For consumers that keep a
    /// core busy per chunk, such as the Parquet export.
    public func forEachChunkReadingAhead(columns: [String]? = nil, _ body: (Batch) throws -> Void) throws {
        guard let schema else { return }
        let list = chunks
        guard list.count > 1 else { return try forEachChunk(columns: columns, body) }
        final class Pending: @unchecked Sendable {
            let done = DispatchGroup()
            var result: Result<Batch, Error>?
        }
        func start(_ i: Int) -> Pending {
            let p = Pending()
            p.done.enter()
            DispatchQueue.global().async {
                p.result = Result { try self.read(list[i], columns: columns, as: schema) }
                p.done.leave()
            }
            return p
        }
        var next = start(0)
        // A body that throws leaves no reader running behind it.
        defer { next.done.wait() }
        for i in 0..<list.count {
            next.done.wait()
            let batch = try next.result!.get()
            if i + 1 < list.count { next = start(i + 1) }
            try body(batch)
        }
    }

    /// The whole table (or the chunks `prune` keeps) as one batch.
    public func readAll(columns: [String]? = nil, prune: ChunkPrune? = nil) throws -> Batch {
        guard let schema else {
            throw LakeError(.invalidArgument, "table `\(table.name)` has no commits", file: table.directory)
        }
        var parts: [Batch] = []
        try forEachChunk(columns: columns, prune: prune) { parts.append($0) }
        if parts.isEmpty {
            let fields = try (columns ?? schema.names).map { n -> Field in
                guard let f = schema[n] else { throw LakeError(.invalidArgument, "no column `\(n)` in `\(table.name)`") }
                return f
            }
            return Batch(schema: Schema(fields), columns: fields.map { Column(.zeros($0.type, count: 0)) })
        }
        if let (column, bytes) = Batch.textOverflow(parts) {
            throw LakeError(.tooLarge, "holds \(bytes) bytes of text, more than one batch can (\(StringArray.maxBytes)); read it chunk by chunk",
                            file: table.directory, column: column)
        }
        return Batch.concatenate(parts)
    }
}

struct RowBuffer {
    var batches: [Batch] = []
    var rows = 0
    var bytes = 0
    mutating func add(_ b: Batch) {
        batches.append(b)
        rows += b.rowCount
        bytes += b.memoryBytes
    }
}

/// Writes to one or more tables that become visible together at `commit()`, or not at all.
/// Chunk files are written and fsynced as batches arrive; nothing names them until commit.
public final class LakeTransaction {
    public let lake: Lake
    public let source: String
    public let operation: String
    public let chunkRows: Int
    public let zstdLevel: Int
    /// The most bytes of appended rows held in memory across every table and partition of
    /// the transaction; past it the largest partition's rows are written as a smaller chunk.
    public let bufferBytes: Int
    /// The most bytes of column data in one chunk (before encoding): far below what a string
    /// column can address (`StringArray.maxBytes`), and a bound on a reader's memory.
    public let chunkBytes: Int

    struct Pending {
        var table: LakeTable
        var schema: Schema?
        var added: [ChunkEntry] = []
        var replace = false
        /// Appended rows not yet written, by partition: small appends are gathered into full chunks.
        var buffers: [Int64: RowBuffer] = [:]
        var baseVersion: Int
        var writerLock: Int32
    }
    private var pending: [String: Pending] = [:]
    private var committed = false
    /// Bytes of the rows held in every `Pending.buffers`.
    private var bufferedBytes = 0

    public init(lake: Lake, source: String, operation: String, chunkRows: Int = 1 << 20, zstdLevel: Int = 3,
                bufferBytes: Int = 1 << 30, chunkBytes: Int = 256 << 20) {
        self.lake = lake
        self.source = source
        self.operation = operation
        self.chunkRows = max(1, min(chunkRows, ChunkFormat.maxRows))
        self.zstdLevel = zstdLevel
        self.chunkBytes = max(1, min(chunkBytes, StringArray.maxBytes / 2))
        self.bufferBytes = max(self.chunkBytes, bufferBytes)
    }

    deinit { releaseWriterLocks() }

    private func releaseWriterLocks() {
        for (name, p) in pending where p.writerLock >= 0 {
            _ = close(p.writerLock)
            pending[name]?.writerLock = -1
        }
    }

    /// Gives up: nothing is committed; the chunk files written so far are left for `vacuum`.
    public func abort() {
        committed = true
        releaseWriterLocks()
    }

    private func entry(_ name: String) throws -> Pending {
        if let p = pending[name] { return p }
        let t = try lake.table(name)
        try FileIO.makeDirectory(t.directory)
        try FileIO.makeDirectory(t.logDirectory)
        guard let lock = try FileIO.lock(t.logDirectory + "/.writers", exclusive: false) else {
            throw LakeError(.conflict, "table is being vacuumed", file: t.directory)
        }
        let snap = try t.snapshot()
        let p = Pending(table: t, schema: snap.schema, baseVersion: snap.version, writerLock: lock)
        pending[name] = p
        return p
    }

    /// Adds `batch` to `table`. If it throws (a chunk could not be written: disk full, say),
    /// the batch may be held already: abandon the transaction rather than append it again.
    /// Rows are gathered into chunk files of `chunkRows` rows (written
    /// and fsynced as each fills; the rest at commit), so many small appends still make full
    /// chunks. Rows of different `partition`s (say, encounter years) never share a full chunk,
    /// so date-range reads can skip chunks. The table's schema becomes the batch's; it may add
    /// columns to the existing schema, never drop or retype one.
    public func append(_ batch: Batch, to table: String, partition: Int64? = nil) throws {
        precondition(!committed, "transaction already committed")
        var p = try entry(table)
        if let old = p.schema, old != batch.schema, !p.replace {
            for f in old.fields {
                guard let g = batch.schema[f.name] else {
                    throw LakeError(.schemaMismatch, "batch lacks column `\(f.name)` of table `\(table)`")
                }
                guard g.type == f.type else {
                    throw LakeError(.schemaMismatch, "column `\(f.name)` of `\(table)` is \(f.type), batch has \(g.type)")
                }
            }
        }
        p.schema = batch.schema
        let key = partition ?? Int64.min
        if let first = p.buffers[key]?.batches.first, first.schema != batch.schema { try flush(&p, key) }
        p.buffers[key, default: RowBuffer()].add(batch)
        bufferedBytes += batch.memoryBytes
        if let b = p.buffers[key], b.rows >= chunkRows || b.bytes >= chunkBytes { try flush(&p, key, fullChunksOnly: true) }
        pending[table] = p
        try keepBuffersWithinBudget()
    }

    /// While the rows held for all tables pass `bufferBytes`, writes the largest partition's
    /// rows as a chunk of its own (smaller than `chunkRows`, still one partition).
    private func keepBuffersWithinBudget() throws {
        while bufferedBytes > bufferBytes {
            var largest: (table: String, key: Int64, bytes: Int)?
            for (name, p) in pending {
                for (key, b) in p.buffers where b.bytes > (largest?.bytes ?? 0) { largest = (name, key, b.bytes) }
            }
            guard let largest, var p = pending[largest.table] else { return }
            try flush(&p, largest.key)
            pending[largest.table] = p
        }
    }

    /// Writes a partition's buffered rows as chunk files of at most `chunkRows` rows and
    /// `chunkBytes` bytes (a single row wider than that makes a chunk of its own); with
    /// `fullChunksOnly`, a last partial chunk stays buffered for the next append. Each
    /// appended batch's rows are counted at that batch's own width, so a mix of narrow and
    /// wide batches still cuts at the byte bound; rows are copied into at most one chunk.
    private func flush(_ p: inout Pending, _ key: Int64, fullChunksOnly: Bool = false) throws {
        guard let buffer = p.buffers.removeValue(forKey: key) else { return }
        bufferedBytes -= buffer.bytes
        var parts: [Batch] = [], rows = 0, bytes = 0.0
        func writeParts() throws {
            try writeChunk(parts.count == 1 ? parts[0] : Batch.concatenate(parts), &p)
            parts = []
            rows = 0
            bytes = 0
        }
        for batch in buffer.batches where batch.rowCount > 0 {
            let width = max(1, Double(batch.memoryBytes) / Double(batch.rowCount))
            var at = 0
            while at < batch.rowCount {
                var fit = min(batch.rowCount - at, chunkRows - rows, Int((Double(chunkBytes) - bytes) / width))
                if fit <= 0 {
                    if rows > 0 { try writeParts(); continue }
                    fit = 1
                }
                parts.append(at == 0 && fit == batch.rowCount ? batch : batch.slice(at..<(at + fit)))
                rows += fit
                bytes += Double(fit) * width
                at += fit
                if rows >= chunkRows || Double(chunkBytes) - bytes < width { try writeParts() }
            }
        }
        guard rows > 0 else { return }
        if fullChunksOnly {
            var rest = RowBuffer()
            for b in parts { rest.add(b) }
            p.buffers[key] = rest
            bufferedBytes += rest.bytes
        } else {
            try writeParts()
        }
    }

    /// At commit: leftovers of all partitions go into one chunk when they fit in one (rows
    /// and bytes), else each partition's into its own.
    private func flushAll(_ p: inout Pending) throws {
        let keys = p.buffers.keys.sorted()
        let batches = keys.flatMap { p.buffers[$0]!.batches }
        let rows = keys.reduce(0) { $0 + p.buffers[$1]!.rows }
        let bytes = keys.reduce(0) { $0 + p.buffers[$1]!.bytes }
        if keys.count > 1, rows <= chunkRows, bytes <= chunkBytes, let first = batches.first, batches.allSatisfy({ $0.schema == first.schema }) {
            p.buffers = [:]
            bufferedBytes -= bytes
            if rows > 0 { try writeChunk(Batch.concatenate(batches), &p) }
            return
        }
        for k in keys { try flush(&p, k) }
    }

    private func writeChunk(_ part: Batch, _ p: inout Pending) throws {
        let file = "c" + String(Int(Date().timeIntervalSince1970)) + "-" + FileIO.randomHex(8) + ".fchk"
        let written = try ChunkWriter.write(part, to: p.table.directory + "/" + file, zstdLevel: zstdLevel)
        var ranges: [String: [Int64]] = [:]
        for (f, s) in zip(part.schema.fields, written.stats) {
            if case .integer(let lo, let hi) = s { ranges[f.name] = [lo, hi] }
        }
        p.added.append(ChunkEntry(file: file, rows: part.rowCount, bytes: written.bytes, rawBytes: written.rawBytes,
                                  ranges: ranges.isEmpty ? nil : ranges))
    }

    /// The commit will also remove every chunk the table has when the transaction began.
    /// If another writer commits to the table in between, `commit()` fails with a conflict.
    public func replaceAll(_ table: String) throws {
        var p = try entry(table)
        p.replace = true
        pending[table] = p
    }

    /// Makes every write visible at once. Waits for other committers of the same tables;
    /// appends rebase on whatever they committed, a replace whose base moved fails.
    public func commit() throws {
        precondition(!committed, "transaction already committed")
        committed = true
        defer { releaseWriterLocks() }
        let names = pending.keys.sorted()
        guard !names.isEmpty else { return }
        for n in names {
            try flushAll(&pending[n]!)
            try FileIO.syncDirectory(pending[n]!.table.directory)
        }

        var locks: [Int32] = []
        defer { for fd in locks { _ = close(fd) } }
        for n in names {
            if let fd = try FileIO.lock(pending[n]!.table.logDirectory + "/.commit", exclusive: true) { locks.append(fd) }
        }
        let txn: String? = names.count > 1 ? String(Int(Date().timeIntervalSince1970)) + "-" + FileIO.randomHex(8) : nil
        var commits: [(Pending, Commit)] = []
        for n in names {
            let p = pending[n]!
            let snap = try p.table.snapshot()
            if p.replace && snap.version != p.baseVersion {
                throw LakeError(.conflict, "another writer committed version \(snap.version) to `\(n)` after this transaction began at \(p.baseVersion); nothing was committed",
                                file: p.table.directory)
            }
            let removed = p.replace ? snap.chunks : []
            let schema = p.schema ?? snap.schema ?? Schema([])
            let c = Commit(version: snap.lastFileVersion + 1, table: n, operation: operation, source: source,
                           user: CommitLog.user, host: CommitLog.host, pid: CommitLog.pid, time: CommitLog.now(),
                           transaction: txn, schema: schema.records, add: p.added, remove: removed.map(\.file),
                           rowsAdded: p.added.reduce(0) { $0 + $1.rows }, rowsRemoved: removed.reduce(0) { $0 + $1.rows })
            commits.append((p, c))
        }
        for (p, c) in commits {
            let path = p.table.logDirectory + "/" + CommitLog.fileName(c.version)
            guard try FileIO.publishExclusive(try CommitLog.encode(c), at: path, folder: p.table.logDirectory) else {
                throw LakeError(.conflict, "commit \(c.version) was created by a writer that does not lock; nothing was committed",
                                file: path)
            }
            try FileIO.syncDirectory(p.table.logDirectory)
        }
        if let txn {
            try FileIO.makeDirectory(lake.transactionFolder)
            let marker = "{\"tables\":[" + names.map { "\"\($0)\"" }.joined(separator: ",") + "]}\n"
            guard try FileIO.publishExclusive(Array(marker.utf8), at: lake.transactionFolder + "/" + txn,
                                              folder: lake.transactionFolder) else {
                throw LakeError(.conflict, "transaction id collision", file: lake.transactionFolder)
            }
            try FileIO.syncDirectory(lake.transactionFolder)
        }
    }
}

extension Lake {
    /// Runs `body` holding the lake-wide advisory lock `name` (waiting for it), so that two
    /// processes doing the same read-decide-commit work (say, two ingests of one source)
    /// take turns. The kernel releases the lock if the process dies.
    public func withExclusiveLock<R>(_ name: String, _ body: () throws -> R) throws -> R {
        guard Lake.isValidTableName(name) else {
            throw LakeError(.invalidArgument, "`\(name)` is not a lock name (lower-case letters, digits and _)")
        }
        let folder = root + "/_locks"
        try FileIO.makeDirectory(folder)
        guard let fd = try FileIO.lock(folder + "/" + name, exclusive: true) else {
            throw LakeError(.conflict, "could not take lock \(name)", file: folder)
        }
        defer { _ = close(fd) }
        return try body()
    }
}
