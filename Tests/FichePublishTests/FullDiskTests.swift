// A rebuild that runs out of disk mid-load: PostgreSQL's real "No space left on device",
// from a tablespace on a 1 MB tmpfs that the staging schema is built in.
//
// Needs root (to mount the tmpfs) and the local cluster's superuser (to create the
// tablespace); where either is missing, the test is skipped and says why.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

/// A small tmpfs mounted for the postgres user, and a tablespace on it.
struct FullDiskRig {
    let mountPoint: String
    let tablespace: String
    let superuser: PostgresConnection

    /// Whether this machine can host the rig: root, a working `mount -t tmpfs`, a local
    /// PostgreSQL whose `postgres` role we may use.
    static let available: Bool = {
        guard getuid() == 0, (try? superuserConnection()) != nil else { return false }
        let probe = "/var/tmp/fiche-probe-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil,
              run("/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe) else { return false }
        return run("/bin/umount", probe)
    }()

    static func superuserConnection() throws -> PostgresConnection {
        let c = try PostgresConnection(TestDatabase.target().overriding("user", with: "postgres"), applicationName: "fiche test superuser")
        // The tablespace folder must be on the server's machine: ours.
        guard let data = try c.scalar("SELECT current_setting('data_directory')"), FileManager.default.fileExists(atPath: data) else {
            throw TestDatabaseError(message: "the PostgreSQL server is not on this machine")
        }
        return c
    }

    init(bytes: Int) throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        mountPoint = "/var/tmp/fiche-full-disk-\(tag)"
        tablespace = "fiche_full_disk_\(tag)"
        superuser = try Self.superuserConnection()
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "tmpfs", mountPoint),
              Self.run("/bin/chown", "postgres:postgres", mountPoint) else {
            throw TestDatabaseError(message: "could not mount a tmpfs at \(mountPoint)")
        }
        do {
            let role = try TestDatabase.connect().scalar("SELECT current_user") ?? "fiche"
            try superuser.execute("CREATE TABLESPACE \(tablespace) LOCATION '\(mountPoint)'")
            try superuser.execute("GRANT CREATE ON TABLESPACE \(tablespace) TO \"\(role)\"")
        } catch {
            tearDown()
            throw error
        }
    }

    func tearDown() {
        // DROP TABLESPACE checkpoints by itself if dropped tables' files are still there.
        try? superuser.execute("DROP TABLESPACE IF EXISTS \(tablespace)")
        _ = Self.run("/bin/umount", mountPoint)
        try? FileManager.default.removeItem(atPath: mountPoint)
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: String...) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}

@Suite struct FullDiskTests {
    @Test(.enabled(if: FullDiskRig.available, "needs root to mount a tmpfs, and the local cluster's postgres role"))
    func aFullDiskMidLoadLeavesTheOldWarehouseAndTheNextRunSucceeds() throws {
        let schema = TestDatabase.uniqueSchema("t_full")
        defer { TestDatabase.drop(schema) }
        let rig = try FullDiskRig(bytes: 1 << 20)
        defer { rig.tearDown() }
        let old = WarehouseFixture(seed: 21, months: [201501])
        try WarehousePublisher.publish(tables: old.tables, to: TestDatabase.target(), options: options(schema))

        // Every table and index of this run's staging schema lands on the 1 MB disk.
        let full = try TestDatabase.target().overriding("options", with: "-c default_tablespace=\(rig.tablespace)")
        let big = WarehouseFixture(seed: 22, patients: 300, encountersPerMonth: 5_000, months: [201501, 201502, 201503])
        #expect {
            try WarehousePublisher.publish(tables: big.tables, to: full, options: options(schema))
        } throws: { e in
            guard let e = e as? PublishError else { return false }
            return e.sqlState == "53100" && "\(e)".contains("No space left on device")
        }
        let c = try TestDatabase.connect()
        #expect(try liveCounts(c, schema) == expectedCounts(old), "the old warehouse is intact")
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)_staging'") == "0")

        // With room again, the next run publishes.
        try WarehousePublisher.publish(tables: big.tables, to: TestDatabase.target(), options: options(schema))
        #expect(try liveCounts(c, schema) == expectedCounts(big))
    }
}
