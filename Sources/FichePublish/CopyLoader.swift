// Streams batches into PostgreSQL with binary COPY: encode a block of rows, send it, repeat.
// Loads a list of jobs over several connections at once, largest job first.

import FicheLake
import Foundation

/// One table (or one month's partition table) to create and fill in one transaction.
struct LoadJob: @unchecked Sendable {
    /// Unqualified table name (the connection's search_path names the schema).
    var table: String
    /// Statements run in the transaction before COPY (creating the table lets COPY use FREEZE).
    var before: [String]
    var batch: Batch
    /// Row indices of `batch` to load, in order.
    var rows: [Int32]
    var freeze: Bool
    /// Statements run in the transaction after COPY (keys and indexes of a standalone table).
    var after: [String]
    /// A month (or default) partition of a partitioned table …
    var isPartition = false
    /// … of this table.
    var parent = ""
    /// When set, the rows come from this lake table instead of `batch`: read, checked and
    /// encoded one chunk at a time on the encoder thread, so a table larger than memory
    /// (or than one batch can hold) loads in the memory of a chunk.
    var chunks: TableSnapshot? = nil

    /// The columns this job loads.
    var schema: Schema { chunks?.schema ?? batch.schema }

    /// The table's name as reports show it (`table` may be quoted for SQL).
    var label: String? = nil

    /// Rows this job loads.
    var rowCount: Int { chunks.map { $0.chunks.reduce(0) { $0 + $1.rows } } ?? rows.count }
}

extension LoadJob {
    /// A job that streams `snapshot`'s chunks into `table`.
    init(table: SQLIdentifier, before: [String], streaming snapshot: TableSnapshot, freeze: Bool, after: [String]) {
        self.init(table: table.quoted, before: before, batch: Batch(schema: Schema([]), columns: [], rowCount: 0),
                  rows: [], freeze: freeze, after: after, chunks: snapshot, label: table.name)
    }
}

/// Rows and bytes sent and time taken for one table.
public struct TableLoadStats: Sendable {
    public var table: String
    public var rows: Int
    public var bytes: Int
    public var seconds: Double
}

