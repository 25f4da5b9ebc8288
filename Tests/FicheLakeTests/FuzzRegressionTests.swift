// Inputs the fuzzer (scripts/fuzz, Tests/Fuzz) found to crash, hang or read back wrong, kept
// under Fixtures/fuzz/ (see its README), fed here the way the fuzz target fed them.

import Foundation
import Testing

@testable import FicheLake

@Suite struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz").path

    /// Puts the commitlog target's input in a real table's log (NUL-separated sections are
    /// commit files 1, 2, …; a section starting with `@` a transaction marker).
    static func lake(from input: String) throws -> (Lake, String) {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + input)))
        let lake = try Lake(root: try temporaryDirectory("fuzz"))
        let log = lake.root + "/t/_log"
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lake.root + "/_txn", withIntermediateDirectories: true)
        var version = 0
        for section in bytes.split(separator: 0, omittingEmptySubsequences: false) {
            if section.first == UInt8(ascii: "@") {
                let name = String(decoding: section.dropFirst().prefix { $0 != 10 }, as: UTF8.self)
                FileManager.default.createFile(atPath: lake.root + "/_txn/" + name, contents: Data())
            } else {
                version += 1
                FileManager.default.createFile(atPath: log + "/" + CommitLog.fileName(version), contents: Data(section))
            }
        }
        return (lake, log + "/" + CommitLog.fileName(1))
    }

    @Test(arguments: [
        ("commitlog-rows-overflow", "9223372036854775807 rows"),
        ("commitlog-chunk-outside-table", "adds `../../../etc/passwd`, which is not a file name"),
    ])
    func aCommitWithImpossibleChunksIsRefusedNamingItsFile(input: String, reason: String) throws {
        let (lake, commitFile) = try Self.lake(from: input)
        let error = try #require(throws: LakeError.self) { _ = try lake.table("t").snapshot().rowCount }
        #expect(error.code == .corrupt)
        #expect(error.file == commitFile)
        #expect(error.message.contains(reason), "\(error.message)")
        try? FileManager.default.removeItem(atPath: lake.root)
    }

    /// The golden log still reads (the checks refuse nothing a writer writes).
    @Test func theGoldenLogStillReads() throws {
        let lake = try Lake(root: Golden.folder + "/lake_v1", create: false)
        #expect(try lake.table("visits").snapshot().rowCount > 0)
        #expect(try lake.table("wards").snapshot().rowCount > 0)
    }

    /// A 91-byte chunk whose zstd frame claims 512 MiB (2^26 int64 rows) but holds one byte:
    /// the reader allocated the 512 MiB before zstd found out. Now it stops at what the
    /// frame really holds. (The fuzz target, with -malloc_limit_mb=64, checks the allocation.)
    @Test func aZstdFrameClaimingMoreThanItHoldsIsRefusedBeforeAllocatingIt() throws {
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/chunk-zstd-claims-512mib")))
        let path = try temporaryDirectory("fuzz") + "/claim.fchk"
        FileManager.default.createFile(atPath: path, contents: Data(input.dropFirst()))  // the target's mode byte
        let chunk = try ChunkFile(path: path)
        #expect(chunk.rowCount == 1 << 26)
        let error = try #require(throws: LakeError.self) { _ = try chunk.read() }
        #expect(error.code == .corrupt)
        #expect(error.file == path && error.column == "n")
        #expect(error.message.contains("zstd frame declares 536870912 bytes but its blocks can hold at most 1"), "\(error.message)")
    }

    /// Columns that compress far better (constant, all null) still read back.
    @Test func columnsThatCompressThousandsOfTimesStillReadBack() throws {
        let n = 1 << 21
        let batch = Batch(schema: Schema([Field("zero", .int64), Field("none", .string, nullable: true),
                                          Field("same", .string)]),
                          columns: [Column(.int64(Array(repeating: 0, count: n))), .nulls(.string, count: n),
                                    Column(.string(StringArray(Array(repeating: "same text", count: n))))])
        let path = try temporaryDirectory("fuzz") + "/compressible.fchk"
        let written = try ChunkWriter.write(batch, to: path)
        #expect(written.rawBytes > 1000 * written.bytes)
        let back = try ChunkFile(path: path).read()
        for (a, b) in zip(batch.columns, back.columns) { #expect(a.sameValues(as: b)) }
    }
}
