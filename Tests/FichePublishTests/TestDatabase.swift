// The real PostgreSQL the tests use: FICHE_TEST_DATABASE_URL, else the project-local
// cluster started with scripts/pg-up. Each test works in its own schema.

import FicheLake
@testable import FichePublish
import Foundation
import Testing

enum TestDatabase {
    /// The database URL, starting the local cluster once if needed.
    static let url: Result<String, TestDatabaseError> = {
        if let url = ProcessInfo.processInfo.environment["FICHE_TEST_DATABASE_URL"], !url.isEmpty { return .success(url) }
        // Tests/FichePublishTests/TestDatabase.swift → repository root
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repo.appendingPathComponent("scripts/pg-up").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        do { try process.run() } catch {
            return .failure(TestDatabaseError(message: "could not run \(script): \(error); set FICHE_TEST_DATABASE_URL"))
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !url.isEmpty else {
            return .failure(TestDatabaseError(message: "scripts/pg-up failed (status \(process.terminationStatus)); set FICHE_TEST_DATABASE_URL"))
        }
        return .success(url)
    }()

    static func target() throws -> DatabaseTarget { DatabaseTarget(conninfo: try url.get()) }

    static func connect(_ name: String = "fiche test") throws -> PostgresConnection {
        try PostgresConnection(target(), applicationName: name)
    }

    /// A schema name unique to this test run.
    static func uniqueSchema(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max, using: &Self.rng))"
    }

    nonisolated(unsafe) static var rng = SystemRandomNumberGenerator()

    /// Drops the test's schemas (live, staging, old).
    static func drop(_ schema: String) {
        guard let c = try? connect() else { return }
        for s in [schema, schema + "_staging", schema + "_old", schema + "_backfill"] { try? c.execute("DROP SCHEMA IF EXISTS \"\(s)\" CASCADE") }
    }
}

struct TestDatabaseError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
