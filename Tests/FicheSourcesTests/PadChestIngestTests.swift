import FicheLake
import Foundation
import Testing

@testable import FicheSources

/// The fixtures: rows cut from the real PadChest CSV (see Fixtures/README.md).
enum PadChestFixture {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let sample = folder + "/padchest_sample.csv"
    static let sampleGz = folder + "/padchest_sample.csv.gz"
    static let broken = folder + "/padchest_broken.csv"
}

/// A fresh lake in a temporary directory.
func temporaryLake() throws -> Lake {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-padchest-\(UUID().uuidString)").path
    return try Lake(root: dir)
}

extension Batch {
    func nullableStrings(_ name: String) -> [String?] {
        guard let c = column(name), case .string(let s) = c.values else { return [] }
        return (0..<rowCount).map { c.isNull($0) ? nil : s[$0] }
    }

    func uuidColumn(_ name: String) -> [UUID16] {
        guard let c = column(name), case .uuid(let v) = c.values else { return [] }
        return v
    }

    /// Row index where string column `name` equals `value`.
    func row(_ name: String, _ value: String) -> Int? { nullableStrings(name).firstIndex(of: value) }
}

/// A column's values when they have the expected type, else nil (for `#require`).
extension ColumnValues {
    var bools: [Bool]? { if case .bool(let v) = self { v } else { nil } }
    var int16s: [Int16]? { if case .int16(let v) = self { v } else { nil } }
    var int32s: [Int32]? { if case .int32(let v) = self { v } else { nil } }
    var int64s: [Int64]? { if case .int64(let v) = self { v } else { nil } }
    var float64s: [Double]? { if case .float64(let v) = self { v } else { nil } }
    var dates: [Int32]? { if case .date(let v) = self { v } else { nil } }
}

func table(_ lake: Lake, _ name: String) throws -> Batch { try lake.table(name).snapshot().readAll() }

@Suite struct PadChestIngestTests {
    // Independent counts of the sample (computed with Python's csv and ast modules).
    static let sampleRows = 32, samplePatients = 21, sampleEncounters = 25, sampleReports = 23
    static let sampleDiagnoses = 62, sampleICD10 = 20

    @Test func sampleLandsInEveryTableAndCountsAddUp() throws {
        let lake = try temporaryLake()
        let s = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        #expect(s.rowsRead == Self.sampleRows)
        #expect(s.ingested == Self.sampleRows)
        #expect(s.duplicates == 0 && s.quarantined == 0 && s.addsUp)
        #expect(s.patients == Self.samplePatients)
        #expect(s.encounters == Self.sampleEncounters)
        #expect(s.procedures == Self.sampleRows)
        #expect(s.reports == Self.sampleReports)
        #expect(s.diagnoses == Self.sampleDiagnoses)
        #expect(s.diagnosesICD10 == Self.sampleICD10)
        #expect(s.diagnosesFinding == Self.sampleDiagnoses - Self.sampleICD10)
        #expect(s.emptyLabels == 1)  // the real row whose Labels is ['']
        #expect(try lake.table("padchest").snapshot().rowCount == Self.sampleRows)
        #expect(try lake.table("patients").snapshot().rowCount == Self.samplePatients)
        #expect(try lake.table("encounters").snapshot().rowCount == Self.sampleEncounters)
        #expect(try lake.table("procedures").snapshot().rowCount == Self.sampleRows)
        #expect(try lake.table("reports").snapshot().rowCount == Self.sampleReports)
        #expect(try lake.table("diagnoses").snapshot().rowCount == Self.sampleDiagnoses)
        let facilities = try table(lake, "facilities")
        #expect(facilities.rowCount == 1)
        #expect(facilities.nullableStrings("facility_name") == ["Hospital Universitario San Juan de Alicante"])
        #expect(facilities.nullableStrings("country") == ["Spain"])
        #expect(facilities.nullableStrings("source") == ["padchest"])
        // Every encounter is at that facility; every code used is in diagnosis_codes.
        let encounters = try table(lake, "encounters")
        #expect(Set(encounters.uuidColumn("facility_id")) == [PadChestIDs.facilityID])
        let codes = Set(try table(lake, "diagnosis_codes").nullableStrings("code").compactMap { $0 })
        #expect(Set(try table(lake, "diagnoses").nullableStrings("code").compactMap { $0 }).isSubset(of: codes))
    }

