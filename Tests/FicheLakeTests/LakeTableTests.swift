import Dispatch
import Foundation
import Testing

@testable import FicheLake

func idBatch(_ ids: Range<Int64>, note: String = "x") -> Batch {
    Batch(schema: Schema([Field("id", .int64, nullable: false), Field("note", .string)]),
          columns: [Column(.int64(Array(ids))), Column(.string(StringArray(ids.map { _ in note })))])
}

@Suite("Lake tables and commits")
struct LakeTableTests {
    @Test func aTransactionIsInvisibleUntilCommitThenWhole() throws {
        let lake = try Lake(root: try temporaryDirectory("txn"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let t = LakeTransaction(lake: lake, source: "test", operation: "append", chunkRows: 10)
        try t.append(idBatch(0..<25), to: "patients")
        try t.append(idBatch(0..<7), to: "encounters")
        #expect(try lake.table("patients").snapshot().rowCount == 0)
        #expect(try lake.table("encounters").snapshot().rowCount == 0)
        try t.commit()
        let p = try lake.table("patients").snapshot()
        #expect(p.rowCount == 25)
        #expect(p.chunks.count == 3)  // 10 + 10 + 5
        #expect(try lake.table("encounters").snapshot().rowCount == 7)
        let back = try p.readAll()
        #expect(back.column("id") == Column(.int64(Array(0..<25))))
        #expect(p.history.count == 1 && p.history[0].source == "test" && p.history[0].rowsAdded == 25)
    }

    @Test func replaceAllSwapsContentAndVacuumRemovesTheOldChunks() throws {
        let lake = try Lake(root: try temporaryDirectory("replace"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let a = LakeTransaction(lake: lake, source: "test", operation: "append")
        try a.append(idBatch(0..<5), to: "dim")
        try a.commit()
        let r = LakeTransaction(lake: lake, source: "test", operation: "overwrite")
        try r.replaceAll("dim")
        try r.append(idBatch(100..<103), to: "dim")
        try r.commit()
        let snap = try lake.table("dim").snapshot()
        #expect(snap.rowCount == 3)
        #expect(snap.version == 2)
        let v = try lake.vacuum()
        #expect(v.removedFiles.count == 1)
        #expect(try lake.table("dim").snapshot().readAll().column("id") == Column(.int64([100, 101, 102])))
    }

    /// Appends to several partitions are held in memory only up to the transaction's budget:
    /// past it the largest partition is written as a smaller chunk; no chunk passes
    /// `chunkBytes`, even when narrow and wide rows mix; every row arrives, each partition's
    /// in order.
    @Test func bufferedRowsStayWithinTheBudgetAndEveryRowArrives() throws {
        let lake = try Lake(root: try temporaryDirectory("budget"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let t = LakeTransaction(lake: lake, source: "test", operation: "append", chunkRows: 1000,
                                bufferBytes: 6000, chunkBytes: 6000)
        var written: [Int64: [Int64]] = [:], partitionOf: [Int64: Int64] = [:]
        func append(_ ids: Range<Int64>, note: String, partition: Int64) throws {
            try t.append(idBatch(ids, note: note), to: "t", partition: partition)
            written[partition, default: []] += Array(ids)
            for id in ids { partitionOf[id] = partition }
        }
        for b in 0..<40 {  // narrow rows (13 bytes) in three partitions
            try append(Int64(b * 37)..<Int64(b * 37 + 37), note: "x", partition: Int64(b % 3))
        }
        let early = try FileManager.default.contentsOfDirectory(atPath: lake.root + "/t").filter { $0.hasSuffix(".fchk") }
        #expect(early.count >= 3, "chunks were written before commit, though no partition reached 1000 rows")
        let wide = String(repeating: "w", count: 1000)
        for b in 0..<6 {  // then wide rows (1012 bytes) in partition 0
            try append(Int64(10_000 + b * 5)..<Int64(10_000 + b * 5 + 5), note: wide, partition: 0)
        }
        try t.commit()

        let snapshot = try lake.table("t").snapshot()
        #expect(snapshot.rowCount == 40 * 37 + 6 * 5)
        var seen: [Int64: [Int64]] = [:]
        try snapshot.forEachChunk { chunk in
            #expect(chunk.memoryBytes <= 6000 + 1100, "a chunk of \(chunk.rowCount) rows holds \(chunk.memoryBytes) bytes")
            guard case .int64(let ids) = chunk.column("id")?.values else { Issue.record("no id column"); return }
            for id in ids { seen[partitionOf[id] ?? -1, default: []].append(id) }
        }
        #expect(seen == written, "every row, each partition's in order")
    }

    /// Reading ahead gives the same batches in the same order as reading one by one, and a
    /// body that throws stops the scan with its error (the chunk read ahead is dropped).
    @Test func readingAheadGivesEveryChunkInOrderAndStopsOnAnError() throws {
        let lake = try Lake(root: try temporaryDirectory("ahead"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let t = LakeTransaction(lake: lake, source: "test", operation: "append", chunkRows: 100)
        try t.append(idBatch(0..<1050, note: "n"), to: "t")
        try t.commit()
        let snapshot = try lake.table("t").snapshot()
        #expect(snapshot.chunks.count == 11)
        var plain: [[Int64]] = [], ahead: [[Int64]] = []
        func ids(_ b: Batch) throws -> [Int64] {
            guard case .int64(let v) = try #require(b.column("id")).values else { throw LakeError(.corrupt, "no ids") }
            return v
        }
        try snapshot.forEachChunk { plain.append(try ids($0)) }
        try snapshot.forEachChunkReadingAhead { ahead.append(try ids($0)) }
        #expect(ahead == plain)
        #expect(ahead.joined().elementsEqual(0..<1050))
        var seen = 0
        #expect(throws: LakeError.self) {
            try snapshot.forEachChunkReadingAhead { _ in
                seen += 1
                if seen == 3 { throw LakeError(.invalidArgument, "stop") }
            }
        }
        #expect(seen == 3)
    }

    @Test func vacuumKeepsReplacedChunksForReadersUntilTheRetentionPasses() throws {
        let lake = try Lake(root: try temporaryDirectory("retain"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let a = LakeTransaction(lake: lake, source: "test", operation: "append")
        try a.append(idBatch(0..<5), to: "dim")
        try a.commit()
        let reader = try lake.table("dim").snapshot()  // a reader opens the table …
        let r = LakeTransaction(lake: lake, source: "test", operation: "overwrite")
        try r.replaceAll("dim")
        try r.append(idBatch(100..<103), to: "dim")
        try r.commit()
        // … a crashed writer left a chunk no commit names …
        let orphan = lake.root + "/dim/" + String(repeating: "0", count: 32) + ".fchk"
        #expect(FileManager.default.createFile(atPath: orphan, contents: Data([1, 2, 3])))
        // … vacuum with an hour's retention removes only the orphan …
        let kept = try lake.vacuum(retain: 3600)
        #expect(kept.removedFiles == [orphan])
        #expect(kept.retainedFiles.count == 1)
        // … and the reader still reads what it opened.
        #expect(try reader.readAll().column("id") == Column(.int64([0, 1, 2, 3, 4])))
        // Once the replace is older than the retention, the replaced chunk goes.
        let later = try lake.vacuum(retain: 3600, now: Date().addingTimeInterval(3601))
        #expect(later.removedFiles == kept.retainedFiles)
        #expect(later.retainedFiles.isEmpty)
        #expect(throws: LakeError.self) { try reader.readAll() }
        #expect(try lake.table("dim").snapshot().readAll().column("id") == Column(.int64([100, 101, 102])))
    }

    @Test func aReplaceWhoseBaseMovedIsAConflictAndCommitsNothing() throws {
        let lake = try Lake(root: try temporaryDirectory("conflict"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let first = LakeTransaction(lake: lake, source: "a", operation: "append")
        try first.append(idBatch(0..<3), to: "t")
        try first.commit()
        let slow = LakeTransaction(lake: lake, source: "slow", operation: "overwrite")
        try slow.replaceAll("t")
        try slow.append(idBatch(10..<11), to: "t")
        try slow.append(idBatch(10..<11), to: "u")
        let fast = LakeTransaction(lake: lake, source: "fast", operation: "append")
        try fast.append(idBatch(3..<6), to: "t")
        try fast.commit()
        #expect(throws: LakeError.self) { try slow.commit() }
        #expect(try lake.table("t").snapshot().rowCount == 6)
        #expect(try lake.table("u").snapshot().rowCount == 0)
    }

    @Test("concurrent committers to one table lose and duplicate nothing")
    func concurrentAppenders() throws {
        let lake = try Lake(root: try temporaryDirectory("concurrent"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let writers = 8, commits = 5, rows = 50
        let errors = NSLockLikeBox()
        DispatchQueue.concurrentPerform(iterations: writers) { w in
            for c in 0..<commits {
                do {
                    let t = LakeTransaction(lake: lake, source: "writer \(w)", operation: "append")
                    let start = Int64((w * commits + c) * rows)
                    try t.append(idBatch(start..<(start + Int64(rows))), to: "events")
                    try t.append(idBatch(start..<(start + 1)), to: "audit")
                    try t.commit()
                } catch {
                    errors.add("\(error)")
                }
            }
        }
        #expect(errors.items.isEmpty, "\(errors.items)")
        let snap = try lake.table("events").snapshot()
        #expect(snap.history.count == writers * commits)
        guard case .int64(let ids) = try snap.readAll(columns: ["id"]).columns[0].values else {
            Issue.record("id column has the wrong type")
            return
        }
        #expect(ids.sorted() == Array(0..<Int64(writers * commits * rows)))
        #expect(try lake.table("audit").snapshot().rowCount == writers * commits)
    }

    @Test func lakeFilesArePrivateToTheirOwner() throws {
        let root = try temporaryDirectory("perm") + "/lake"
        let lake = try Lake(root: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let t = LakeTransaction(lake: lake, source: "test", operation: "append")
        try t.append(idBatch(0..<3), to: "patients")
        try t.append(idBatch(0..<3), to: "reports")
        try t.commit()
        let fm = FileManager.default
        func mode(_ p: String) throws -> Int { (try fm.attributesOfItem(atPath: p)[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(root) == 0o700)
        let snap = try lake.table("patients").snapshot()
        #expect(try mode(lake.table("patients").directory) == 0o700)
        #expect(try mode(snap.path(of: snap.chunks[0])) == 0o600)
        for f in try fm.contentsOfDirectory(atPath: root + "/patients/_log") where f.hasSuffix(".json") {
            #expect(try mode(root + "/patients/_log/" + f) == 0o600)
        }
        for f in try fm.contentsOfDirectory(atPath: root + "/_txn") { #expect(try mode(root + "/_txn/" + f) == 0o600) }
    }

    @Test func aLakeFolderCheckedOutWorldReadableIsNarrowed() throws {
        let root = try temporaryDirectory("narrow") + "/lake"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Lake(root: root)
        let mode = try FileManager.default.attributesOfItem(atPath: root)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func datePruningSkipsChunksOutsideTheRange() throws {
        let lake = try Lake(root: try temporaryDirectory("prune"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let schema = Schema([Field("encounter_date", .date, nullable: false)])
        let t = LakeTransaction(lake: lake, source: "test", operation: "append", chunkRows: 100)
        try t.append(Batch(schema: schema, columns: [Column(.date((0..<300).map { Int32($0) }))]), to: "enc")
        try t.commit()
        var seen = 0
        try lake.table("enc").snapshot().forEachChunk(prune: ChunkPrune(column: "encounter_date", range: 150...160)) {
            seen += $0.rowCount
        }
        #expect(seen == 100)
    }

    @Test func badTableNamesAreRefused() throws {
        let lake = try Lake(root: try temporaryDirectory("names"))
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        for bad in ["", "../etc", "Patients", "a b", "x;drop", String(repeating: "a", count: 64)] {
            #expect(throws: LakeError.self) { try lake.table(bad) }
        }
    }
}

final class NSLockLikeBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
}
