// Writes a synthetic clinic into the lake's clinical tables: block by block, in one
// transaction that commits every table at once at the end, so memory stays bounded
// by one block and a failed run leaves nothing behind.

import Dispatch
import FicheLake
import FicheModel

/// What `SyntheticClinic.write(to:)` did.
public struct SyntheticWriteSummary: Sendable {
    public let seed: UInt64
    public let patients: Int
    public let facilities: Int
    public let blocks: Int
    /// Rows written per clinical table, in write order.
    public let rows: [(table: String, rows: Int)]
    /// Compressed bytes of the chunk files written.
    public let bytes: Int
    /// Seconds spent generating batches, and appending them to the lake (encoding,
    /// compressing, writing, fsyncing) plus the commit. Generation of the next block
    /// overlaps the writing of the current one, so the two can add up to more than
    /// `wallSeconds`, the time the whole run took.
    public let generateSeconds: Double
    public let writeSeconds: Double
    public let wallSeconds: Double
    /// True when the run replaced earlier synthetic data.
    public let replaced: Bool
    /// False for a dry run.
    public let written: Bool

    public func rows(of table: String) -> Int { rows.first { $0.table == table }?.rows ?? 0 }
    public var totalRows: Int { rows.reduce(0) { $0 + $1.rows } }
    public var encounters: Int { rows(of: ClinicalModel.encounters) }
}

extension SyntheticClinic {
    /// The tables a synthetic run writes, in order.
    public static let tableNames = [
        ClinicalModel.facilities, ClinicalModel.diagnosisCodes, ClinicalModel.patients, ClinicalModel.encounters,
        ClinicalModel.procedures, ClinicalModel.diagnoses, ClinicalModel.reports,
    ]

    static func tableIndex(_ name: String) -> Int { tableNames.firstIndex(of: name) ?? 0 }

    /// The commit log's operation text for this run (how to reproduce it).
    public var operation: String { "generate seed=\(seed) patients=\(patients) facilities=\(facilities)" }

