// --include-normalized: the lake's clinical tables and its commit log, published as they are.

import FicheLake
import FicheModel
import FicheSources
@testable import FichePublish
import Foundation
import Testing

@Suite struct NormalizedPublisherTests {
    @Test func clinicalTablesAndTheAuditLogArePublished() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-normalized-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lake = try Lake(root: root)
        let codes = Batch(schema: ClinicalModel.diagnosisCodeSchema, columns: [
            Column(.string(StringArray(["J18.9", "B54"]))), Column(.string(StringArray(["Pneumonia", "Malaria, \"unspecified\""]))),
            Column(.string(StringArray(["Respiratory", "Infectious"]))), Column(.string(StringArray(["ICD-10", "ICD-10"]))),
            Column(.string(StringArray(["C0032285", ""])), validity: Bitmap(bytes: [1], count: 2)),
        ])
        let tx = LakeTransaction(lake: lake, source: "test", operation: "seed")
        try tx.append(codes, to: ClinicalModel.diagnosisCodes)
        try tx.commit()
        let tx2 = LakeTransaction(lake: lake, source: "test", operation: "more")
        try tx2.append(codes, to: ClinicalModel.diagnosisCodes)
        try tx2.commit()

        let tables = try NormalizedPublisher.read(lake)
        #expect(tables.map(\.name) == [ClinicalModel.diagnosisCodes, "audit_log"])
        let schema = TestDatabase.uniqueSchema("t_clinical")
        defer { TestDatabase.drop(schema) }
        try NormalizedPublisher.publish(tables: tables, schema: schema, to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        #expect(try c.scalar("SELECT count(*) FROM \(schema).diagnosis_codes") == "4")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).diagnosis_codes WHERE umls_cui IS NULL") == "2")
        #expect(try c.scalar("SELECT string_agg(operation || ':' || rows_added, ',' ORDER BY committed_at, version) FROM \(schema).audit_log") == "seed:2,more:2")
        #expect(try c.scalar("SELECT count(*) FROM \(schema).audit_log WHERE committed_at > now() - interval '1 hour'") == "2")
    }

    /// Every transaction below adds one row to two tables; however the reads fall between
    /// the commits, both tables are read at the same transaction.
    @Test func theTablesAreReadAsOfOneInstantWhileTransactionsCommit() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-normalized-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lake = try Lake(root: root)
        let row = Batch(schema: Schema([Field("n", .int64, nullable: false)]), columns: [Column(.int64([1]))])
        let tables = [ClinicalModel.facilities, ClinicalModel.padchest]  // the first and the last read
        @Sendable func commit() throws {
            let tx = LakeTransaction(lake: lake, source: "test", operation: "pair")
            for t in tables { try tx.append(row, to: t) }
            try tx.commit()
        }
        try commit()
        let writer = DispatchGroup()
        DispatchQueue.global().async(group: writer) { for _ in 0..<150 { try? commit() } }
        var reads = 0
        repeat {
            var rows: [String: Int] = [:]
            for t in try NormalizedPublisher.read(lake) { if case .lake(let s) = t.rows { rows[t.name] = s.rowCount } }
            #expect(rows[tables[0]] == rows[tables[1]], "read \(reads): \(rows)")
            reads += 1
        } while writer.wait(timeout: .now()) == .timedOut
        #expect(reads >= 5)
    }

    /// Lake tables stream chunk by chunk; a value PostgreSQL cannot store in a later chunk is
    /// named by its row in the whole table, and the schema already published stays as it was.
    @Test func aNulByteInALaterChunkAbortsTheLoadAndKeepsThePublishedSchema() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-normalized-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lake = try Lake(root: root)
        func codes(_ names: [String]) -> Batch {
            let n = names.count
            return Batch(schema: ClinicalModel.diagnosisCodeSchema, columns: [
                Column(.string(StringArray((0..<n).map { "C\($0)" }))), Column(.string(StringArray(names))),
                Column(.string(StringArray(Array(repeating: "Other", count: n)))),
                Column(.string(StringArray(Array(repeating: "ICD-10", count: n)))),
                Column(.string(StringArray(Array(repeating: "", count: n))), validity: Bitmap(repeating: false, count: n)),
            ])
        }
        for batch in [codes(["a", "b", "c"]), codes(["d", "e"])] {
            let tx = LakeTransaction(lake: lake, source: "test", operation: "seed")
            try tx.append(batch, to: ClinicalModel.diagnosisCodes)
            try tx.commit()
        }
        let schema = TestDatabase.uniqueSchema("t_clinical")
        defer { TestDatabase.drop(schema) }
        try NormalizedPublisher.publish(tables: try NormalizedPublisher.read(lake), schema: schema, to: TestDatabase.target(), options: options(schema))
        let c = try TestDatabase.connect()
        #expect(try c.scalar("SELECT string_agg(description, '' ORDER BY description) FROM \(schema).diagnosis_codes") == "abcde")

        let tx = LakeTransaction(lake: lake, source: "test", operation: "bad")
        try tx.append(codes(["f", "g\u{0}h"]), to: ClinicalModel.diagnosisCodes)
        try tx.commit()
        #expect(try lake.table(ClinicalModel.diagnosisCodes).snapshot().chunks.count == 3)
        #expect {
            try NormalizedPublisher.publish(tables: try NormalizedPublisher.read(lake), schema: schema, to: TestDatabase.target(), options: options(schema))
        } throws: { error in
            "\(error)".contains("table diagnosis_codes, column description, row 6: text contains a NUL byte")
        }
        #expect(try c.scalar("SELECT string_agg(description, '' ORDER BY description) FROM \(schema).diagnosis_codes") == "abcde")
        #expect(try c.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '\(schema)_staging'") == "0")
    }
}
