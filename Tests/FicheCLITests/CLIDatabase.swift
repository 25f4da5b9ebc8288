// The real PostgreSQL for command-line tests: FICHE_TEST_DATABASE_URL, else the
// project-local cluster scripts/pg-up starts. Tests run the `fiche` binary against it and
// check the result with their own connection.

import FichePublish
import Foundation
import Testing

enum CLIDatabase {
    static let url: Result<String, CLIDatabaseError> = {
        if let url = ProcessInfo.processInfo.environment["FICHE_TEST_DATABASE_URL"], !url.isEmpty { return .success(url) }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = repo.appendingPathComponent("scripts/pg-up")
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        do { try process.run() } catch { return .failure(CLIDatabaseError(message: "could not run scripts/pg-up: \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !url.isEmpty else {
            return .failure(CLIDatabaseError(message: "scripts/pg-up failed; set FICHE_TEST_DATABASE_URL"))
        }
        return .success(url)
    }()

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(DatabaseTarget(conninfo: try url.get()), applicationName: "fiche cli test")
    }

    /// Where the test server listens (its Unix-socket folder or host, and port), as libpq
    /// reached it: lets a test write the same server's address as a URL, a conninfo string or
    /// libpq variables, whatever form the test URL has.
    static func address() throws -> (host: String, port: String) {
        let server = try connect().server
        try #require(!server.host.isEmpty && !server.port.isEmpty)
        return server
    }

    /// The host as a URL query value (a socket folder's `/` may stay, other specials are encoded).
    static func queryEncoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/._~-")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func uniqueSchema(_ prefix: String) -> String { "\(prefix)_\(UInt32.random(in: 0...UInt32.max))" }

    static func drop(_ schema: String) {
        guard let c = try? connect() else { return }
        for s in [schema, schema + "_staging", schema + "_old", schema + "_backfill"] {
            try? c.execute("DROP SCHEMA IF EXISTS \"\(s)\" CASCADE")
        }
    }
}

struct CLIDatabaseError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
