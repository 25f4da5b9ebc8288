import FicheLake
import Foundation
import Testing

@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    /// A writer SIGKILLed at random instants leaves a lake at a committed state: both tables
    /// of every transaction agree, `verify` passes, and `vacuum` clears the leftovers.
    @Test func writerKilledAtRandomPointsLeavesACommittedState() throws {
        let root = try scratchDirectory("crash") + "/lake"
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        _ = try Lake(root: root, create: true)
        var rng = SplitMix64(seed: 2026)
        let rowsPerCommit = 500
        var lastRows = 0
        var killedMidWrite = 0
        for trial in 0..<30 {
            let p = Process()
            p.executableURL = FicheBinary.url
            p.arguments = ["stress-write", "--lake", root, "--commits", "100000", "--rows", String(rowsPerCommit)]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32(30_000 + rng.next() % 570_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal, "trial \(trial): writer ended on its own")

            let lake = try Lake(root: root, create: false)
            let a = try lake.table("stress_a").snapshot(), b = try lake.table("stress_b").snapshot()
            #expect(a.rowCount == b.rowCount, "trial \(trial): tables of one transaction disagree")
            #expect(a.rowCount % rowsPerCommit == 0, "trial \(trial): a partial commit is visible")
            #expect(a.rowCount >= lastRows, "trial \(trial): committed rows were lost")
            lastRows = a.rowCount
            let report = try LakeVerifier.verify(lake: lake, all: true)
            #expect(report.problems.isEmpty, "trial \(trial): \(report.problems)")
            let leftovers = try lake.vacuum(dryRun: true).removedFiles.count
            if leftovers > 0 { killedMidWrite += 1 }
            if trial % 5 == 4 { _ = try lake.vacuum() }
            guard a.version > 0 else { continue }
            let values = try a.readAll(columns: ["id"]).columns[0].values
            guard case .int64(let ids) = values else {
                Issue.record("trial \(trial): stress_a.id is \(values.type), not int64")
                break
            }
            #expect(Set(ids).count == ids.count, "trial \(trial): duplicated rows")
        }
        #expect(lastRows > 0, "no commit ever landed; the trials proved nothing")
        #expect(killedMidWrite > 0, "no kill landed mid-write; the trials proved nothing")
    }
}
