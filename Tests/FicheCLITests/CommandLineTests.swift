import FicheLake
import Foundation
import Testing

@Suite("fiche command line", .serialized)
struct CommandLineTests {
    func lakeWithRows() throws -> String {
        let root = try scratchDirectory("cli") + "/lake"
        let r = try FicheBinary.run(["stress-write", "--lake", root, "--commits", "2", "--rows", "6"])
        #expect(r.status == 0, "\(r.stderr)")
        return root
    }

    @Test func helpTeachesTheCommandsAndExitsZero() throws {
        let r = try FicheBinary.run(["--help"])
        #expect(r.status == 0)
        for word in ["ls", "dump", "verify", "log", "vacuum", "Exit codes: 0 success, 1 failure, 2 usage error"] {
            #expect(r.stdout.contains(word), "--help lacks \(word)")
        }
        #expect(!r.stdout.contains("stress-write"))
    }

    @Test func usageErrorsExitTwo() throws {
        let r = try FicheBinary.run(["dump"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("Missing expected argument '<target>'"))
        #expect(try FicheBinary.run(["dump", "x", "--format", "xml"]).status == 2)
        #expect(try FicheBinary.run(["no-such-command"]).status == 2)
    }

    @Test func dumpPrintsReadableRows() throws {
        let root = try lakeWithRows()
        let r = try FicheBinary.run(["dump", "stress_a", "--lake", root, "--rows", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format version 1, 12 rows in"))
        #expect(r.stdout.contains("id       int64 not null"))
        let lines = r.stdout.split(separator: "\n").suffix(5).map(String.init)
        #expect(lines == ["id  payload", "--  -------", " 0  row 0", " 1  row 1", " 2  row 2"])
    }

    @Test func csvAndJsonLinesStreamEveryRow() throws {
        let root = try lakeWithRows()
        let csv = try FicheBinary.run(["dump", "stress_b", "--lake", root, "--format", "csv"])
        #expect(csv.stdout.split(separator: "\n").count == 13)
        #expect(csv.stdout.hasPrefix("id,payload\n0,row 0\n"))
        let jsonl = try FicheBinary.run(["dump", "stress_b", "--lake", root, "--format", "jsonl", "--columns", "payload"])
        #expect(jsonl.stdout.split(separator: "\n").first == "{\"payload\":\"row 0\"}")
        let env = try FicheBinary.run(["ls", "--json"], environment: ["FICHE_LAKE": root])
        let tables = try #require(try JSONSerialization.jsonObject(with: Data(env.stdout.utf8)) as? [[String: Any]], "\(env.stdout)")
        #expect(tables.contains { $0["table"] as? String == "stress_a" }, "\(env.stdout)")
    }

    @Test func verifyCatchesAFlippedByteAndNamesWhere() throws {
        let root = try lakeWithRows()
        #expect(try FicheBinary.run(["verify", "--lake", root]).status == 0)
        let snap = try Lake(root: root, create: false).table("stress_a").snapshot()
        let path = snap.path(of: snap.chunks[1])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[12] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try FicheBinary.run(["verify", "--lake", root])
        #expect(r.status == 1)
        #expect(r.stderr.contains(path) && r.stderr.contains("checksum mismatch"), "\(r.stderr)")
        let one = try FicheBinary.run(["verify", path])
        #expect(one.status == 1)
    }

    @Test func verifyTakesTheLakeFolderItselfAndChecksEveryTable() throws {
        let root = try lakeWithRows()
        let whole = try FicheBinary.run(["verify", "--lake", root, "--json"])
        for arg in [root, root + "/"] {
            let r = try FicheBinary.run(["verify", arg, "--json"])
            #expect(r.status == 0, "\(arg): \(r.stderr)")
            #expect(r.stdout == whole.stdout, "\(arg)")
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(whole.stdout.utf8)) as? [String: Any], "\(whole.stdout)")
        #expect(summary["tables"] as? Int == 2 && summary["rows"] as? Int == 24, "\(whole.stdout)")
        // From the lake's parent folder, as `fiche verify lake/`.
        let parent = (root as NSString).deletingLastPathComponent
        let p = Process()
        p.executableURL = FicheBinary.url
        p.arguments = ["verify", "lake/"]
        p.currentDirectoryURL = URL(fileURLWithPath: parent)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(text == "ok: 2 tables, 12 chunks, 24 rows verified\n")
        // A flipped byte in any table fails the lake-folder form too, naming the file.
        let snap = try Lake(root: root, create: false).table("stress_b").snapshot()
        let path = snap.path(of: snap.chunks[0])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[12] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let bad = try FicheBinary.run(["verify", root])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains(path), "\(bad.stderr)")
        // dump needs one table: a clear message, not "neither a chunk file…".
        let dump = try FicheBinary.run(["dump", root])
        #expect(dump.status == 1)
        #expect(dump.stderr.contains("is a whole lake"), "\(dump.stderr)")
    }

    @Test func missingLakeIsAClearFailure() throws {
        let r = try FicheBinary.run(["ls", "--lake", "/nonexistent/lake"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no lake at /nonexistent/lake"))
    }

    @Test func aLakePathThatIsAFileIsNotCalledMissing() throws {
        let dir = try scratchDirectory("lakefile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/lake"
        try Data("not a lake".utf8).write(to: URL(fileURLWithPath: file))
        let r = try FicheBinary.run(["ls", "--lake", file])
        #expect(r.status == 1)
        #expect(r.stderr == "fiche: error: \(file): not a folder\n", "\(r.stderr)")
    }
}
