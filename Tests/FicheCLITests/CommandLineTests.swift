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
        #expect(env.stdout.contains("\"table\":\"stress_a\""))
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

    @Test func missingLakeIsAClearFailure() throws {
        let r = try FicheBinary.run(["ls", "--lake", "/nonexistent/lake"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no lake at /nonexistent/lake"))
    }
}
