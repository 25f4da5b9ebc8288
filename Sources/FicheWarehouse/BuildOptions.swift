// What a build is asked for, and what it reports back.

import FicheLake

public struct BuildOptions: Sendable {
    /// The date (days since 1970) ages and age groups are taken at; nil = the latest
    /// encounter date of the build.
    public var asOf: Int32?
    /// Only encounters dated in this range (days since 1970) enter the fact, the bridges and
    /// the aggregates (a backfill); dimensions always hold every entity. nil = all.
    public var dateRange: ClosedRange<Int32>?

    public init(asOf: Int32? = nil, dateRange: ClosedRange<Int32>? = nil) {
        self.asOf = asOf
        self.dateRange = dateRange
    }
}

/// Counts that make every input row add up, and how long each stage took.
public struct BuildReport: Sendable {
    public var asOf: Int32?
    public var inputRows = 0
    /// Bytes of the input's column buffers (what the build decodes and reads).
    public var inputBytes = 0
    public var duplicateFacilities = 0
    public var duplicatePatients = 0
    public var duplicateEncounters = 0
    public var encountersOutsideRange = 0
    /// Encounters whose patient_id or facility_id names no patient or facility (left out of the fact).
    public var encountersWithoutPatient = 0
    public var encountersWithoutFacility = 0
    /// Procedure, diagnosis and report rows whose encounter is not in the fact (unknown, orphaned
    /// or outside the date range): they count in no fact or bridge row.
    public var proceduresWithoutEncounter = 0
    public var diagnosesWithoutEncounter = 0
    public var diagnosesWithUnknownCode = 0
    public var reportsWithoutEncounter = 0
    /// Rows of each clinical table in the lake snapshot a lake build read (empty for a build
    /// from batches): what the quality gates reconcile with, even if an ingest committed since.
    public var lakeRows: [String: Int] = [:]
    /// Seconds per stage, in order ("key mapping", "fact and bridges", "aggregates"; a lake
    /// build adds "read and decode" first).
    public var stageSeconds: [(stage: String, seconds: Double)] = []

    public init() {}

    public func seconds(_ stage: String) -> Double? { stageSeconds.first { $0.stage == stage }?.seconds }
}

/// The warehouse tables, in `Warehouse.tables` order, plus the build's report.
public struct WarehouseTables: Sendable {
    public var tables: [(name: String, batch: Batch)]
    public var report: BuildReport

    public func table(_ name: String) -> Batch? { tables.first { $0.name == name }?.batch }
    public var rowCount: Int { tables.reduce(0) { $0 + $1.batch.rowCount } }
}
