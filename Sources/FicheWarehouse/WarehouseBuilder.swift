// The transform from the clinical model to the star schema, column at a time.
//
// Stage 1, key mapping: each dimension's ids get their stable keys (KeyRegistry) and a dense
//   position = rank in key order; encounters are joined to patients and facilities and
//   procedures/diagnoses/reports to encounters through UUID hash maps, giving dense indexes.
// Stage 2, fact and bridges: dates → date keys (SIMD), per-encounter counts (histograms),
//   procedures and diagnoses grouped per encounter (counting sort, then each small run sorted
//   and run-length encoded into bridge rows), ages at the encounter (SIMD).
// Stage 3, aggregates: encounters grouped per patient (counting sort); one pass over the
//   patients fills counting arrays indexed by dense group ids (month, procedure×month,
//   age group×diagnosis), with distinct patients counted by a last-seen-patient array per
//   group; both cores each take half of the patients and their counts are summed.
//
// This file holds the entry point and the order of the stages; each stage lives in its own file:
//   WarehouseBuilder+Dimensions.swift     stage 1: facilities, patients, encounters, diagnosis
//                                         catalog, procedures → keys, positions, dim_ tables
//   WarehouseBuilder+EncounterRows.swift  stage 1: procedures, diagnoses, reports chunk by chunk
//   WarehouseBuilder+Fact.swift           stage 2: fact_encounters and both bridges
//   WarehouseBuilder+Aggregates.swift     stage 3: dim_patient's visit columns and the mv_ tables
//   PatientPass.swift, DimTime.swift      stage 3's per-patient counting pass, and dim_time
//   FactGroups.swift, SIMD8.swift, ColumnGather.swift, ParallelChunks.swift   shared kernels

import Dispatch
import FicheLake
import FicheModel

/// Builds every warehouse table from in-memory clinical batches, assigning keys through
/// (and adding new ones to) `registry`.
public func buildWarehouse(_ input: ClinicalInput, registry: inout KeyRegistry,
                           options: BuildOptions = BuildOptions()) throws -> WarehouseTables {
    var builder = WarehouseBuilder(options: options)
    return try builder.build(input, registry: &registry)
}

/// Dense age-group index: 0 … 4 as `Warehouse.ageGroups`, 5 = unknown.
let unknownAgeGroup = 5
let ageGroupLabels = Warehouse.ageGroups + ["unknown"]

struct WarehouseBuilder {
    let options: BuildOptions
    var report = BuildReport()
    private var clock = DispatchTime.now().uptimeNanoseconds

    init(options: BuildOptions) { self.options = options }

    private mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        report.stageSeconds.append((stage, Double(now - clock) / 1e9))
        clock = now
        traceMemory(stage)
    }

    // MARK: - The build

    mutating func build(_ input: ClinicalInput, registry: inout KeyRegistry) throws -> WarehouseTables {
        try build(facilities: input.facilities, patients: input.patients, encounters: input.encounters,
                  diagnosisCodes: input.diagnosisCodes,
                  procedures: TableChunks(table: ClinicalModel.procedures, batches: [input.procedures]),
                  diagnoses: TableChunks(table: ClinicalModel.diagnoses, batches: [input.diagnoses]),
                  reports: TableChunks(table: ClinicalModel.reports, batches: [input.reports]),
                  registry: &registry)
    }

    /// The build with the per-encounter tables streamed chunk by chunk.
    mutating func build(facilities facilityBatch: Batch, patients patientBatch: Batch, encounters encounterBatch: Batch,
                        diagnosisCodes: Batch, procedures procedureChunks: TableChunks, diagnoses diagnosisChunks: TableChunks,
                        reports reportChunks: TableChunks, registry: inout KeyRegistry) throws -> WarehouseTables {
        clock = DispatchTime.now().uptimeNanoseconds
        for b in [facilityBatch, patientBatch, encounterBatch, diagnosisCodes] {
            report.inputRows += b.rowCount
            report.inputBytes += b.memoryBytes
        }

        // ---- Stage 1: key mapping ----
        let facilities = try mapFacilities(facilityBatch, &registry.facilities)
        let patients = try mapPatients(patientBatch, &registry.patients)
        traceMemory("patients")
        let encounters = try mapEncounters(encounterBatch, &registry.encounters, patients: patients, facilities: facilities)
        traceMemory("encounters")
        let catalog = try mapDiagnosisCodes(diagnosisCodes, &registry.diagnoses)
        let streamed = try mapEncounterRows(procedures: procedureChunks, diagnoses: diagnosisChunks, reports: reportChunks,
                                            encounters: encounters, catalog: catalog)
        traceMemory("procedures, diagnoses, reports")
        let procedures = try mapProcedures(streamed.procedures, &registry.procedures)
        let diagnoses = streamed.diagnoses
        let reportFacts = streamed.reportFacts
        lap("key mapping")

        // ---- Stage 2: fact and bridges ----
        let fact = try buildFact(encounters, patients: patients, facilities: facilities,
                                 procedures: procedures, diagnoses: diagnoses, reportFacts: reportFacts)
        lap("fact and bridges")

        // ---- Stage 3: aggregates (and the dimensions that need them) ----
        let aggregates = try buildAggregates(fact: fact, patients: patients, procedures: procedures, diagnoses: diagnoses)
        lap("aggregates")

        return WarehouseTables(tables: [
            (Warehouse.dimPatient, aggregates.dimPatient),
            (Warehouse.dimFacility, facilities.dim),
            (Warehouse.dimProcedure, procedures.dim),
            (Warehouse.dimDiagnosis, diagnoses.dim),
            (Warehouse.dimTime, aggregates.dimTime),
            (Warehouse.factEncounters, fact.batch),
            (Warehouse.bridgeEncounterProcedure, fact.bridgeProcedure),
            (Warehouse.bridgeEncounterDiagnosis, fact.bridgeDiagnosis),
            (Warehouse.mvMonthlyEncounters, aggregates.monthly),
            (Warehouse.mvDiagnosisByAgeGroup, aggregates.diagnosisByAgeGroup),
            (Warehouse.mvProcedureVolume, aggregates.procedureVolume),
        ], report: report)
    }
}
