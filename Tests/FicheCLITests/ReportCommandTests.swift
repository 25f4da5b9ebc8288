// `fiche report --html/--svg` end to end: a generated lake rebuilt into a real PostgreSQL
// schema, the report written, every file parsed as XML.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("fiche report --html and --svg") struct ReportCommandTests {
    @Test func usageErrorsExitTwo() throws {
        let r = try FicheBinary.run(["report", "--html", "x.html", "--query", "high_volume_patients"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("leave out --query and --format"))
        #expect(try FicheBinary.run(["report", "--svg", ""]).status == 2)
    }

    @Test func writesAPageAndOneSVGPerChart() throws {
        guard let url = ProcessInfo.processInfo.environment["FICHE_TEST_DATABASE_URL"], !url.isEmpty else {
            Issue.record("FICHE_TEST_DATABASE_URL is not set (scripts/test sets it)")
            return
        }
        let dir = try scratchDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let schema = "t_cli_report_\(UInt32.random(in: 0...UInt32.max))"
        defer {
            for s in [schema, schema + "_staging", schema + "_old"] {
                _ = try? FicheBinary.runTool("psql", ["-X", "-q", url, "-c", "DROP SCHEMA IF EXISTS \(s) CASCADE"])
            }
        }
        let lake = dir + "/lake"
        #expect(try FicheBinary.run(["generate", "--lake", lake, "--patients", "300"]).status == 0)
        let rebuild = try FicheBinary.run(["rebuild", "--lake", lake, "--schema", schema, "--database", url])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")

        let missing = try FicheBinary.run(["report", "--html", dir + "/none.html", "--schema", schema + "_missing", "--database", url])
        #expect(missing.status == 1 && missing.stderr.contains("no published warehouse"), "\(missing.stderr)")

        let r = try FicheBinary.run(["report", "--html", dir + "/report.html", "--svg", dir + "/svg", "--schema", schema, "--database", url])
        #expect(r.status == 0, "\(r.stderr)")
        let page = try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/report.html"), options: [])
        #expect(page.rootElement()?.localName == "html")
        let svgs = try FileManager.default.contentsOfDirectory(atPath: dir + "/svg").sorted()
        #expect(svgs == ["modality-mix.svg", "monthly-encounters.svg", "per-encounter.svg", "top-diagnoses.svg"])
        for name in svgs {
            let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: dir + "/svg/" + name), options: [])
            #expect(doc.rootElement()?.localName == "svg", "\(name)")
        }
        #expect(!r.stdout.contains("postgresql://") && !r.stderr.contains("postgresql://"), "no connection string in the output")
    }
}

extension FicheBinary {
    /// Runs another program from PATH (e.g. psql) and returns its exit status.
    static func runTool(_ name: String, _ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [name] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}
