// Seeded mutation runs (a bounded stand-in for fuzzing, repeatable in every suite run): real
// PadChest bytes with random bytes flipped, inserted, deleted and duplicated, read through the
// CSV reader and PadChest staging in random read splits; and real gzip bytes damaged the same
// way. Nothing may crash or hang, and the row accounting must always add up.

import FicheLake
import Foundation
import Testing

@testable import FicheSources

@Suite struct MutationSmokeTests {
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let interesting: [UInt8] = [0, 0x22, 0x2C, 0x0A, 0x0D, 0x27, 0x5B, 0x5D, 0xFF, 0xC3, 0xEF, 0xBB, 0xBF, 0x7C]
        for _ in 0..<(1 + Int(rng.next() % 8)) where !b.isEmpty {
            let at = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 5 {
            case 0: b[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
            case 1: b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: at)
            case 2: b.remove(at: at)
            case 3: b[at] = interesting[Int(rng.next() % UInt64(interesting.count))]
            default:
                let end = min(b.count, at + Int(rng.next() % 64))
                b.insert(contentsOf: Array(b[at..<end]), at: at)
            }
        }
        return b
    }

    @Test func mutatedPadChestRowsNeverCrashAndAlwaysAddUp() throws {
        let sample = Array(try Data(contentsOf: URL(fileURLWithPath: PadChestFixture.sample)))
        let broken = Array(try Data(contentsOf: URL(fileURLWithPath: PadChestFixture.broken)))
        var rng = SplitMix64(seed: 0xF1C4E)
        var headerRefusals = 0, rowsSeen = 0, quarantined = 0
        for round in 0..<600 {
            let input = Self.mutate(round % 2 == 0 ? sample : broken, &rng)
            let splits = (0..<3).map { _ in 1 + Int(rng.next() % 700) }
            var reader = CSVReader(source: SplitBytes(input, splits: splits), blockSize: 256 + Int(rng.next() % 4096),
                                   maxQuotedBytes: 512 + Int(rng.next() % 4096))
            defer { reader.release() }
            var builder = PadChestStagingBuilder(file: "mutation-\(round).csv")
            var header = true
            do {
                while let block = try reader.nextBlock() {
                    var first = 0
                    if header {
                        try PadChestStagingBuilder.checkHeader(block, record: 0, file: "mutation-\(round).csv")
                        header = false
                        first = 1
                    }
                    builder.add(block, from: first)
                }
            } catch is SourceError {
                headerRefusals += 1
                continue
            }
            _ = builder.takeBatch()
            #expect(builder.rowsRead == builder.rowsKept + builder.duplicates + builder.badRows.count, "round \(round)")
            #expect(builder.badRows.allSatisfy { $0.line >= 2 && !$0.reason.isEmpty }, "round \(round)")
            rowsSeen += builder.rowsRead
            quarantined += builder.badRows.count
        }
        // The runs reached both outcomes: damaged headers refused, damaged rows quarantined.
        #expect(headerRefusals > 0 && quarantined > 0 && rowsSeen > quarantined)
    }

    @Test func damagedGzipIsAnErrorOrDataNeverACrash() throws {
        let gz = Array(try Data(contentsOf: URL(fileURLWithPath: PadChestFixture.sampleGz)))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-gzmut-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SplitMix64(seed: 0x6217)
        var errors = 0
        for round in 0..<200 {
            var bytes = Self.mutate(gz, &rng)
            if round % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1)))) }
            let path = dir + "/m\(round).csv.gz"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let pre = PrefetchingGzipReader(try GzipReader(path: path), chunkSize: 4096, depth: 2)
            var source = pre
            var buffer = [UInt8](repeating: 0, count: 8192)
            do {
                var total = 0
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0.baseAddress!, count: 8192) }
                    if n == 0 { break }
                    total += n
                    #expect(total < 64 << 20, "round \(round): inflated without end")
                    if total >= 64 << 20 { break }
                }
            } catch is SourceError {
                errors += 1
            }
            pre.close()
        }
        #expect(errors > 0)
    }
}
