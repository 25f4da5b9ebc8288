// The run log: one line per run, appended whole under concurrency, private, no credentials;
// and the metrics file in the Prometheus text format.

import Foundation
import Testing

@testable import FicheLake

@Suite struct RunLogTests {
    func scratchLake() throws -> Lake {
        try Lake(root: NSTemporaryDirectory() + "fiche-runlog-" + UUID().uuidString)
    }

    func record(_ i: Int, padding: Int = 0) -> RunRecord {
        RunRecord(id: "r\(i)", command: i % 2 == 0 ? "rebuild" : "generate", arguments: ["--x", String(repeating: "y", count: padding)],
                  start: "2026-12-01T00:00:00.000Z", end: "2026-12-01T00:00:01.500Z", seconds: 1.5,
                  outcome: i % 3 == 0 ? RunRecord.failure : RunRecord.success, error: i % 3 == 0 ? "boom \(i)" : nil,
                  lakeVersionsRead: ["encounters": i], lakeVersionsWritten: [:], rows: ["fact_encounters": 100 * i],
                  stages: [RunStage(stage: "load", seconds: 0.5)],
                  gates: [RunGate(check: "unique.encounters.encounter_id", rule: "unique", table: "encounters", severity: "error",
                                  failing: 0, passed: true)],
                  user: "u", host: "h", pid: 1)
    }

    @Test func appendsOneLinePerRecordAndReadsThemBack() throws {
        let lake = try scratchLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        #expect(try RunLog.read(lake).records.isEmpty)
        for i in 0..<5 { try RunLog.append(record(i), to: lake) }
        let (records, skipped) = try RunLog.read(lake)
        #expect(records == (0..<5).map { record($0) })
        #expect(skipped == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: RunLog.path(lake))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: lake.root + "/_runs")
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        #expect(RunLog.rowsAfterSuccessfulRuns(lake, table: "fact_encounters", commands: ["rebuild"]) == [200, 400])
        #expect(RunLog.lastSuccess(lake, command: "generate")?.id == "r1")
    }

    @Test func concurrentAppendsNeverInterleave() throws {
        let lake = try scratchLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        // 8 writers × 40 records of ~20 KB each: far above any pipe-sized atomic write.
        DispatchQueue.concurrentPerform(iterations: 8) { w in
            for i in 0..<40 { try? RunLog.append(record(w * 1000 + i, padding: 20_000), to: lake) }
        }
        let (records, skipped) = try RunLog.read(lake)
        #expect(skipped == 0)
        #expect(records.count == 320)
        #expect(Set(records.map(\.id)).count == 320)
    }

    @Test func aTornLastLineIsSkippedAndCounted() throws {
        let lake = try scratchLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        try RunLog.append(record(1), to: lake)
        let h = try #require(FileHandle(forWritingAtPath: RunLog.path(lake)))
        h.seekToEndOfFile()
        h.write(Data("{\"id\":\"torn".utf8))
        h.closeFile()
        let (records, skipped) = try RunLog.read(lake)
        #expect(records.count == 1)
        #expect(skipped == 1)
        // The next run's record starts a line of its own instead of extending the torn one.
        try RunLog.append(record(2), to: lake)
        let after = try RunLog.read(lake)
        #expect(after.records == [record(1), record(2)])
        #expect(after.skipped == 1)
    }

    @Test func theRecorderScrubsCredentialsFromArgumentsAndErrors() throws {
        let lake = try scratchLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        let recorder = RunRecorder(command: "rebuild",
                                   arguments: ["rebuild", "--database", "postgresql://fiche:hunter2@db.example:5432/fiche",
                                               "--database", "host=x password='se cret' user=y"],
                                   lakeRoot: lake.root)
        struct Failure: Error, CustomStringConvertible {
            var description: String { "could not connect to postgresql://fiche:hunter2@db.example:5432/fiche" }
        }
        let (record, appendError) = recorder.finish(error: Failure())
        #expect(appendError == nil)
        let text = String(decoding: try FileIO.readFile(RunLog.path(lake)), as: UTF8.self)
        for secret in ["hunter2", "se cret"] { #expect(!text.contains(secret)) }
        #expect(record.arguments[2] == "postgresql://fiche:***@db.example:5432/fiche")
        #expect(record.outcome == "failure")
        #expect(record.error?.contains("fiche:***@db.example") == true)
    }

    @Test func metricsAreWrittenAtomicallyInTheTextFormat() throws {
        let dir = NSTemporaryDirectory() + "fiche-metrics-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var r = record(2)
        r.stages = [RunStage(stage: "key mapping", seconds: 1.25), RunStage(stage: "swap", seconds: 0.5)]
        r.gates.append(RunGate(check: "range.fact_encounters.date_key", rule: "range", table: "fact_encounters", severity: "error",
                               failing: 3, passed: false))
        let path = dir + "/fiche.prom"
        try RunMetrics.write(r, lastSuccessEnd: Date(timeIntervalSince1970: 1_700_000_000), to: path)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let text = String(decoding: try FileIO.readFile(path), as: UTF8.self)
        #expect(text.contains("fiche_last_run_success{command=\"rebuild\"} 1\n"))
        #expect(text.contains("fiche_last_success_timestamp_seconds{command=\"rebuild\"} 1700000000\n"))
        #expect(text.contains("fiche_stage_duration_seconds{command=\"rebuild\",stage=\"key_mapping\"} 1.25\n"))
        #expect(text.contains("fiche_rows{command=\"rebuild\",table=\"fact_encounters\"} 200\n"))
        #expect(text.contains("fiche_quality_gate_failures{command=\"rebuild\",rule=\"range\"} 1\n"))
        #expect(text.contains("fiche_quality_gate_failures{command=\"rebuild\",rule=\"unique\"} 0\n"))
        // Every sample's family has HELP and TYPE lines before it, and only gauges.
        var typed = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4 && parts[3] == "gauge")
                typed.insert(String(parts[2]))
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(typed.contains(name), "\(name) has a TYPE line")
                #expect(!name.hasSuffix("_total"), "gauges are not counters")
            }
        }
        #expect(RunMetrics.labelText(["a": "x\"y\\z\nw"]) == "{a=\"x\\\"y\\\\z\\nw\"}")
    }
}