    @Test func stagingKeepsEveryColumnTyped() throws {
        let lake = try temporaryLake()
        _ = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        let staging = try table(lake, "padchest")
        #expect(staging.schema == PadChestStaging.schema)
        #expect(staging.schema.fields.count == 36 + 5 + 1)
        let first = try #require(staging.row("ImageID", "20536686640136348236148679891455886468_k6ga29.png"))
        let births = try #require(staging.column("PatientBirth")?.values.int16s)
        let dates = try #require(staging.column("StudyDate_DICOM")?.values.dates)
        let reportIDs = try #require(staging.column("ReportID")?.values.int64s)
        let exposure = try #require(staging.column("RelativeXRayExposure_DICOM")?.values.float64s)
        let rows = try #require(staging.column("Rows_DICOM")?.values.int32s)
        #expect(births[first] == 1930)
        #expect(dates[first] == Int32(PadChestFieldParsing.daysFromCivil(year: 2014, month: 9, day: 15)))
        #expect(reportIDs[first] == 4_765_777)
        #expect(exposure[first] == -1.42)
        #expect(rows[first] == 1728)
        #expect(staging.column("SpatialResolution_DICOM")!.isNull(first))  // "None"
        #expect(staging.nullableStrings("PixelAspectRatio_DICOM")[first] == nil)
        #expect(staging.nullableStrings("Report")[first] == " sin hallazg patolog edad pacient .")
        #expect(staging.nullableStrings("Labels")[first] == "['normal']")
        #expect(staging.nullableStrings("Labels_items")[first] == "normal")
        #expect(staging.nullableStrings("LabelsLocalizationsBySentence_items")[first] == "normal;normal")
        // A numpy array printed over two lines inside a quoted field.
        let dx = try #require(staging.row("ImageID", "105529804483623054726294337265160703666_6zn76a.png"))
        let cuis = try #require(staging.nullableStrings("LocalizationsCUIS")[dx] ?? staging.nullableStrings("labelCUIS")[dx])
        #expect(cuis.contains("\n"))
        #expect(!(staging.nullableStrings("LocalizationsCUIS_items")[dx] ?? "").contains("\n"))
        // Lines: the first data row is on line 2 of the file.
        let lines = try #require(staging.column("source_line")?.values.int64s)
        #expect(lines[first] == 2)
    }

