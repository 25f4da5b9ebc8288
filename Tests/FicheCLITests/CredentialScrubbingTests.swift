// No password ever leaves `fiche`: every command that connects to PostgreSQL is run through
// the real binary with passwords in every form a user gives them (URL user info, a URL query,
// conninfo `password=` plain and quoted, a malformed URL libpq quotes back, DATABASE_URL,
// PGPASSWORD, a URL mistyped as an argument), failing and succeeding, and everything it
// prints and writes is searched for any piece of them.

import FicheLake
import Foundation
import Testing

@Suite("credentials never shown", .serialized)
struct CredentialScrubbingTests {
    /// Every password below contains this; finding it anywhere is a leak.
    static let marker = "S3cr3tQz"

    /// A small built lake, so that publish and rebuild get as far as connecting.
    static let lake: Result<String, CLIDatabaseError> = {
        do {
            let root = try scratchDirectory("scrub") + "/lake"
            let gen = try FicheBinary.run(["generate", "--lake", root, "--patients", "60", "--seed", "5"])
            let build = try FicheBinary.run(["build", "--lake", root])
            guard gen.status == 0, build.status == 0 else {
                return .failure(CLIDatabaseError(message: "generate/build failed: \(gen.stderr) \(build.stderr)"))
            }
            return .success(root)
        } catch {
            return .failure(CLIDatabaseError(message: "\(error)"))
        }
    }()

    /// The subcommands whose --help offers --database: the commands that connect, found from
    /// the binary itself so a new one is covered without editing this test.
    static func connectingCommands() throws -> [String] {
        let help = try FicheBinary.run(["--help"]).stdout
        let section = help.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        let names = section.split(separator: "\n").compactMap { line -> String? in
            let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            return word.flatMap { $0.first?.isLetter == true ? $0 : nil }
        }
        return try names.filter { try FicheBinary.run([$0, "--help"]).stdout.contains("--database") }
    }

