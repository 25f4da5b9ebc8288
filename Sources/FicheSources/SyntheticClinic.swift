// The synthetic Rwandan clinic network: a deterministic generator of the clinical
// model's tables. Every patient draws from its own random stream (seed, patient
// number), so a patient's whole history is the same whatever the block size or
// the number of patients, blocks can be generated in any order, and ids are
// derived from (seed, patient, visit, item) rather than counted.
//
// The model (numbers in RwandaCatalog and SyntheticLookup):
// - Facilities: named Rwandan referral hospitals, district hospitals and health centres
//   with their real district and province; beyond the 43 named ones, further health centres.
// - Patients: sex 51.5% female; age on 2022-01-01 from Rwanda's pyramid (median about 20);
//   a home facility (health centres weigh most); they live in its district (a referral
//   hospital's patients come from across its province); a record number RW000000001...;
//   only the birth year is on record (birth_date null) for a fifth of those over forty.
// - Visits: 1% never come; most come 1-8 times; a chronic minority (7% of children, 16%
//   of adults under 50, 32% over 50) has a long-term condition (HIV, hypertension,
//   diabetes, asthma, epilepsy, ...) and comes 10-32 times, the condition being the
//   primary diagnosis of 55% of those visits. Days 2022-01-01..2024-12-31, busier in
//   the rainy seasons (March-May, September-December), quiet at weekends, +5% a year.
// - Primary diagnosis by age group (0-4, 5-14, 15-49, 50+), sex and season: malaria,
//   diarrhoea and pneumonia in children; pregnancy, hypertension and diabetes in adults;
//   malaria x1.9 and respiratory infections x1.4-1.5 in the rainy seasons.
// - Encounter type and facility from the diagnosis: deliveries, strokes and appendicitis
//   are admitted, injuries come through emergency, admissions go to hospitals.
// - 10% of visits have no procedure, the rest 1-4 (mostly the diagnosis's work-up,
//   else common tests); 8% are uncoded, the rest have a primary and 0-2 secondary
//   diagnoses; a radiology report on the first image (92%) or a pathology report on the
//   first test (85%) whose findings match the diagnosis when the test is its work-up.
// - Rows of encounters, procedures, diagnoses and reports are grouped by the encounter's
//   year, appended as a lake partition, so each full lake chunk covers one year.

import FicheLake
import FicheModel

/// One block of patients with everything that happened to them. Encounters, procedures,
/// diagnoses and reports come in one batch per calendar year of the encounter.
public struct SyntheticBlock: Sendable {
    /// Global number of the block's first patient, and how many patients it holds.
    public let firstPatient: Int
    public let patientCount: Int
    public let patients: Batch
    public let encountersByYear: [Batch]
    public let proceduresByYear: [Batch]
    public let diagnosesByYear: [Batch]
    public let reportsByYear: [Batch]

    public var encounters: Batch { Batch.concatenate(encountersByYear) }
    public var procedures: Batch { Batch.concatenate(proceduresByYear) }
    public var diagnoses: Batch { Batch.concatenate(diagnosesByYear) }
    public var reports: Batch { Batch.concatenate(reportsByYear) }

    /// The block's batches with their clinical table names, in the order they are written,
    /// and the lake partition (the encounter year's index) that keeps a chunk to one year.
    public var tables: [(name: String, batch: Batch, partition: Int64?)] {
        func byYear(_ name: String, _ batches: [Batch]) -> [(name: String, batch: Batch, partition: Int64?)] {
            batches.enumerated().map { (name, $1, Int64($0)) }
        }
        return [(ClinicalModel.patients, patients, nil)]
            + byYear(ClinicalModel.encounters, encountersByYear) + byYear(ClinicalModel.procedures, proceduresByYear)
            + byYear(ClinicalModel.diagnoses, diagnosesByYear) + byYear(ClinicalModel.reports, reportsByYear)
    }

    public var rowCount: Int { tables.reduce(0) { $0 + $1.batch.rowCount } }
}

public struct SyntheticClinic: Sendable {
    public static let defaultSeed: UInt64 = 1
    public static let defaultPatients = 5_000
    public static let defaultFacilities = 10
    public static let defaultBlockPatients = 100_000
    public static let maxPatients = 1 << 40
    public static let maxFacilities = 60_000
    public static let maxBlockPatients = 1_000_000
    /// The `source` of every row.
    public static let source = ClinicalModel.Source.synthetic.rawValue

    public let seed: UInt64
    public let patients: Int
    public let facilities: Int
    public let blockPatients: Int
    let lookup: SyntheticLookup

