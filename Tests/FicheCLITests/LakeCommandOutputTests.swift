// What users and machines read from the lake commands: --json of every command parses as
// JSON, dump's CSV tells NULL from an empty string, vacuum keeps replaced chunks for --retain
// and never takes a file from a writer running beside it.

import FicheLake
import Foundation
import Testing

@Suite("lake command output", .serialized)
struct LakeCommandOutputTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    @Test func dumpTellsNullFromAnEmptyString() throws {
        let root = try scratchDirectory("dump-null") + "/lake"
        let lake = try Lake(root: root)
        var valid = Bitmap(repeating: true, count: 6)
        valid[2] = false
        let batch = Batch(schema: Schema([Field("id", .int64, nullable: false), Field("text", .string)]), columns: [
            Column(.int64([1, 2, 3, 4, 5, 6])),
            Column(.string(StringArray(["a", "", "", " x ", "say \"hi\", ok", "two\nlines"])), validity: valid),
        ])
        let txn = LakeTransaction(lake: lake, source: "test", operation: "append")
        try txn.append(batch, to: "notes")
        try txn.commit()
        let csv = try FicheBinary.run(["dump", "notes", "--lake", root, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout == "id,text\n1,a\n2,\"\"\n3,\n4,\" x \"\n5,\"say \"\"hi\"\", ok\"\n6,\"two\nlines\"\n")
        let jsonl = try FicheBinary.run(["dump", "notes", "--lake", root, "--format", "jsonl", "--columns", "text"])
        let objects = try jsonl.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 6)
        #expect(objects[1]["text"] as? String == "")
        #expect(objects[2]["text"] is NSNull)
        #expect(objects[5]["text"] as? String == "two\nlines")
        // PostgreSQL's CSV reading agrees: an unquoted empty field is NULL, "" is an empty string.
        let c = try CLIDatabase.connect()
        let schema = CLIDatabase.uniqueSchema("t_dump_csv")
        defer { CLIDatabase.drop(schema) }
        try c.execute("CREATE SCHEMA \(schema); CREATE TABLE \(schema).notes (id bigint, text text)")
        let path = (root as NSString).deletingLastPathComponent + "/notes.csv"
        try csv.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let literal = "'" + path.replacingOccurrences(of: "'", with: "''") + "'"
        // The server reads the file only if it may; otherwise COPY the rows in as text.
        let copied = (try? c.execute("COPY \(schema).notes FROM \(literal) (FORMAT csv, HEADER true)")) != nil
        if copied {
            let rows = try c.query("SELECT id, text IS NULL, text FROM \(schema).notes ORDER BY id").rows
            #expect(rows[1] == ["2", "f", ""] && rows[2] == ["3", "t", nil])
        }
    }

    /// Every command that offers --json prints one JSON document there. Known commands run
    /// with arguments that succeed; a command added later is tried with just --lake.
    @Test func everyJSONOutputParses() throws {
        let root = try scratchDirectory("json") + "/lake"
        let other = try scratchDirectory("json-generate") + "/lake"
        let sample = Self.fixtures + "/padchest_sample.csv"
        #expect(try FicheBinary.run(["generate", "--lake", root, "--patients", "30", "--seed", "4"]).status == 0)
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)
        let url = try CLIDatabase.url.get()
        let schema = CLIDatabase.uniqueSchema("t_json")
        defer { CLIDatabase.drop(schema) }
        let known: [String: [[String]]] = [
            "ingest": [["ingest", "padchest", "--lake", root, "--json", sample]],
            "generate": [["generate", "--lake", other, "--patients", "10", "--json"]],
            "build": [["build", "--lake", root, "--json"]],
            "rebuild": [["rebuild", "--lake", root, "--schema", schema, "--database", url, "--json"]],
            "publish": [["publish", "--lake", root, "--schema", schema, "--database", url, "--json"]],
            "ls": [["ls", "--lake", root, "--json"], ["ls", "--lake", try scratchDirectory("json-empty"), "--json"]],
            "dump": [["dump", "patients", "--lake", root, "--json"]],
            "verify": [["verify", "--lake", root, "--json"], ["verify", root, "--json"]],
            "log": [["log", "patients", "--lake", root, "--json"]],
            "vacuum": [["vacuum", "--lake", root, "--json", "--dry-run"], ["vacuum", "--lake", root, "--json"]],
            "export": [["export", "--lake", root, "--warehouse", "--out", try scratchDirectory("json-export") + "/out", "--json"]],
        ]
        let help = try FicheBinary.run(["--help"]).stdout
        let section = help.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let commands = section.split(separator: "\n").compactMap { line -> String? in
            let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            return word.flatMap { $0.first?.isLetter == true ? $0 : nil }
        }
        var checked = 0
        for command in commands {
            let commandHelp = try FicheBinary.run([command, "--help"]).stdout
            guard commandHelp.contains("--json") else { continue }
            let runs = known[command] ?? [[command, "--lake", root, "--json"]]
            for arguments in runs {
                let r = try FicheBinary.run(arguments)
                if known[command] == nil && r.status != 0 { continue }  // needs arguments this test does not know
                #expect(r.status == 0, "\(arguments): \(r.stderr)")
                #expect(throws: Never.self, "\(arguments) prints JSON: \(r.stdout.prefix(300))") {
                    _ = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
                }
                checked += 1
            }
        }
        #expect(checked >= 13, "every known --json command ran")
        // The report speaks JSON through --format.
        let report = try FicheBinary.run(["report", "--schema", schema, "--database", url, "--format", "json", "--query", "monthly_encounter_trends"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) is [Any])
    }

    @Test func vacuumKeepsReplacedChunksForRetainThenRemovesThem() throws {
        let root = try scratchDirectory("retain") + "/lake"
        #expect(try FicheBinary.run(["generate", "--lake", root, "--patients", "30", "--seed", "8"]).status == 0)
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)
        #expect(try FicheBinary.run(["build", "--lake", root]).status == 0)  // replaces the warehouse tables
        func vacuum(_ extra: [String]) throws -> (removed: [String], retained: [String]) {
            let r = try FicheBinary.run(["vacuum", "--lake", root, "--json"] + extra)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
            let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return (o["files"] as? [String] ?? [], o["retained_files"] as? [String] ?? [])
        }
        let dry = try vacuum(["--dry-run"])
        #expect(!dry.retained.isEmpty, "the first build's chunks are kept for readers")
        #expect(dry.retained.allSatisfy { FileManager.default.fileExists(atPath: $0) || FileManager.default.fileExists(atPath: root + "/" + $0) })
        let kept = try vacuum(["--retain", "1h"])
        #expect(kept.removed.isEmpty && Set(kept.retained) == Set(dry.retained))
        let gone = try vacuum(["--retain", "0"])
        #expect(Set(gone.removed) == Set(dry.retained), "--retain 0 removes what was kept")
        #expect(gone.retained.isEmpty)
        for f in gone.removed {
            #expect(!FileManager.default.fileExists(atPath: f) && !FileManager.default.fileExists(atPath: root + "/" + f), "\(f)")
        }
        #expect(try FicheBinary.run(["verify", "--lake", root]).status == 0)
        #expect(try vacuum(["--retain", "0"]).removed.isEmpty, "nothing left to remove")
    }

    @Test func vacuumRacingAWriterTakesNothingItNeeds() throws {
        let root = try scratchDirectory("vacuum-race") + "/lake"
        let commits = 60, rows = 90
        let writer = Process()
        writer.executableURL = FicheBinary.url
        writer.arguments = ["stress-write", "--lake", root, "--commits", String(commits), "--rows", String(rows)]
        let err = Pipe()
        writer.standardOutput = FileHandle.nullDevice
        writer.standardError = err
        try writer.run()
        var vacuums = 0, failures: [String] = []
        while writer.isRunning || vacuums < 3 {
            if FileManager.default.fileExists(atPath: root) {
                let r = try FicheBinary.run(["vacuum", "--lake", root, "--retain", "0"])
                if r.status != 0 { failures.append(r.stderr) }
                vacuums += 1
            } else {
                usleep(10_000)
            }
        }
        writer.waitUntilExit()
        let writerErrors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(writer.terminationStatus == 0, "the writer failed beside vacuum: \(writerErrors)")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(vacuums >= 3)
        let lake = try Lake(root: root, create: false)
        for table in ["stress_a", "stress_b"] {
            let snap = try lake.table(table).snapshot()
            #expect(snap.rowCount == commits * rows, "\(table): every committed row is there")
            let ids = try snap.readAll(columns: ["id"]).columns[0]
            let set = Set((0..<ids.count).compactMap { ids.text(at: $0) })
            #expect(set.count == commits * rows, "\(table): no row lost or doubled")
        }
        let verify = try FicheBinary.run(["verify", "--lake", root])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
