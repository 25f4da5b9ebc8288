// The nightly through the real binary: `fiche check`, a rebuild stopped by a gate with a
// readable report and exit 1, the run log (`fiche runs`) and the metrics file, and no
// credential anywhere, whether given in the URL or in PGPASSWORD.

import FicheLake
import Foundation
import Testing

/// The project-local PostgreSQL: FICHE_TEST_DATABASE_URL, else scripts/pg-up's.
let cliDatabaseURL: String? = {
    if let url = ProcessInfo.processInfo.environment["FICHE_TEST_DATABASE_URL"], !url.isEmpty { return url }
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let p = Process()
    p.executableURL = repo.appendingPathComponent("scripts/pg-up")
    let out = Pipe()
    p.standardOutput = out
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return p.terminationStatus == 0 && !url.isEmpty ? url : nil
}()

/// The URL with a password put into it (the local cluster trusts its socket, so it is ignored).
func withPassword(_ url: String, _ password: String) -> String {
    url.replacingOccurrences(of: "postgresql://", with: "postgresql://fiche:\(password)@")
}

@Suite("fiche check, rebuild gates, runs and metrics", .serialized)
struct NightlyCommandTests {
    @Test func checkRebuildRunsAndMetricsWithoutCredentials() throws {
        let url = try #require(cliDatabaseURL, "no PostgreSQL: set FICHE_TEST_DATABASE_URL")
        let dir = try scratchDirectory("nightly")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lake = dir + "/lake", metrics = dir + "/fiche.prom"
        let schema = "t_cli_nightly_\(UInt32.random(in: 0...UInt32.max))"
        let secret = "Hunter2UrlSecret", envSecret = "EnvSecretPw9"
        let env = ["PGPASSWORD": envSecret]
        let db = ["--database", withPassword(url, secret), "--schema", schema]
        defer { _ = try? FicheBinary.run(["rebuild", "--lake", lake, "--database", url, "--schema", schema + "_x"]) }

        #expect(try FicheBinary.run(["generate", "--lake", lake, "--patients", "300", "--seed", "5"]).status == 0)
        let more = try FicheBinary.run(["generate", "--lake", lake, "--days", "3"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(more.stdout.hasPrefix("continued the synthetic clinic by 3 days: 2025-01-01..2025-01-03"))
        #expect(try FicheBinary.run(["generate", "--lake", lake, "--days", "1", "--seed", "6"]).status == 1, "another seed")
        #expect(try FicheBinary.run(["generate", "--lake", lake, "--days", "1", "--replace"]).status == 2)
        let check = try FicheBinary.run(["check", "--lake", lake])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.hasPrefix("quality gates passed: "))

        let good = try FicheBinary.run(["rebuild", "--lake", lake, "--metrics-file", metrics] + db, environment: env)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("quality gates passed"))

        // A run that cannot connect: its error is recorded, scrubbed.
        let down = try FicheBinary.run(["rebuild", "--lake", lake, "--database",
                                        "postgresql://fiche:\(secret)@127.0.0.1:1/fiche?connect_timeout=2"], environment: env)
        #expect(down.status == 1)

        // Break the lake: an encounter dated 2090.
        let l = try Lake(root: lake, create: false)
        var row = try l.table("encounters").snapshot().readAll().slice(0..<1)
        row.columns[row.schema.index(of: "encounter_id")!] = Column(.uuid([.derived(77, 1)]))
        row.columns[row.schema.index(of: "encounter_date")!] = Column(.date([Int32(CivilDate.days(year: 2090, month: 1, day: 2))]))
        let txn = LakeTransaction(lake: l, source: "test", operation: "append")
        try txn.append(row, to: "encounters")
        try txn.commit()

        let checkBad = try FicheBinary.run(["check", "--lake", lake])
        #expect(checkBad.status == 1)
        let bad = try FicheBinary.run(["rebuild", "--lake", lake, "--metrics-file", metrics] + db, environment: env)
        #expect(bad.status == 1)
        #expect(bad.stdout.hasPrefix("quality gates FAILED: "), "\(bad.stdout)")
        #expect(bad.stdout.contains("range.fact_encounters.date_key"))
        #expect(bad.stdout.contains("dated 2090-01-02"))
        #expect(bad.stderr.contains("nothing was published, the live warehouse is unchanged"))
        let badJSON = try FicheBinary.run(["rebuild", "--lake", lake, "--json"] + db, environment: env)
        #expect(badJSON.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(badJSON.stdout.utf8)) as? [String: Any]
        #expect(object?["passed"] as? Bool == false)

        let runs = try FicheBinary.run(["runs", "--lake", lake])
        #expect(runs.status == 0)
        let lines = runs.stdout.split(separator: "\n")
        #expect(lines.count == 2 + 7, "\(runs.stdout)")
        #expect(lines.first?.hasPrefix("start (UTC)") == true)
        #expect(lines.filter { $0.contains("rebuild") && $0.contains("failure") }.count == 3)
        let failed = try FicheBinary.run(["runs", "--lake", lake, "--failed", "--last", "2", "--json"])
        let records = try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]]
        #expect(records?.count == 2)
        #expect((records?.first?["error"] as? String)?.contains("quality gates failed") == true, "\(failed.stdout)")
        let all = try FicheBinary.run(["runs", "--lake", lake, "--json"])
        #expect(all.stdout.contains("could not connect to PostgreSQL"))

        let prom = String(decoding: try Data(contentsOf: URL(fileURLWithPath: metrics)), as: UTF8.self)
        #expect(prom.contains("fiche_last_run_success{command=\"rebuild\"} 0\n"))
        #expect(prom.contains("fiche_quality_gate_failures{command=\"rebuild\",rule=\"range\"} "))
        #expect(prom.contains("fiche_last_success_timestamp_seconds{command=\"rebuild\"} "))

        // No credential in any output, the run log or the metrics.
        let log = String(decoding: try Data(contentsOf: URL(fileURLWithPath: lake + "/_runs/runs.jsonl")), as: UTF8.self)
        for text in [log, prom, good.stdout, good.stderr, bad.stdout, bad.stderr, down.stderr, runs.stdout, all.stdout] {
            #expect(!text.contains(secret))
            #expect(!text.contains(envSecret))
        }
        #expect(log.contains("fiche:***@"))
        let mode = try FileManager.default.attributesOfItem(atPath: lake + "/_runs/runs.jsonl")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
