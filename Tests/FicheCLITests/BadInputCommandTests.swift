// `fiche ingest padchest` on the bad-input corpus through the binary: a file it refuses
// exits 1 with one line naming the file and the reason, and leaves every byte of the lake
// as it was; a file it reads exits 0 and says read = ingested + duplicates + quarantined.

import FicheLake
import Foundation
import Testing

@Suite("fiche ingest on bad input", .serialized)
struct BadInputCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FicheSourcesTests/Fixtures").path

    /// Every file of the lake and its bytes, but the run log (`_runs/`), which records the
    /// refused run itself (checked on its own below).
    func fingerprint(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for f in FileManager.default.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? [] where !f.hasPrefix("_runs") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + f, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            out[f] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + f))
        }
        return out
    }

    @Test func refusedFilesExitOneAndLeaveTheLakeAsItWas() throws {
        let root = try scratchDirectory("bad-cli") + "/lake"
        #expect(try FicheBinary.run(["ingest", "padchest", "--lake", root, Self.fixtures + "/padchest_sample.csv"]).status == 0)
        let before = try fingerprint(root)
        for (file, says) in [("empty.csv", "empty file"), ("header_renamed.csv", "header column 2 is 'ImageId'"),
                             ("truncated.csv.gz", "truncated"), ("random_bytes.bin", "header"),
                             ("not_padchest.csv", "header has 3 columns, PadChest has 36")] {
            let path = Self.fixtures + "/bad/" + file
            let r = try FicheBinary.run(["ingest", "padchest", "--lake", root, path])
            #expect(r.status == 1, "\(file): \(r.stderr)")
            #expect(r.stderr.hasPrefix("fiche: error: ") && r.stderr.contains(path) && r.stderr.contains(says), "\(file): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(file): one line: \(r.stderr)")
            #expect(try fingerprint(root) == before, "\(file): the lake changed")
            let runs = try String(contentsOfFile: root + "/_runs/runs.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(runs.last?.contains("\"outcome\":\"failure\"") == true, "\(file): the refused run is in the run log: \(runs.last ?? "")")
        }
        for file in ["bom.csv", "nul_bytes.csv", "birth_year_future.csv", "duplicate_image_id.csv"] {
            let r = try FicheBinary.run(["ingest", "padchest", "--lake", root, "--json", Self.fixtures + "/bad/" + file])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let s = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let read = s["rowsRead"] as? Int, parts = ["ingested", "duplicates", "quarantined"].compactMap { s[$0] as? Int }
            #expect(parts.count == 3 && read == parts.reduce(0, +), "\(file): \(s)")
        }
        #expect(try FicheBinary.run(["verify", "--lake", root]).status == 0)
    }
}
