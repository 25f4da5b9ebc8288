import FicheLake
import FicheModel
import Foundation
import Testing

@testable import FicheSources

/// A fresh lake folder, removed afterwards.
struct ScratchLake: ~Copyable {
    let root: String
    let lake: Lake

    init() throws {
        root = NSTemporaryDirectory() + "fiche-synthetic-" + UUID().uuidString
        lake = try Lake(root: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The bytes of every chunk file of every synthetic table, in commit order.
    func chunkContents() throws -> [String: [[UInt8]]] {
        var out: [String: [[UInt8]]] = [:]
        for name in SyntheticClinic.tableNames {
            let snap = try lake.table(name).snapshot()
            out[name] = try snap.chunks.map { c in
                guard let d = FileManager.default.contents(atPath: snap.path(of: c)) else {
                    throw LakeError(.io, "cannot read chunk", file: snap.path(of: c))
                }
                return [UInt8](d)
            }
        }
        return out
    }
}

@Suite struct SyntheticLakeWriterTests {
    @Test func theSameSeedWritesTheSameBytes() throws {
        let a = try ScratchLake(), b = try ScratchLake(), c = try ScratchLake()
        let clinic = try SyntheticClinic(seed: 11, patients: 1_500, facilities: 8, blockPatients: 400)
        let sa = try clinic.write(to: a.lake)
        _ = try clinic.write(to: b.lake)
        _ = try SyntheticClinic(seed: 12, patients: 1_500, facilities: 8, blockPatients: 400).write(to: c.lake)
        let ca = try a.chunkContents(), cb = try b.chunkContents(), cc = try c.chunkContents()
        for name in SyntheticClinic.tableNames {
            let chunks = ca[name] ?? []
            #expect(!chunks.isEmpty, "\(name) has chunks")
            #expect(chunks == cb[name], "\(name): same seed, same chunk bytes")
        }
        #expect(ca[ClinicalModel.encounters] != cc[ClinicalModel.encounters], "another seed, other bytes")
        #expect(ca[ClinicalModel.patients]?.count == 1, "small blocks gathered into one chunk")
        #expect(ca[ClinicalModel.encounters]?.count == 1, "small years gathered into one chunk")
        #expect(sa.blocks == 4)
        #expect(sa.bytes > 0)
    }

    @Test func whatIsReadBackIsWhatWasGenerated() throws {
        let s = try ScratchLake()
        let clinic = try SyntheticClinic(seed: 5, patients: 900, facilities: 4, blockPatients: 500)
        let summary = try clinic.write(to: s.lake)
        var generated = GeneratedClinic(clinic)
        let expected: [(String, [Batch])] = [
            (ClinicalModel.facilities, [generated.facilities]), (ClinicalModel.diagnosisCodes, [generated.codes]),
            (ClinicalModel.patients, generated.blocks.map(\.patients)),
            (ClinicalModel.encounters, yearMajor(generated.blocks.map(\.encountersByYear))),
            (ClinicalModel.procedures, yearMajor(generated.blocks.map(\.proceduresByYear))),
            (ClinicalModel.diagnoses, yearMajor(generated.blocks.map(\.diagnosesByYear))),
            (ClinicalModel.reports, yearMajor(generated.blocks.map(\.reportsByYear))),
        ]
        generated.blocks = []
        for (name, batches) in expected {
            let want = Batch.concatenate(batches)
            let snap = try s.lake.table(name).snapshot()
            let got = try snap.readAll()
            #expect(got.schema == want.schema, "\(name) schema")
            #expect(got.rowCount == want.rowCount, "\(name) rows")
            #expect(summary.rows(of: name) == want.rowCount)
            for (g, w) in zip(got.columns, want.columns) {
                let same = g.sameValues(as: w)
                #expect(same, "\(name) values")
            }
            #expect(snap.history.last?.source == "synthetic")
            #expect(snap.history.last?.operation == "generate seed=5 patients=900 facilities=4")
        }
        #expect(summary.totalRows == expected.reduce(0) { $0 + $1.1.reduce(0) { $0 + $1.rowCount } })
    }

    /// The lake keeps a small table's years in one chunk, year by year (its partitions in order).
    func yearMajor(_ blocks: [[Batch]]) -> [Batch] {
        let years = blocks.map(\.count).max() ?? 0
        return (0..<years).flatMap { y in blocks.compactMap { y < $0.count ? $0[y] : nil } }
    }

    @Test func aDateRangeReadSkipsTheOtherYearsChunks() throws {
        let s = try ScratchLake()
        _ = try SyntheticClinic(seed: 9, patients: 700, facilities: 5, blockPatients: 300).write(to: s.lake, chunkRows: 500)
        let snap = try s.lake.table(ClinicalModel.encounters).snapshot()
        let all = try snap.readAll(columns: ["encounter_date"]).dates("encounter_date")
        let y2023 = Int64(SyntheticCalendar.yearStart(2023))...Int64(SyntheticCalendar.yearStart(2024) - 1)
        var read: [Int32] = [], chunks = 0
        try snap.forEachChunk(columns: ["encounter_date"], prune: ChunkPrune(column: "encounter_date", range: y2023)) {
            read += $0.dates("encounter_date")
            chunks += 1
        }
        #expect(chunks > 0 && chunks < snap.chunks.count, "read \(chunks) of \(snap.chunks.count) chunks")
        let perYear = snap.chunks.filter { c in
            guard let r = c.ranges?["encounter_date"] else { return false }
            return y2023.contains(r[0]) && y2023.contains(r[1])
        }
        #expect(perYear.count == chunks, "every chunk read holds only 2023")
        #expect(read.sorted() == all.filter { y2023.contains(Int64($0)) }.sorted())
    }

    @Test func aSecondRunIsRefusedUnlessItReplaces() throws {
        let s = try ScratchLake()
        _ = try SyntheticClinic(seed: 1, patients: 300, facilities: 3).write(to: s.lake)
        let again = try SyntheticClinic(seed: 2, patients: 200, facilities: 3)
        #expect(throws: SourceError.self) { try again.write(to: s.lake) }
        #expect(try s.lake.table(ClinicalModel.patients).snapshot().rowCount == 300, "a refused run writes nothing")
        let summary = try again.write(to: s.lake, replace: true)
        #expect(summary.replaced)
        #expect(try s.lake.table(ClinicalModel.patients).snapshot().rowCount == 200)
        #expect(try s.lake.table(ClinicalModel.encounters).snapshot().rowCount == summary.encounters)
        #expect(try s.lake.table(ClinicalModel.facilities).snapshot().rowCount == 3)
    }

    @Test func replacingNeverRemovesAnotherSourcesRows() throws {
        let s = try ScratchLake()
        // Another source's patient, committed before any synthetic run.
        let other = LakeTransaction(lake: s.lake, source: "padchest", operation: "ingest")
        let patient = Batch(schema: ClinicalModel.patientSchema, columns: ClinicalModel.patientSchema.fields.map { f in
            f.type == .uuid ? Column(.uuid([UUID16(high: 1, low: 2)]))
                : f.type == .string ? Column(.string(StringArray([f.name == "source" ? "padchest" : "x"])))
                : Column.nulls(f.type, count: 1)
        })
        try other.append(patient, to: ClinicalModel.patients)
        try other.commit()
        // A first synthetic run adds beside it.
        let clinic = try SyntheticClinic(seed: 1, patients: 100, facilities: 2)
        _ = try clinic.write(to: s.lake)
        #expect(try s.lake.table(ClinicalModel.patients).snapshot().rowCount == 101)
        // A replace would drop the other source's row: refused, nothing changes.
        #expect(throws: SourceError.sharedTable(table: ClinicalModel.patients, source: "padchest")) {
            try clinic.write(to: s.lake, replace: true)
        }
        #expect(try s.lake.table(ClinicalModel.patients).snapshot().rowCount == 101)
    }
}
