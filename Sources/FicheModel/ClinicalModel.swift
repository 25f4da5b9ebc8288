// The clinical model: one lake table per entity of the original operational schema.
// Every source (synthetic clinic, PadChest) lands in these tables, so the transform
// treats every source alike. A target of its own (FicheModel) so that the build and the
// publisher, which only need the tables' names and schemas, do not depend on the sources.

import FicheLake

/// Names and schemas of the clinical lake tables.
public enum ClinicalModel {
    public static let facilities = "facilities"
    public static let patients = "patients"
    public static let encounters = "encounters"
    public static let procedures = "procedures"
    public static let diagnosisCodes = "diagnosis_codes"
    public static let diagnoses = "diagnoses"
    public static let reports = "reports"
    public static let padchest = "padchest"
    public static let quarantine = "quarantine"

    /// The value of every `source` column.
    public enum Source: String, Sendable, CaseIterable {
        case synthetic
        case padchest
    }

    public static let facilitySchema = Schema([
        Field("facility_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),
        Field("facility_name", .string, nullable: false),
        Field("facility_type", .string, nullable: false),  // referral hospital, district hospital, health centre, university hospital
        Field("district", .string),
        Field("province", .string),
        Field("country", .string, nullable: false),
    ])

    public static let patientSchema = Schema([
        Field("patient_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),  // PadChest PatientID
        Field("sex", .string),  // M, F, O; null when unknown
        Field("birth_year", .int16),
        Field("birth_date", .date),  // null where only the year is known
        Field("district", .string),
        Field("province", .string),
    ])

    public static let encounterSchema = Schema([
        Field("encounter_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),  // PadChest StudyID
        Field("patient_id", .uuid, nullable: false),
        Field("facility_id", .uuid, nullable: false),
        Field("encounter_date", .date, nullable: false),
        Field("encounter_type", .string, nullable: false),  // outpatient, inpatient, emergency
    ])

    public static let procedureSchema = Schema([
        Field("procedure_id", .uuid, nullable: false),
        Field("encounter_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),  // PadChest ImageID
        Field("procedure_code", .string, nullable: false),  // CPT
        Field("procedure_name", .string, nullable: false),
        Field("modality", .string, nullable: false),  // XR, CT, MR, US, LAB, CR, DX
        Field("procedure_date", .date, nullable: false),
    ])

    public static let diagnosisCodeSchema = Schema([
        Field("code", .string, nullable: false),
        Field("description", .string, nullable: false),
        Field("category", .string, nullable: false),
        Field("coding_system", .string, nullable: false),  // ICD-10, PADCHEST-FINDING
        Field("umls_cui", .string),
    ])

    public static let diagnosisSchema = Schema([
        Field("diagnosis_id", .uuid, nullable: false),
        Field("encounter_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("code", .string, nullable: false),  // references diagnosis_codes.code
        Field("is_primary", .bool, nullable: false),
        Field("source_label", .string),  // the PadChest label text, where it came from one
        Field("umls_cui", .string),
    ])

    /// Reports keep room for a text embedding: a later `embedding` column is added by
    /// schema evolution, and older chunks read it as null.
    public static let reportSchema = Schema([
        Field("report_id", .uuid, nullable: false),
        Field("encounter_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),  // PadChest ReportID
        Field("report_type", .string, nullable: false),  // radiology, pathology
        Field("report_text", .string, nullable: false),
        Field("language", .string),
    ])

    /// Rows that could not be ingested, with where they came from and why.
    public static let quarantineSchema = Schema([
        Field("source", .string, nullable: false),
        Field("file", .string, nullable: false),
        Field("line", .int64, nullable: false),
        Field("reason", .string, nullable: false),
        Field("raw_text", .string, nullable: false),
        Field("quarantined_at", .timestamp, nullable: false),
    ])

    /// Tables of the clinical model with their schemas (the staging table `padchest`
    /// has its own schema in FicheSources).
    public static let tables: [(name: String, schema: Schema)] = [
        (facilities, facilitySchema), (patients, patientSchema), (encounters, encounterSchema),
        (procedures, procedureSchema), (diagnosisCodes, diagnosisCodeSchema), (diagnoses, diagnosisSchema),
        (reports, reportSchema), (quarantine, quarantineSchema),
    ]
}
