// Patient data stays with its owner: every file and folder Fiche writes (lake, quarantine,
// key registry, commit log, exports) is private even under a permissive umask; and libpq's
// TLS settings reach libpq unchanged, whichever way they are given.

import FicheLake
import Foundation
import Testing

@Suite("patient data safety", .serialized)
struct PatientDataSafetyTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    /// Runs fiche under `umask 000`, so only Fiche's own modes protect what it writes.
    func runOpenUmask(_ arguments: [String]) throws -> FicheBinary.Result {
        let quoted = ([FicheBinary.url.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "umask 000; exec " + quoted.joined(separator: " ")]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return FicheBinary.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                                  stderr: String(decoding: e, as: UTF8.self))
    }

    /// Paths under `root` (root included) whose group or other permission bits are set.
    func exposed(_ root: String) throws -> [String] {
        var out: [String] = []
        let paths = [""] + (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
        for p in paths {
            let path = p.isEmpty ? root : root + "/" + p
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            if mode & 0o077 != 0 { out.append("\(p.isEmpty ? "." : p) \(String(mode, radix: 8))") }
        }
        return out
    }

    @Test func lakeQuarantineAndExportFilesArePrivate() throws {
        let scratch = try scratchDirectory("private")
        let root = scratch + "/lake", export = scratch + "/export"
        for arguments in [
            ["generate", "--lake", root, "--patients", "20", "--seed", "6"],
            ["ingest", "padchest", "--lake", root, Self.fixtures + "/padchest_sample.csv.gz"],
            ["ingest", "padchest", "--lake", root, Self.fixtures + "/padchest_broken.csv"],  // fills the quarantine
            ["build", "--lake", root],
            ["build", "--lake", root],
            ["export", "--lake", root, "--all", "--out", export],
            ["vacuum", "--lake", root, "--retain", "0"],
        ] {
            let r = try runOpenUmask(arguments)
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
        }
        let lake = try Lake(root: root, create: false)
        #expect(try lake.table("quarantine").snapshot().rowCount == 5)
        let names = try lake.tableNames()
        for table in ["quarantine", "patients", "padchest", "fact_encounters"] { #expect(names.contains(table), "\(table)") }
        let lakeExposed = try exposed(root)
        #expect(lakeExposed.isEmpty, "readable by others: \(lakeExposed.prefix(10))")
        let exported = FileManager.default.enumerator(atPath: export)?.compactMap { $0 as? String } ?? []
        #expect(exported.contains { $0.hasSuffix(".parquet") }, "the export wrote Parquet files: \(exported.prefix(5))")
        let exportExposed = try exposed(export)
        #expect(exportExposed.isEmpty, "readable by others: \(exportExposed.prefix(10))")
    }

    /// sslmode and sslrootcert go to libpq as given: the local test server has no TLS, so
    /// libpq's own refusal ("SSL was required") shows the setting arrived. A URL, a conninfo
    /// string and PGSSLMODE all do.
    @Test func tlsSettingsReachLibpqUnchanged() throws {
        let (_, port) = try CLIDatabase.address()
        let tcp = "postgresql://fiche@127.0.0.1:\(port)/fiche"
        let cases: [(arguments: [String], environment: [String: String])] = [
            (["--database", tcp + "?sslmode=require"], [:]),
            (["--database", tcp + "?sslmode=verify-full&sslrootcert=/nonexistent/root.crt"], [:]),
            (["--database", "host=127.0.0.1 port=\(port) dbname=fiche user=fiche sslmode=require"], [:]),
            (["--database", tcp], ["PGSSLMODE": "require"]),
        ]
        for c in cases {
            let r = try FicheBinary.run(["report"] + c.arguments, environment: c.environment)
            #expect(r.status == 1, "\(c): \(r.stderr)")
            #expect(r.stderr.contains("server does not support SSL, but SSL was required"), "\(c): \(r.stderr)")
        }
        // The same server without those settings answers (so it was the setting that refused).
        let plain = try FicheBinary.run(["report", "--database", tcp + "?sslmode=disable", "--schema", "t_no_such_schema_here"])
        #expect(plain.status == 1 && plain.stderr.contains("no published warehouse"), "\(plain.stderr)")
        // A value libpq does not know is libpq's error, quoted back.
        let bogus = try FicheBinary.run(["report", "--database", tcp + "?sslmode=sometimes"])
        #expect(bogus.stderr.contains("invalid sslmode value: \"sometimes\""), "\(bogus.stderr)")
    }
}