    public init(seed: UInt64 = defaultSeed, patients: Int = defaultPatients, facilities: Int = defaultFacilities,
                blockPatients: Int = defaultBlockPatients) throws(SourceError) {
        guard (0...Self.maxPatients).contains(patients) else { throw .invalidPatients(patients) }
        guard (1...Self.maxFacilities).contains(facilities) else { throw .invalidFacilities(facilities) }
        guard (1...Self.maxBlockPatients).contains(blockPatients) else { throw .invalidBlockSize(blockPatients) }
        self.seed = seed
        self.patients = patients
        self.facilities = facilities
        self.blockPatients = blockPatients
        lookup = SyntheticLookup(facilities: facilities)
    }

    /// Encounters per patient on average (measured at the defaults): size a run for a
    /// wanted number of encounters with `patients(forEncounters:)`.
    public static let encountersPerPatient = 5.4

    /// The number of patients that gives about `encounters` encounters.
    public static func patients(forEncounters encounters: Int) -> Int {
        max(0, Int((Double(encounters) / encountersPerPatient).rounded()))
    }

    public var blockCount: Int { (patients + blockPatients - 1) / blockPatients }

    // Id namespaces: each entity's ids come from its own stream.
    enum Tag: UInt64 {
        case facility = 0x6661_6369_6C69_7479
        case patient = 0x7061_7469_656E_7400
        case encounter = 0x656E_636F_756E_7400
        case procedure = 0x7072_6F63_6564_7500
        case diagnosis = 0x6469_6167_6E6F_7300
        case report = 0x7265_706F_7274_0000
        case stream = 0x7374_7265_616D_0000
        /// `generate --days`: a patient's stream for one later day, and a day's new patients.
        case continued = 0x636F_6E74_696E_7565
        case newPatients = 0x6E65_7770_6174_0000
    }

    @inline(__always)
    func id(_ tag: Tag, _ key: UInt64) -> UUID16 {
        UUID16.derived(seed ^ tag.rawValue ^ (key &* 0x9E37_79B9_7F4A_7C15), key)
    }

    public func facilityID(_ i: Int) -> UUID16 { id(.facility, UInt64(i)) }
    public func patientID(_ i: Int) -> UUID16 { id(.patient, UInt64(i)) }

    // MARK: Reference tables

    /// The facilities of the network.
    public func facilityBatch() -> Batch {
        let n = facilities
        let l = lookup
        return Batch(schema: ClinicalModel.facilitySchema, columns: [
            Column(.uuid((0..<n).map(facilityID))),
            Column(.string(SyntheticTextPool.constant(Self.source, count: n))),
            Column(.string(StringArray((0..<n).map { "RW-F\(String(1000 + $0 + 1).dropFirst())" }))),
            Column(.string(StringArray(l.facilityName))),
            Column(.string(StringArray(l.facilityType.map(\.rawValue)))),
            Column(.string(StringArray(l.facilityDistrict))),
            Column(.string(StringArray(l.facilityProvince))),
            Column(.string(SyntheticTextPool.constant("Rwanda", count: n))),
        ])
    }

    /// The ICD-10 codes the generator uses, with descriptions and categories.
    public func diagnosisCodeBatch() -> Batch {
        let dxs = RwandaCatalog.diagnoses
        return Batch(schema: ClinicalModel.diagnosisCodeSchema, columns: [
            Column(.string(StringArray(dxs.map(\.code)))),
            Column(.string(StringArray(dxs.map(\.description)))),
            Column(.string(StringArray(dxs.map(\.category)))),
            Column(.string(SyntheticTextPool.constant("ICD-10", count: dxs.count))),
            Column.nulls(.string, count: dxs.count),
        ])
    }

    // MARK: Blocks

    /// Calls `body` with every block in order.
    public func forEachBlock(_ body: (SyntheticBlock) throws -> Void) rethrows {
        for b in 0..<blockCount { try body(generate(block: b)) }
    }

    /// The patients of block `block` (0 ..< blockCount) and their encounters,
    /// procedures, diagnoses and reports.
    public func generate(block: Int) -> SyntheticBlock {
        let first = min(patients, max(0, block) * blockPatients)
        let last = min(patients, first + blockPatients)
        var b = SyntheticBlockBuilder(clinic: self, firstPatient: first, patientCount: last - first)
        b.addPatients(first..<last)
        return b.finish()
    }
}

extension SplitMix64 {
    /// A uniform integer in 0 ..< n (n < 2^32).
    @inline(__always)
    mutating func below(_ n: Int) -> Int { Int(truncatingIfNeeded: ((next() >> 32) &* UInt64(n)) >> 32) }

    /// The top `bits` bits, to index a lookup table of 2^bits slots.
    @inline(__always)
    mutating func slot(_ bits: Int) -> Int { Int(truncatingIfNeeded: next() >> UInt64(64 - bits)) }

    /// A uniform double in [0, 1).
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    @inline(__always)
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}