    /// Generates every block and counts its rows without writing anything: the generator's
    /// own speed.
    public func dryRun(progress: ((Int, Int) -> Void)? = nil) -> SyntheticWriteSummary {
        let clock = ContinuousClock()
        var rows = [Int](repeating: 0, count: Self.tableNames.count)
        let t0 = clock.now
        rows[0] = facilityBatch().rowCount
        rows[1] = diagnosisCodeBatch().rowCount
        for b in 0..<blockCount {
            let block = generate(block: b)
            for table in block.tables { rows[Self.tableIndex(table.name)] += table.batch.rowCount }
            progress?(b + 1, blockCount)
        }
        return SyntheticWriteSummary(seed: seed, patients: patients, facilities: facilities, blocks: blockCount,
                                     rows: Array(zip(Self.tableNames, rows)).map { ($0, $1) }, bytes: 0,
                                     generateSeconds: Self.seconds(clock.now - t0), writeSeconds: 0,
                                     wallSeconds: Self.seconds(clock.now - t0), replaced: false, written: false)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Appends a generated block's non-empty tables to `txn`, counting rows per table of
    /// `tableNames`.
    static func append(_ block: SyntheticBlock, to txn: LakeTransaction, rows: inout [Int]) throws {
        for table in block.tables where table.batch.rowCount > 0 {
            try txn.append(table.batch, to: table.name, partition: table.partition)
            rows[tableIndex(table.name)] += table.batch.rowCount
        }
    }

    /// Bytes of the chunks that the last commit of each synthetic table added, where that
    /// commit is this run's (`isThisRun`).
    static func bytesCommitted(_ lake: Lake, isThisRun: (Commit) -> Bool) throws -> Int {
        var bytes = 0
        for name in tableNames {
            if let mine = try lake.table(name).snapshot().history.last, isThisRun(mine) {
                bytes += mine.add.reduce(0) { $0 + $1.bytes }
            }
        }
        return bytes
    }

    /// Generates every block and writes it to `lake` in one transaction.
    /// Refuses when the lake already holds synthetic data, unless `replace` is set and the
    /// synthetic tables hold nothing else. `progress` is called after each block with
    /// (blocks done, blocks total).
    public func write(to lake: Lake, replace: Bool = false, chunkRows: Int = 1 << 20, zstdLevel: Int = 3,
                      progress: ((Int, Int) -> Void)? = nil) throws -> SyntheticWriteSummary {
        var mustReplace = false
        for name in Self.tableNames {
            let snapshot = try lake.table(name).snapshot()
            let history = snapshot.history
            if let earlier = history.last(where: { $0.source == Self.source }) {
                guard replace else {
                    throw SourceError.alreadyGenerated(table: name, operation: earlier.operation, time: earlier.time)
                }
                mustReplace = true
            }
            if replace {
                // Which source added each live chunk: replacing is safe only if all are ours.
                var addedBy: [String: String] = [:]
                for c in history { for a in c.add { addedBy[a.file] = c.source } }
                if let other = snapshot.chunks.lazy.compactMap({ addedBy[$0.file] }).first(where: { $0 != Self.source }) {
                    throw SourceError.sharedTable(table: name, source: other)
                }
            }
        }

        let clock = ContinuousClock()
        let start = clock.now
        var writing = Duration.zero
        let txn = LakeTransaction(lake: lake, source: Self.source, operation: operation,
                                  chunkRows: chunkRows, zstdLevel: zstdLevel)
        var rows = [Int](repeating: 0, count: Self.tableNames.count)

        // The next block is generated on a worker thread while this one is written.
        let worker = DispatchQueue(label: "fiche.synthetic.generate")
        let generated = GeneratedBlocks()
        func startGenerating(_ b: Int) {
            guard b < blockCount else { return }
            worker.async(group: generated.group) { [self] in
                let t = clock.now
                let block = generate(block: b)
                generated.put(block, seconds: clock.now - t)
            }
        }
        startGenerating(0)

        var t0 = clock.now
        let reference = [facilityBatch(), diagnosisCodeBatch()]
        if mustReplace {
            for name in Self.tableNames { try txn.replaceAll(name) }
        }
        for (i, batch) in reference.enumerated() {
            try txn.append(batch, to: Self.tableNames[i])
            rows[i] += batch.rowCount
        }
        writing += clock.now - t0

        for b in 0..<blockCount {
            generated.group.wait()
            guard let block = generated.take() else { preconditionFailure("block \(b) was not generated") }
            startGenerating(b + 1)
            t0 = clock.now
            try Self.append(block, to: txn, rows: &rows)
            writing += clock.now - t0
            progress?(b + 1, blockCount)
        }
        t0 = clock.now
        try txn.commit()
        writing += clock.now - t0
        let wall = clock.now - start

        let bytes = try Self.bytesCommitted(lake) { $0.source == Self.source }
        return SyntheticWriteSummary(seed: seed, patients: patients, facilities: facilities, blocks: blockCount,
                                     rows: Array(zip(Self.tableNames, rows)).map { ($0, $1) }, bytes: bytes,
                                     generateSeconds: Self.seconds(generated.seconds), writeSeconds: Self.seconds(writing),
                                     wallSeconds: Self.seconds(wall),
                                     replaced: mustReplace, written: true)
    }
}

/// The hand-over between the generating worker and the writer: at most one block waits.
private final class GeneratedBlocks: @unchecked Sendable {
    let group = DispatchGroup()
    private let lock = DispatchSemaphore(value: 1)
    private var block: SyntheticBlock?
    private(set) var seconds = Duration.zero

    func put(_ b: SyntheticBlock, seconds s: Duration) {
        lock.wait()
        block = b
        seconds += s
        lock.signal()
    }

    func take() -> SyntheticBlock? {
        lock.wait()
        defer { lock.signal() }
        let b = block
        block = nil
        return b
    }
}