    @Test func oddRealRowsMapAsDocumented() throws {
        let lake = try temporaryLake()
        _ = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        let patients = try table(lake, "patients")
        let procedures = try table(lake, "procedures")
        let encounters = try table(lake, "encounters")
        let reports = try table(lake, "reports")
        let diagnoses = try table(lake, "diagnoses")
        func patient(_ id: String) throws -> Int { try #require(patients.row("source_id", id)) }
        func procedure(_ image: String) throws -> Int { try #require(procedures.row("source_id", image)) }
        let births = try #require(patients.column("birth_year")?.values.int16s)

        // No birth year → null birth_year.
        let noBirth = try patient("196951031285601235946612513168166875820")
        #expect(patients.column("birth_year")!.isNull(noBirth))
        let born = try patient("839860488694292331637988235681460987")
        #expect(births[born] == 1930)
        // Sex O kept; sex nan → null.
        #expect(patients.nullableStrings("sex")[try patient("41234038026186176813704438471430318809")] == "O")
        #expect(patients.nullableStrings("sex")[try patient("107335937205383237145719443378410066811")] == nil)

        // Projections: COSTAL → rib views; EXCLUDE and UNK are still chest single views.
        #expect(procedures.nullableStrings("procedure_code")[try procedure("9088270961408223776881160919484492438_cjha40.png")] == "71100")
        #expect(procedures.nullableStrings("procedure_code")[try procedure("216840111366964012339356563862009056095537450_00-056-045.png")] == "71045")
        #expect(procedures.nullableStrings("procedure_code")[try procedure("216840111366964013590140476722013028161046120_02-015-149.png")] == "71045")
        #expect(procedures.nullableStrings("modality")[try procedure("105529804483623054726294337265160703666_6zn76a.png")] == "DX")
        #expect(procedures.nullableStrings("modality")[try procedure("20536686640136348236148679891455886468_k6ga29.png")] == "CR")
        #expect(Set(procedures.nullableStrings("procedure_name")).count == 2)  // one name per code

        // One StudyID shared by two patients → two encounters.
        let shared = "216840111366964012558082906712010004190248051"
        let sharedEncounters = encounters.nullableStrings("source_id").enumerated().filter { $0.element == shared }.map(\.offset)
        #expect(sharedEncounters.count == 2)
        #expect(Set(sharedEncounters.map { encounters.uuidColumn("patient_id")[$0] }).count == 2)

        // No report and no labels → a procedure, but no report and no diagnosis.
        let bare = try procedure("216840111366964013829543166512013354131013504_02-094-008.png")
        let bareEncounter = procedures.uuidColumn("encounter_id")[bare]
        #expect(!reports.uuidColumn("encounter_id").contains(bareEncounter))
        #expect(!diagnoses.uuidColumn("encounter_id").contains(bareEncounter))

        // Reports are Spanish radiology reports.
        #expect(Set(reports.nullableStrings("language")) == ["es"])
        #expect(Set(reports.nullableStrings("report_type")) == ["radiology"])

        // Labels: leading spaces trimmed, mapped to ICD-10 where the table says, CUI kept.
        let codes = diagnoses.nullableStrings("code"), labels = diagnoses.nullableStrings("source_label")
        for (code, label) in zip(codes, labels) {
            #expect(label?.first != " ")
            if label == "pneumonia" { #expect(code == "J18.9") }
            if label == "normal" { #expect(code == "PADCHEST:normal") }
            if label == "COPD signs" { #expect(code == "J44.9") }
        }
        if let i = labels.firstIndex(of: "COPD signs") { #expect(diagnoses.nullableStrings("umls_cui")[i] == "C0024117") }
        // Exactly one primary diagnosis per image that has labels; here every encounter with
        // diagnoses has at least one primary.
        let primary = try #require(diagnoses.column("is_primary")?.values.bools)
        let encountersWithDiagnoses = Set(diagnoses.uuidColumn("encounter_id"))
        let withPrimary = Set(zip(diagnoses.uuidColumn("encounter_id"), primary).filter(\.1).map(\.0))
        #expect(withPrimary == encountersWithDiagnoses)
    }

    @Test func reingestAddsNothingAndIdsAreStableAcrossLakes() throws {
        let lake = try temporaryLake()
        _ = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        let versions = try ["padchest", "patients", "diagnoses"].map { try lake.table($0).snapshot().version }
        let again = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        #expect(again.rowsRead == Self.sampleRows)
        #expect(again.ingested == 0 && again.duplicates == Self.sampleRows && again.addsUp)
        #expect(!again.committed)
        #expect(try ["padchest", "patients", "diagnoses"].map { try lake.table($0).snapshot().version } == versions)
        // The .gz copy of the same file is the same rows: nothing new either.
        let gz = try PadChestIngest.run(path: PadChestFixture.sampleGz, lake: lake)
        #expect(gz.rowsRead == Self.sampleRows && gz.duplicates == Self.sampleRows)

        let other = try temporaryLake()
        _ = try PadChestIngest.run(path: PadChestFixture.sampleGz, lake: other)
        for (t, id) in [("patients", "patient_id"), ("encounters", "encounter_id"), ("procedures", "procedure_id"),
                        ("reports", "report_id"), ("diagnoses", "diagnosis_id")] {
            #expect(Set(try table(lake, t).uuidColumn(id)) == Set(try table(other, t).uuidColumn(id)), "\(t)")
        }
    }

    @Test func flushingInSmallBatchesWritesTheSameLakeInOneCommit() throws {
        let whole = try temporaryLake(), pieces = try temporaryLake()
        let a = try PadChestIngest.run(path: PadChestFixture.sample, lake: whole)
        let b = try PadChestIngest.run(path: PadChestFixture.sample, lake: pieces, flushRows: 5)
        var a2 = a, b2 = b
        for s in [\PadChestIngestSummary.readSeconds, \.mapSeconds, \.writeSeconds] {
            a2[keyPath: s] = 0
            b2[keyPath: s] = 0
        }
        #expect(a2 == b2)
        for (t, id) in [("patients", "patient_id"), ("encounters", "encounter_id"), ("procedures", "procedure_id"),
                        ("reports", "report_id"), ("diagnoses", "diagnosis_id")] {
            let x = try table(whole, t).uuidColumn(id), y = try table(pieces, t).uuidColumn(id)
            #expect(x.count == y.count && Set(x) == Set(y), "\(t)")
            #expect(try pieces.table(t).snapshot().history.count == 1, "\(t): one commit")
        }
        #expect(try table(pieces, "facilities").rowCount == 1)
        #expect(try table(pieces, "padchest").rowCount == Self.sampleRows)
    }

    @Test func limitIngestsTheNextNewRowsAndBatchesSumToTheWhole() throws {
        let lake = try temporaryLake()
        var total = 0
        for step in 0..<4 {
            let s = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake, limit: 10)
            #expect(s.ingested == min(10, Self.sampleRows - total), "step \(step)")
            #expect(s.addsUp)
            #expect(s.duplicates == total)  // rows before the new ones were all ingested earlier
            total += s.ingested
        }
        #expect(total == Self.sampleRows)
        #expect(try lake.table("patients").snapshot().rowCount == Self.samplePatients)
        #expect(try lake.table("encounters").snapshot().rowCount == Self.sampleEncounters)
        #expect(try lake.table("reports").snapshot().rowCount == Self.sampleReports)
        #expect(try lake.table("diagnoses").snapshot().rowCount == Self.sampleDiagnoses)
        #expect(try lake.table("facilities").snapshot().rowCount == 1)
        let codes = try table(lake, "diagnosis_codes").nullableStrings("code")
        #expect(codes.count == Set(codes).count)  // no code written twice
        let zero = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake, limit: 0)
        #expect(zero.rowsRead == 0 && zero.limitReached)
    }

    @Test func brokenRowsGoToQuarantineWithLineAndReason() throws {
        let lake = try temporaryLake()
        let s = try PadChestIngest.run(path: PadChestFixture.broken, lake: lake)
        #expect(s.rowsRead == 8)
        #expect(s.ingested == 2)
        #expect(s.duplicates == 1)  // the first row repeated on line 6
        #expect(s.quarantined == 5)
        #expect(s.addsUp)
        let q = try table(lake, "quarantine")
        let lines = try #require(q.column("line")?.values.int64s)
        let reasons = q.nullableStrings("reason").map { $0 ?? "" }
        #expect(lines == [3, 4, 5, 7, 9])
        #expect(reasons[0].hasPrefix("wrong field count: 35 fields"))
        #expect(reasons[1] == "StudyDate_DICOM: '20151345' is not a YYYYMMDD date")
        #expect(reasons[2].hasPrefix("invalid UTF-8 at line 5, column "))
        #expect(reasons[2].hasSuffix("(field 30)"))
        #expect(reasons[3] == "PatientBirth: '19x5.0' is not a birth year")
        #expect(reasons[4].hasPrefix("unterminated quoted field at line 9, column "))
        #expect(reasons[4].hasSuffix("(field 36)"))
        #expect(Set(q.nullableStrings("file")) == [PadChestFixture.broken])
        #expect(q.nullableStrings("raw_text")[1]?.contains(",20151345,") == true)
        #expect(q.nullableStrings("raw_text")[2]?.contains("\u{FFFD}") == true)  // invalid bytes shown as U+FFFD

        // A second run reports them again but does not add them again.
        let again = try PadChestIngest.run(path: PadChestFixture.broken, lake: lake)
        #expect(again.quarantined == 5 && again.quarantinedAlreadyRecorded == 5 && again.duplicates == 3)
        #expect(try lake.table("quarantine").snapshot().rowCount == 5)
    }

    /// What Excel and many Windows exports write: a UTF-8 byte-order mark, then CRLF line ends.
    @Test func aByteOrderMarkAndCRLFLineEndsIngestLikeThePlainFile() throws {
        let plain = try Data(contentsOf: URL(fileURLWithPath: PadChestFixture.sample))
        var windows = Data([0xEF, 0xBB, 0xBF])
        for b in plain {
            if b == 0x0A { windows.append(0x0D) }
            windows.append(b)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-bom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/padchest_windows.csv"
        try windows.write(to: URL(fileURLWithPath: path))

        let lake = try temporaryLake(), reference = try temporaryLake()
        let s = try PadChestIngest.run(path: path, lake: lake)
        #expect(s.rowsRead == Self.sampleRows && s.ingested == Self.sampleRows && s.quarantined == 0 && s.addsUp)
        #expect(s.encounters == Self.sampleEncounters && s.diagnoses == Self.sampleDiagnoses)
        _ = try PadChestIngest.run(path: PadChestFixture.sample, lake: reference)
        // Same rows and ids as the plain file; no carriage return left at the end of a record.
        for (t, id) in [("patients", "patient_id"), ("encounters", "encounter_id"), ("procedures", "procedure_id"),
                        ("diagnoses", "diagnosis_id")] {
            #expect(Set(try table(lake, t).uuidColumn(id)) == Set(try table(reference, t).uuidColumn(id)), "\(t)")
        }
        let staged = try table(lake, "padchest"), plainStaged = try table(reference, "padchest")
        #expect(staged.nullableStrings("ImageID") == plainStaged.nullableStrings("ImageID"))
        #expect(staged.nullableStrings("Labels") == plainStaged.nullableStrings("Labels"))
        #expect(!staged.nullableStrings("Labels").contains { $0?.contains("\r") == true })
        // The plain file into that lake: every row a duplicate.
        let again = try PadChestIngest.run(path: PadChestFixture.sample, lake: lake)
        #expect(again.duplicates == Self.sampleRows && again.ingested == 0)
    }

    @Test func wrongHeaderOrMissingFileIsAnErrorNamingTheFile() throws {
        let lake = try temporaryLake()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fiche-hdr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bad = dir + "/bad.csv"
        try Data(",ImageID,Oops\n0,a,b\n".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: SourceError.self) { try PadChestIngest.run(path: bad, lake: lake) }
        do {
            _ = try PadChestIngest.run(path: bad, lake: lake)
        } catch {
            #expect("\(error)".contains("bad.csv:1"))
        }
        do {
            _ = try PadChestIngest.run(path: dir + "/absent.csv", lake: lake)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("absent.csv"))
        }
        #expect(try lake.tableNames().isEmpty)
    }

    @Test func labelCodeTableMatchesTheReviewableCSV() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("sql/padchest_label_codes.csv"), encoding: .utf8)
        #expect(file == PadChestLabelCodes.embeddedCSV + "\n")
        let codes = try PadChestLabelCodes.builtIn()
        let i = try #require(codes.lookup(Array("pleural effusion".utf8)))
        #expect(codes.codes[i] == DiagnosisCode(code: "J90", description: "Pleural effusion, not elsewhere classified",
                                                category: "Respiratory", codingSystem: "ICD-10", umlsCUI: "C2073625"))
        let j = try #require(codes.lookup(Array("cardiomegaly".utf8)))
        #expect(codes.codes[j].code == "I51.7")
        let k = try #require(codes.lookup(Array("normal".utf8)))
        #expect(codes.codes[k].code == "PADCHEST:normal" && codes.codes[k].codingSystem == "PADCHEST-FINDING")
        #expect(codes.lookup(Array("no such label".utf8)) == nil)
        #expect(codes.codes.count == 193)
    }
}

