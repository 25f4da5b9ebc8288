// Golden tests of the built binary: the full `--help` of `fiche` and of every subcommand that
// `fiche --help` lists (and of their own subcommands), and the exact output and exit code of
// a few failures. The expected texts are the files under Golden/; when a change to help or
// to a message is intended, regenerate them and review the diff:
//
//   FICHE_UPDATE_GOLDEN=1 swift test --filter GoldenOutputTests     (or scripts/update-golden)
//
// A new subcommand fails this test until its golden file exists: run the line above.
// While several branches change commands at once, `strict` can be off: differences are then
// printed to stderr instead of failing (set FICHE_GOLDEN_STRICT=1 to fail on them anyway).

import Foundation
import Testing

@Suite("golden outputs of fiche", .serialized)
struct GoldenOutputTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["FICHE_UPDATE_GOLDEN"] == "1" }
    static let strict = true
    static var failing: Bool { strict || ProcessInfo.processInfo.environment["FICHE_GOLDEN_STRICT"] == "1" }

    /// A difference from the golden files: a test failure when `failing`, else a warning on stderr.
    static func report(_ text: String) {
        if failing {
            Issue.record(Comment(rawValue: text))
        } else {
            FileHandle.standardError.write(Data(("warning: golden: " + text + "\n").utf8))
        }
    }

    /// Runs fiche as a user's shell would, minus the variables that change its output: no
    /// FICHE_LAKE or DATABASE_URL, and an 80-column terminal width for the help layout.
    static func run(_ arguments: [String]) throws -> FicheBinary.Result {
        try FicheBinary.run(arguments, environment: ["COLUMNS": "80"],
                            unsetting: ["FICHE_LAKE", "DATABASE_URL", "PGDATABASE", "PGHOST", "PGPORT", "PGUSER"])
    }

    /// The transcript a golden file holds: the command, its exit status, stdout and stderr.
    static func transcript(_ arguments: [String], _ r: FicheBinary.Result) -> String {
        "$ fiche \(arguments.joined(separator: " "))\nexit \(r.status)\n--- stdout\n\(r.stdout)--- stderr\n\(r.stderr)"
    }

    /// Compares with (or, when updating, writes) Golden/<name>.txt.
    static func check(_ name: String, _ arguments: [String]) throws {
        let text = transcript(arguments, try run(arguments))
        let file = folder.appendingPathComponent(name + ".txt")
        if updating {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            report("no golden file Golden/\(name).txt for `fiche \(arguments.joined(separator: " "))`; "
                   + "create it with FICHE_UPDATE_GOLDEN=1 swift test --filter GoldenOutputTests")
            return
        }
        if text != expected {
            report("`fiche \(arguments.joined(separator: " "))` differs from Golden/\(name).txt "
                   + "(if intended: FICHE_UPDATE_GOLDEN=1 swift test --filter GoldenOutputTests)\n\(text)")
        }
    }

    /// The subcommands a help text lists under SUBCOMMANDS (names only, `(default)` dropped).
    static func subcommands(inHelp help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "SUBCOMMANDS:" { inSection = true; continue }
            guard inSection else { continue }
            if line.isEmpty || line.hasPrefix("  See ") { break }
            // "  name   abstract": exactly two spaces, then the name; wrapped abstracts are indented more.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            if let name = line.dropFirst(2).split(separator: " ").first { names.append(String(name)) }
        }
        return names
    }

    @Test func everyCommandsHelp() throws {
        let root = try Self.run(["--help"])
        #expect(root.status == 0)
        try Self.check("help/fiche", ["--help"])
        var queue = Self.subcommands(inHelp: root.stdout).map { [$0] }
        #expect(queue.count >= 10, "fiche --help lists \(queue.count) subcommands")
        var seen: [String] = []
        while !queue.isEmpty {
            let path = queue.removeFirst()
            seen.append(path.joined(separator: " "))
            try Self.check("help/" + path.joined(separator: "-"), path + ["--help"])
            let help = try Self.run(path + ["--help"])
            #expect(help.status == 0, "fiche \(path.joined(separator: " ")) --help exits \(help.status)")
            queue += Self.subcommands(inHelp: help.stdout).map { path + [$0] }
        }
        // Golden help files of commands that are gone are stale: say so.
        let helpFolder = Self.folder.appendingPathComponent("help")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: helpFolder.path)) ?? []
        let expected = Set(["fiche.txt"] + seen.map { $0.replacingOccurrences(of: " ", with: "-") + ".txt" })
        for file in files where !expected.contains(file) {
            if Self.updating {
                try FileManager.default.removeItem(at: helpFolder.appendingPathComponent(file))
            } else {
                Self.report("Golden/help/\(file) belongs to no command `fiche --help` lists; delete it")
            }
        }
    }

    /// Failures: the message on stderr and the exit code (2 usage, 1 failure).
    @Test func errorOutputsAndExitCodes() throws {
        let cases: [(String, [String])] = [
            ("unknown-command", ["no-such-command"]),
            ("missing-argument", ["dump"]),
            ("bad-option-value", ["dump", "encounters", "--format", "xml"]),
            ("missing-lake", ["ls", "--lake", "/nonexistent/lake"]),
            ("verify-missing-lake", ["verify", "--lake", "/nonexistent/lake"]),
            ("report-bad-format", ["report", "--format", "xml"]),
            ("generate-bad-patients", ["generate", "--patients=-1"]),
            ("publish-bad-backfill", ["publish", "--backfill", "2015-13"]),
            ("build-bad-date", ["build", "--from", "2015-02-30"]),
        ]
        for (name, arguments) in cases { try Self.check("errors/" + name, arguments) }
    }
}
