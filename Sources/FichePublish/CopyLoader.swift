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
        try connection.execute("BEGIN")
        do {
            for s in job.before { try connection.execute(s) }
            let bytes = try copy(job, on: connection, blockBytes: blockBytes)
            for s in job.after { try connection.execute(s) }
            try connection.execute("COMMIT")
            return TableLoadStats(table: job.table, rows: job.rows.count, bytes: bytes, seconds: seconds(since: start))
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
        let columns = job.batch.schema.names.joined(separator: ", ")
        try connection.beginCopy("COPY \(job.table) (\(columns)) FROM STDIN (FORMAT binary\(job.freeze ? ", FREEZE" : ""))")
        let pipe = BlockPipe(depth: 2)
        let batch = job.batch, rows = job.rows
        let producer = Thread {
            encodeBlocks(batch, rows: rows, blockBytes: blockBytes, into: pipe)
        }
        producer.start()
        var sent = 0
        do {
            while let block = pipe.take() {
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
            pipe.cancel()
            while pipe.take() != nil {}  // let the encoder finish and exit
            try? connection.endCopy(abortMessage: "fiche: \(error)")
            throw error
        }
        try connection.endCopy()
        return sent
    }

    /// The encoder side: header, blocks of rows, trailer; stops early if the sender cancels.
    private static func encodeBlocks(_ batch: Batch, rows: [Int32], blockBytes: Int, into pipe: BlockPipe) {
        var buffer = pipe.emptyBuffer(capacity: blockBytes + blockBytes / 4)
        buffer += BinaryCopyEncoder.header
        rows.withUnsafeBufferPointer { rows in
            var at = 0
            var rowsPerBlock = 4096
            while at < rows.count {
                let end = min(rows.count, at + rowsPerBlock)
                let before = buffer.count
                BinaryCopyEncoder.encodeRows(batch, rows: UnsafeBufferPointer(rebasing: rows[at..<end]), into: &buffer)
                rowsPerBlock = max(256, blockBytes / max(1, (buffer.count - before) / (end - at)))
                at = end
                if buffer.count >= blockBytes / 2 && at < rows.count {
                    if !pipe.put(buffer) { return }
                    buffer = pipe.emptyBuffer(capacity: blockBytes + blockBytes / 4)
                }
            }
        }
        buffer += BinaryCopyEncoder.trailer
        _ = pipe.put(buffer)
        pipe.close()
    }

    /// Runs `jobs` over `workers` connections (each opened here with `target`), largest first.
    /// Each connection first runs `setup` (e.g. setting search_path). Stops at the first error.
    static func runParallel(_ jobs: [LoadJob], workers: Int, target: DatabaseTarget, setup: [String],
                            blockBytes: Int, applicationName: String) throws -> [TableLoadStats] {
        let queue = JobQueue(jobs.sorted { $0.rows.count > $1.rows.count })
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

    /// The next block, or nil once the encoder closed (or was cancelled) and all are taken.
    func take() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while full.isEmpty && !closed && !cancelled { condition.wait() }
        if full.isEmpty { return nil }
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
