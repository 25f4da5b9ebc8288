// Builds racing writers and each other (found by scripts/torture): a build reads the whole lake
// as of one instant, and two builds at once register every new key once.

import Dispatch
import FicheLake
import FicheSources
import Foundation
import Testing
@testable import FicheWarehouse

@Suite("Builds racing writers and each other", .serialized)
struct ConcurrentBuildTests {
    /// Every sample holds exactly one procedure, one diagnosis and one report of an unknown
    /// encounter. A build that read encounters before a commit and procedures after it would
    /// count that commit's procedures as orphans too.
    @Test("a build reads every clinical table as of one instant while transactions commit")
    func buildSeesWholeTransactions() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        try append(ClinicalSample.random(seed: 1, patients: 40, encounters: 200), to: lake)
        let samples = (2...31).map { ClinicalSample.random(seed: UInt64($0), patients: 40, encounters: 200) }
        let writer = DispatchGroup()
        let failure = WriterFailure()
        DispatchQueue.global().async(group: writer) {
            do {
                for s in samples { try append(s, to: lake) }
            } catch {
                failure.set(error)
            }
        }
        var builds = 0
        repeat {
            let r = try buildWarehouse(lake: lake, saveKeys: false).report
            #expect(r.proceduresWithoutEncounter == r.reportsWithoutEncounter && r.proceduresWithoutEncounter == r.diagnosesWithoutEncounter,
                    "build \(builds) read a transaction in some tables only: \(r.proceduresWithoutEncounter) procedures, \(r.diagnosesWithoutEncounter) diagnoses, \(r.reportsWithoutEncounter) reports without an encounter")
            builds += 1
        } while writer.wait(timeout: .now()) == .timedOut
        #expect(failure.get() == nil)
        #expect(builds >= 5, "too few builds overlapped the writer to prove anything")
        let last = try buildWarehouse(lake: lake, saveKeys: false).report
        #expect(last.proceduresWithoutEncounter == samples.count + 1)
    }

    /// A nightly rebuild whose build read the lake just before an ingest committed judged that
    /// build against the lake after the ingest, and failed every reconciliation gate.
    @Test("the gates reconcile a build with the snapshot it read, not with rows committed since")
    func gatesReconcileWithTheBuildsSnapshot() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        try append(ClinicalSample.random(seed: 11, patients: 40, encounters: 200), to: lake)
        let built = try buildWarehouse(lake: lake, saveKeys: false)
        try append(ClinicalSample.random(seed: 12, patients: 40, encounters: 200), to: lake)  // commits after the build read
        let report = try QualityGate.run(QualityGate.Input(lake: lake, tables: built.tables, build: built.report))
        let reconciliation = report.results.filter { $0.rule == .reconciliation }
        #expect(!reconciliation.isEmpty)
        for r in reconciliation { #expect(r.passed, "\(r.name): \(r.failing) rows do not reconcile") }
    }

    @Test("two builds at once register each new key once, and both give the same tables")
    func concurrentBuildsShareTheRegistry() throws {
        let lake = try temporaryLake()
        defer { try? FileManager.default.removeItem(atPath: lake.root) }
        var patients = Set<UUID16>(), encounters = Set<UUID16>()
        for round in 0..<3 {
            let sample = ClinicalSample.random(seed: 500 + UInt64(round), patients: 60, encounters: 400)
            try append(sample, to: lake)
            patients.formUnion(sample.patients.map(\.id))
            encounters.formUnion(sample.encounters.map(\.id))
            let results = BuildResults()
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                results.set(i, Result { try buildWarehouse(lake: lake) })
            }
            let a = try results.get(0).get(), b = try results.get(1).get()
            for ((name, x), (_, y)) in zip(a.tables, b.tables) {
                #expect(x.columns == y.columns, "round \(round): \(name) differs between the two builds")
            }
            let keyed = try lake.table(KeyRegistryTables.patients).snapshot().rowCount
            // Patients of an encounter with an unknown patient get no key; every known one gets exactly one.
            let registry = try loadKeyRegistry(lake: lake)
            #expect(Set(registry.patients.ids).count == keyed, "round \(round): a patient was registered twice")
            #expect(keyed <= patients.count)
            let encounterRows = try lake.table(KeyRegistryTables.encounters).snapshot().rowCount
            #expect(Set(registry.encounters.ids).count == encounterRows, "round \(round): an encounter was registered twice")
            #expect(Set(registry.encounters.keys).count == encounterRows, "round \(round): one key given twice")
            #expect(encounterRows <= encounters.count)
        }
    }
}

final class WriterFailure: @unchecked Sendable {
    private var error: Error?
    private let lock = NSLock()
    func set(_ e: Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> Error? { lock.lock(); defer { lock.unlock() }; return error }
}

final class BuildResults: @unchecked Sendable {
    private var results: [Int: Result<WarehouseTables, Error>] = [:]
    private let lock = NSLock()
    func set(_ i: Int, _ r: Result<WarehouseTables, Error>) { lock.lock(); results[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<WarehouseTables, Error> {
        lock.lock(); defer { lock.unlock() }
        return results[i] ?? .failure(WarehouseError("build \(i) never finished"))
    }
}
