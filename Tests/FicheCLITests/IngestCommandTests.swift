import Foundation
import Testing

/// `fiche ingest padchest` end to end on the real-row fixtures of FicheSourcesTests.
@Suite("fiche ingest padchest", .serialized)
struct IngestCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    func summary(_ r: FicheBinary.Result) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func ingestsOnceThenFindsOnlyDuplicates() throws {
        let lake = try scratchDirectory("ingest") + "/lake"
        let file = Self.fixtures + "/padchest_sample.csv.gz"
        let first = try FicheBinary.run(["ingest", "padchest", "--lake", lake, "--json", file])
        #expect(first.status == 0, "\(first.stderr)")
        let s1 = try summary(first)
        #expect(s1["rowsRead"] as? Int == 32)
        #expect(s1["ingested"] as? Int == 32)
        #expect(s1["committed"] as? Bool == true)
        #expect(first.stderr.isEmpty)  // no progress bar when stderr is not a terminal

        let second = try FicheBinary.run(["ingest", "padchest", "--lake", lake, file])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("rows read      32"))
        #expect(second.stdout.contains("ingested       0"))
        #expect(second.stdout.contains("duplicates     32"))
        #expect(second.stdout.contains("read = ingested + duplicates + quarantined"))

        let ls = try FicheBinary.run(["ls", "--lake", lake])
        for table in ["padchest", "patients", "encounters", "procedures", "reports", "diagnoses", "diagnosis_codes", "facilities"] {
            #expect(ls.stdout.contains(table), "ls lacks \(table)")
        }
    }

    @Test func twoIngestsAtOnceAddEveryImageOnce() throws {
        let lake = try scratchDirectory("ingest-race") + "/lake"
        let file = Self.fixtures + "/padchest_sample.csv"
        let processes = (0..<2).map { _ in Process() }
        for p in processes {
            p.executableURL = FicheBinary.url
            p.arguments = ["ingest", "padchest", "--lake", lake, file]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
        }
        for p in processes {
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        let ls = try FicheBinary.run(["dump", "padchest", "--lake", lake, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as? [String: Any], "\(ls.stdout.prefix(300))")
        #expect(summary["rows"] as? Int == 32, "\(ls.stdout.prefix(300))")
    }

    @Test func brokenRowsAreQuarantinedAndCounted() throws {
        let lake = try scratchDirectory("ingest-broken") + "/lake"
        let r = try FicheBinary.run(["ingest", "padchest", "--lake", lake, "--json", Self.fixtures + "/padchest_broken.csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try summary(r)
        #expect(s["rowsRead"] as? Int == 8)
        #expect(s["ingested"] as? Int == 2)
        #expect(s["duplicates"] as? Int == 1)
        #expect(s["quarantined"] as? Int == 5)
        let examples = try #require(s["quarantineExamples"] as? [String])
        #expect(examples.first?.hasPrefix("line 3: wrong field count") == true)
    }

    @Test func limitAndErrors() throws {
        let dir = try scratchDirectory("ingest-limit")
        let lake = dir + "/lake"
        let file = Self.fixtures + "/padchest_sample.csv"
        let limited = try FicheBinary.run(["ingest", "padchest", "--lake", lake, "--limit", "5", "--json", file])
        #expect(limited.status == 0, "\(limited.stderr)")
        #expect(try summary(limited)["ingested"] as? Int == 5)
        #expect(try summary(limited)["rowsRead"] as? Int == 5)

        let negative = try FicheBinary.run(["ingest", "padchest", "--lake", lake, "--limit", "-1", file])
        #expect(negative.status == 2)
        let missing = try FicheBinary.run(["ingest", "padchest", "--lake", lake, dir + "/absent.csv"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("absent.csv"))
        #expect(missing.stderr.hasPrefix("fiche: error:"))

        let help = try FicheBinary.run(["ingest", "padchest", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--limit"))
        #expect(help.stdout.contains("quarantined"))
    }
}