    /// Runs fiche with HOME and the lake in a fresh folder, then searches stdout, stderr and
    /// every file under that folder (lake, run logs, metrics, anything) for the marker.
    func expectNoLeak(_ arguments: [String], environment: [String: String] = [:], label: String,
                      expectFailure: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let scratch = try scratchDirectory("scrub-run")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let lake = scratch + "/lake"
        try FileManager.default.copyItem(atPath: try Self.lake.get(), toPath: lake)
        try FileManager.default.createDirectory(atPath: scratch + "/home", withIntermediateDirectories: true)
        var env = ["HOME": scratch + "/home", "FICHE_LAKE": lake, "DATABASE_URL": "", "PGPASSWORD": ""]
        for (k, v) in environment { env[k] = v }
        let r = try FicheBinary.run(arguments, environment: env)
        if expectFailure {
            #expect(r.status != 0, "\(label): expected a failure", sourceLocation: sourceLocation)
            #expect(!r.stderr.isEmpty, "\(label): a failure says why", sourceLocation: sourceLocation)
        } else {
            #expect(r.status == 0, "\(label): \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!r.stdout.contains(Self.marker), "\(label): stdout shows a password: \(r.stdout.prefix(400))",
                sourceLocation: sourceLocation)
        #expect(!r.stderr.contains(Self.marker), "\(label): stderr shows a password: \(r.stderr)", sourceLocation: sourceLocation)
        let files = FileManager.default.enumerator(atPath: scratch)?.compactMap { $0 as? String } ?? []
        for file in files {
            let path = scratch + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(data.range(of: Data(Self.marker.utf8)) == nil, "\(label): \(file) holds a password",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func failingConnectionsNeverShowAPassword() throws {
        let (host, port) = try CLIDatabase.address()
        let h = CLIDatabase.queryEncoded(host), m = Self.marker
        let forms: [(label: String, arguments: [String], environment: [String: String])] = [
            ("URL user info", ["--database", "postgresql://nobody_fiche:\(m)-url@/fiche?host=\(h)&port=\(port)"], [:]),
            ("URL user info, --database=", ["--database=postgresql://nobody_fiche:\(m)-eq@/fiche?host=\(h)&port=\(port)"], [:]),
            ("URL with a bad percent-encoding", ["--database", "postgresql://nobody_fiche:\(m)%ZZ@/fiche?host=\(h)&port=\(port)"], [:]),
            ("URL query password", ["--database", "postgresql:///fiche?host=\(h)&port=\(port)&user=nobody_fiche&password=\(m)-query"], [:]),
            ("unreachable server", ["--database", "postgresql://nobody_fiche:\(m)-far@127.0.0.1:1/fiche?connect_timeout=2"], [:]),
            ("conninfo", ["--database", "host=\(host) port=\(port) dbname=fiche user=nobody_fiche password=\(m)-kv"], [:]),
            ("conninfo quoted", ["--database", "host='\(host)' port=\(port) user=nobody_fiche password='\(m) with spaces'"], [:]),
            ("conninfo unterminated quote", ["--database", "host=\(host) password='\(m)-open"], [:]),
            ("DATABASE_URL", [], ["DATABASE_URL": "postgresql://nobody_fiche:\(m)-env@/fiche?host=\(h)&port=\(port)"]),
            ("PGPASSWORD", ["--database", "postgresql://nobody_fiche@/fiche?host=\(h)&port=\(port)"], ["PGPASSWORD": "\(m)-pgpassword"]),
            ("PGPASSWORD and PG* variables", [], ["PGPASSWORD": "\(m)-pg", "PGHOST": host, "PGPORT": port, "PGUSER": "nobody_fiche"]),
        ]
        let commands = try Self.connectingCommands()
        for required in ["publish", "rebuild", "report"] { #expect(commands.contains(required), "\(required) connects") }
        for command in commands {
            for form in forms {
                try expectNoLeak([command] + form.arguments, environment: form.environment, label: "\(command), \(form.label)")
            }
            try expectNoLeak([command, "--json", "--database", "postgresql://nobody_fiche:\(m)-json@/fiche?host=\(h)&port=\(port)"],
                             label: "\(command) --json")
        }
        try expectNoLeak(["publish", "--backfill", "2015-01..2015-03", "--database", "postgresql://nobody_fiche:\(m)-bf@/fiche?host=\(h)&port=\(port)"],
                         label: "publish --backfill")
        // A URL typed where an argument goes: a usage error (exit 2) that quotes it.
        for command in commands {
            try expectNoLeak([command, "postgresql://u:\(m)-stray@db.example/x"], label: "\(command), stray URL argument")
            try expectNoLeak([command, "password=\(m)-stray"], label: "\(command), stray conninfo argument")
        }
    }

    /// The server trusts local connections, so these connect despite the password: the whole
    /// successful path (reports, summaries, JSON) must not show it either.
    @Test func successfulRunsNeverShowAPassword() throws {
        let (host, port) = try CLIDatabase.address()
        let h = CLIDatabase.queryEncoded(host), m = Self.marker
        let schema = CLIDatabase.uniqueSchema("t_scrub")
        defer { CLIDatabase.drop(schema) }
        let url = "postgresql://fiche:\(m)-ok@/fiche?host=\(h)&port=\(port)"
        try expectNoLeak(["rebuild", "--schema", schema, "--database", url], label: "rebuild", expectFailure: false)
        try expectNoLeak(["rebuild", "--schema", schema, "--json"], environment: ["DATABASE_URL": url], label: "rebuild --json",
                         expectFailure: false)
        try expectNoLeak(["publish", "--schema", schema, "--database", "host=\(host) port=\(port) dbname=fiche user=fiche password=\(m)-kv"],
                         label: "publish", expectFailure: false)
        try expectNoLeak(["report", "--schema", schema, "--format", "json"],
                         environment: ["PGHOST": host, "PGPORT": port, "PGDATABASE": "fiche", "PGUSER": "fiche", "PGPASSWORD": "\(m)-pg"],
                         label: "report", expectFailure: false)
        try expectNoLeak(["report", "--schema", schema, "--database", url], label: "report", expectFailure: false)
    }
}