import CZlib

@Suite struct PadChestCrashTests {
    /// Writes `text` gzip-compressed to a temporary file and returns its path.
    func gzipFile(_ text: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "fiche-pc-\(UUID().uuidString).csv.gz"
        let gz = try #require(gzopen(path, "wb"))
        let written = text.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        #expect(Int(written) == text.count)
        gzclose(gz)
        return path
    }

    @Test func anInputErrorAfterSomeWritesLeavesNothingVisible() throws {
        // 100 copies of the sample's rows with distinct ImageIDs: ~2.4 MB of CSV, several blocks.
        let sample = try String(contentsOfFile: PadChestFixture.sample, encoding: .utf8)
        let header = String(sample[..<sample.firstIndex(of: "\n")!]) + "\n"
        let body = String(sample[sample.index(after: sample.firstIndex(of: "\n")!)...])
        var text = header
        for copy in 0..<100 { text += body.replacingOccurrences(of: ".png,", with: "_\(copy).png,") }
        let whole = try gzipFile(Array(text.utf8))
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = whole + ".cut.gz"
        try data.prefix(data.count * 3 / 4).write(to: URL(fileURLWithPath: cut))

        let lake = try temporaryLake()
        // Several flushes (mapping and appends to the transaction) happen before the error.
        #expect(throws: SourceError.self) {
            _ = try PadChestIngest.run(path: cut, lake: lake, flushRows: 50)
        }
        for t in ["padchest", "patients", "encounters", "procedures", "reports", "diagnoses", "diagnosis_codes", "facilities"] {
            #expect(try lake.table(t).snapshot().rowCount == 0, "\(t)")
        }
        // The whole file then ingests completely.
        let s = try PadChestIngest.run(path: whole, lake: lake, flushRows: 50)
        #expect(s.ingested == 100 * 32 && s.addsUp)
    }
}
