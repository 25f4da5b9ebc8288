// A `fiche publish` process SIGKILLed in the middle of its COPY leaves the old warehouse
// intact, and the next run succeeds.

import FicheLake
import FicheWarehouse
@testable import FichePublish
import Foundation
import Testing

@Suite struct KilledPublisherTests {
    /// The `fiche` executable of this very build: beside the test bundle in the same build
    /// folder (debug, release or a sanitizer's), as FicheCLITests' `FicheBinary` finds it.
    static var builtFiche: String {
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("fiche").path
    }

    @Test func publisherKilledMidCopyLeavesTheOldWarehouse() throws {
        let fiche = Self.builtFiche
        try #require(FileManager.default.isExecutableFile(atPath: fiche), "no fiche binary beside the tests at \(fiche)")
        let schema = TestDatabase.uniqueSchema("t_sigkill")
        defer { TestDatabase.drop(schema) }
        let old = WarehouseFixture(seed: 20, months: [201501])
        try WarehousePublisher.publish(tables: old.tables, to: TestDatabase.target(), options: options(schema))

        // A lake holding a warehouse big enough that its COPY runs for a while.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-sigkill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let big = WarehouseFixture(seed: 21, patients: 500, encountersPerMonth: 6_000, months: Array(201501...201512))
        let tx = LakeTransaction(lake: try Lake(root: root), source: "test", operation: "warehouse")
        for (name, batch) in big.tables { try tx.append(batch, to: name) }
        try tx.commit()

        let app = "fiche_sigkill_\(schema)"
        let url = try TestDatabase.url.get()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fiche)
        process.arguments = ["publish", "--lake", root, "--schema", schema,
                             "--database", url + (url.contains("?") ? "&" : "?") + "application_name=\(app)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let watcher = try TestDatabase.connect("fiche test watcher")
        var sawCopy = false
        for _ in 0..<4000 where process.isRunning {
            if try watcher.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%' AND state = 'active'", [app]) != "0" {
                sawCopy = true
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(sawCopy, "the publisher was killed during its COPY")
        #expect(process.terminationReason == .uncaughtSignal)

        #expect(try liveCounts(watcher, schema) == expectedCounts(old), "the old warehouse is intact")
        // The next run succeeds (its backend waits for the killed one's lock to go).
        try WarehousePublisher.publish(tables: big.tables, to: TestDatabase.target(), options: options(schema))
        #expect(try liveCounts(watcher, schema) == expectedCounts(big))
    }
}