enum CopyLoader {
    /// Runs `job` in one transaction on `connection`: before, COPY, after, COMMIT.
    static func run(_ job: LoadJob, on connection: PostgresConnection, blockBytes: Int) throws -> TableLoadStats {
        let start = DispatchTime.now()
        do {
            // Two round trips around the COPY: begin and create, then keys, indexes and commit.
            try connection.execute(["BEGIN"] + job.before)
            let bytes = try copy(job, on: connection, blockBytes: blockBytes)
            try connection.execute(job.after + ["COMMIT"])
            return TableLoadStats(table: job.label ?? job.table, rows: job.rowCount, bytes: bytes, seconds: seconds(since: start))
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// CopyData message size: small enough that the backend parses each message while it is
    /// still in cache and while we send the next, large enough to keep calls few.
    /// (`FICHE_COPY_MESSAGE_BYTES` overrides it, for measurements.)
    static let messageBytes: Int = ProcessInfo.processInfo.environment["FICHE_COPY_MESSAGE_BYTES"].flatMap { Int($0) }
        .map { min(max($0, 4096), 64 << 20) } ?? (256 << 10)

    /// `COPY table FROM STDIN (FORMAT binary)`. A second thread encodes blocks of about
    /// `blockBytes` while this one sends the previous block in `messageBytes` messages, so
    /// the server never waits for the encoder.
    static func copy(_ job: LoadJob, on connection: PostgresConnection, blockBytes: Int) throws -> Int {
        let columns = job.schema.names.joined(separator: ", ")
        try connection.beginCopy("COPY \(job.table) (\(columns)) FROM STDIN (FORMAT binary\(job.freeze ? ", FREEZE" : ""))")
        let pipe = BlockPipe(depth: 2)
        let encoderDone = DispatchSemaphore(value: 0)
        let producer = Thread {
            defer { encoderDone.signal() }
            var encoder = BlockEncoder(pipe: pipe, blockBytes: blockBytes)
            do {
                if let snapshot = job.chunks {
                    var firstRow = 0
                    try snapshot.forEachChunk { batch in
                        // Checked here, per chunk: a bad value aborts the COPY (and with it
                        // the staging schema) before anything is published.
                        try BinaryCopyEncoder.validate(batch, table: snapshot.table.name, firstRow: firstRow)
                        guard encoder.add(batch, rows: WarehousePublisher.identity(batch.rowCount)) else { throw CancellationError() }
                        firstRow += batch.rowCount
                    }
                } else {
                    guard encoder.add(job.batch, rows: job.rows) else { return }
                }
                encoder.finish()
            } catch {
                pipe.fail(error)
            }
        }
        producer.start()
        var sent = 0
        do {
            while let block = try pipe.take() {
                try block.withUnsafeBytes { raw in
                    var at = 0
                    while at < raw.count {
                        let end = min(raw.count, at + messageBytes)
                        try connection.putCopyData(UnsafeRawBufferPointer(rebasing: raw[at..<end]))
                        at = end
                    }
                }
                sent += block.count
                pipe.recycle(block)
            }
        } catch {
            // Stop the encoder (it gives up at its next block) and wait for it, so no thread
            // is left reading chunks after this COPY has failed.
            pipe.cancel()
            encoderDone.wait()
            try? connection.endCopy(abortMessage: "fiche: \(error)")
            throw error
        }
        encoderDone.wait()
        try connection.endCopy()
        return sent
    }

    /// The encoder side: header, blocks of rows (from one batch or many), trailer, handed to
    /// the sender through `pipe` in blocks of about `blockBytes`.
    private struct BlockEncoder {
        let pipe: BlockPipe
        let blockBytes: Int
        var buffer: [UInt8]
        var rowsPerBlock = 4096

        init(pipe: BlockPipe, blockBytes: Int) {
            self.pipe = pipe
            self.blockBytes = blockBytes
            buffer = pipe.emptyBuffer(capacity: blockBytes + blockBytes / 4)
            buffer += BinaryCopyEncoder.header
        }

        /// Encodes `rows` of `batch`; false if the sender gave up.
        mutating func add(_ batch: Batch, rows: [Int32]) -> Bool {
            rows.withUnsafeBufferPointer { rows in
                var at = 0
                while at < rows.count {
                    let end = min(rows.count, at + rowsPerBlock)
                    let before = buffer.count
                    BinaryCopyEncoder.encodeRows(batch, rows: UnsafeBufferPointer(rebasing: rows[at..<end]), into: &buffer)
                    rowsPerBlock = max(256, blockBytes / max(1, (buffer.count - before) / (end - at)))
                    at = end
                    if buffer.count >= blockBytes / 2 {
                        if !pipe.put(buffer) { return false }
                        buffer = pipe.emptyBuffer(capacity: blockBytes + blockBytes / 4)
                    }
                }
                return true
            }
        }

        /// The trailer and the last block; then the pipe closes.
        mutating func finish() {
            buffer += BinaryCopyEncoder.trailer
            _ = pipe.put(buffer)
            pipe.close()
        }
    }

    /// Runs `jobs` over `workers` connections (each opened here with `target`), largest first.
    /// Each connection first runs `setup` (e.g. setting search_path). Stops at the first error.
    static func runParallel(_ jobs: [LoadJob], workers: Int, target: DatabaseTarget, setup: [String],
                            blockBytes: Int, applicationName: String) throws -> [TableLoadStats] {
        let queue = JobQueue(jobs.sorted { $0.rowCount > $1.rowCount })
        let n = max(1, min(workers, jobs.count))
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            do {
                let connection = try PostgresConnection(target, applicationName: applicationName)
                for s in setup { try connection.execute(s) }
                while let job = queue.next() {
                    queue.record(try run(job, on: connection, blockBytes: blockBytes))
                }
            } catch {
                queue.fail(error)
            }
        }
        if let error = queue.error { throw error }
        return queue.stats
    }

    /// Runs groups of statements over `workers` connections; statements of a group run in order
    /// on one connection, groups run in parallel.
    static func runStatementsParallel(_ groups: [[String]], workers: Int, target: DatabaseTarget, setup: [String],
                                      applicationName: String) throws {
        let queue = JobQueue(groups.map { LoadJob(table: "", before: $0, batch: Batch(schema: Schema([]), columns: [], rowCount: 0), rows: [], freeze: false, after: []) })
        let n = max(1, min(workers, groups.count))
        DispatchQueue.concurrentPerform(iterations: n) { _ in
            do {
                let connection = try PostgresConnection(target, applicationName: applicationName)
                for s in setup { try connection.execute(s) }
                while let job = queue.next() {
                    for s in job.before { try connection.execute(s) }
                }
            } catch {
                queue.fail(error)
            }
        }
        if let error = queue.error { throw error }
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// A shared work list for the load workers: hands out jobs, collects stats and the first error.
private final class JobQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var jobs: [LoadJob]
    private var nextIndex = 0
    private(set) var stats: [TableLoadStats] = []
    private(set) var error: Error?

    init(_ jobs: [LoadJob]) { self.jobs = jobs }

    func next() -> LoadJob? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, nextIndex < jobs.count else { return nil }
        defer { nextIndex += 1 }
        return jobs[nextIndex]
    }

    func record(_ s: TableLoadStats) {
        lock.lock()
        stats.append(s)
        lock.unlock()
    }

    func fail(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}

/// A bounded hand-off of encoded blocks from the encoder thread to the sender, with the
/// sent buffers returned for reuse (so a load allocates `depth + 1` buffers in all).
private final class BlockPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var full: [[UInt8]] = []
    private var free: [[UInt8]] = []
    private var closed = false
    private var cancelled = false
    private var failure: Error?
    private let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Blocks while `depth` blocks wait; false if the sender gave up.
    func put(_ block: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while full.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        full.append(block)
        condition.broadcast()
        return true
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The encoder could not go on (a chunk failed to read or held a bad value).
    func fail(_ error: Error) {
        condition.lock()
        failure = error
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next block, or nil once the encoder closed (or was cancelled) and all are taken;
    /// throws the encoder's error once the blocks before it are taken.
    func take() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while full.isEmpty && !closed && !cancelled { condition.wait() }
        if full.isEmpty {
            if let failure, !cancelled { throw failure }
            return nil
        }
        let block = full.removeFirst()
        condition.broadcast()
        return block
    }

    func recycle(_ block: [UInt8]) {
        condition.lock()
        var b = block
        b.removeAll(keepingCapacity: true)
        free.append(b)
        condition.unlock()
    }

    func emptyBuffer(capacity: Int) -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        if let b = free.popLast() { return b }
        var b = [UInt8]()
        b.reserveCapacity(capacity)
        return b
    }

    func cancel() {
        condition.lock()
        cancelled = true
        full.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
