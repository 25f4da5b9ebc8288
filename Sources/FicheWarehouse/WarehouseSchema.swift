// The warehouse's tables: names and columns are our users' contract (their dashboards
// and SQL query these), so they change only by adding columns.

import FicheLake

public enum Warehouse {
    public static let dimPatient = "dim_patient"
    public static let dimFacility = "dim_facility"
    public static let dimProcedure = "dim_procedure"
    public static let dimDiagnosis = "dim_diagnosis"
    public static let dimTime = "dim_time"
    public static let factEncounters = "fact_encounters"
    public static let bridgeEncounterProcedure = "bridge_encounter_procedure"
    public static let bridgeEncounterDiagnosis = "bridge_encounter_diagnosis"
    public static let mvMonthlyEncounters = "mv_monthly_encounters"
    public static let mvDiagnosisByAgeGroup = "mv_diagnosis_by_age_group"
    public static let mvProcedureVolume = "mv_procedure_volume"

    /// Age groups, in order; a patient's group is taken at the build's as-of date.
    public static let ageGroups = ["0-17", "18-30", "31-50", "51-70", "71+"]

    public static let dimPatientSchema = Schema([
        Field("patient_key", .int32, nullable: false),
        Field("patient_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("source_id", .string),
        Field("sex", .string),
        Field("birth_year", .int16),
        Field("birth_date", .date),
        Field("age", .int16),
        Field("age_group", .string),
        Field("district", .string),
        Field("province", .string),
        Field("first_encounter_date", .date),
        Field("last_encounter_date", .date),
        Field("total_encounters", .int32, nullable: false),
    ])

    public static let dimFacilitySchema = Schema([
        Field("facility_key", .int32, nullable: false),
        Field("facility_id", .uuid, nullable: false),
        Field("source", .string, nullable: false),
        Field("facility_name", .string, nullable: false),
        Field("facility_type", .string, nullable: false),
        Field("district", .string),
        Field("province", .string),
        Field("country", .string, nullable: false),
    ])

    public static let dimProcedureSchema = Schema([
        Field("procedure_key", .int32, nullable: false),
        Field("procedure_code", .string, nullable: false),
        Field("procedure_name", .string, nullable: false),
        Field("modality", .string, nullable: false),
    ])

    public static let dimDiagnosisSchema = Schema([
        Field("diagnosis_key", .int32, nullable: false),
        Field("diagnosis_code", .string, nullable: false),
        Field("description", .string, nullable: false),
        Field("category", .string, nullable: false),
        Field("coding_system", .string, nullable: false),
        Field("umls_cui", .string),
    ])

    public static let dimTimeSchema = Schema([
        Field("date_key", .int32, nullable: false),  // YYYYMMDD
        Field("full_date", .date, nullable: false),
        Field("year", .int16, nullable: false),
        Field("quarter", .int8, nullable: false),
        Field("month", .int8, nullable: false),
        Field("month_name", .string, nullable: false),
        Field("week", .int8, nullable: false),  // ISO 8601 week of year
        Field("day", .int8, nullable: false),
        Field("day_of_week", .int8, nullable: false),  // ISO: 1 = Monday … 7 = Sunday
        Field("day_name", .string, nullable: false),
        Field("is_weekend", .bool, nullable: false),
    ])

    public static let factEncountersSchema = Schema([
        Field("encounter_key", .int64, nullable: false),
        Field("encounter_id", .uuid, nullable: false),
        Field("patient_key", .int32, nullable: false),
        Field("facility_key", .int32, nullable: false),
        Field("date_key", .int32, nullable: false),
        Field("encounter_type", .string, nullable: false),
        Field("source", .string, nullable: false),
        Field("age_at_encounter", .int16),
        Field("num_procedures", .int16, nullable: false),
        Field("num_diagnoses", .int16, nullable: false),
        Field("has_report", .bool, nullable: false),
    ])

    /// One row per (encounter, procedure code); `quantity` counts repeats of a code.
    public static let bridgeEncounterProcedureSchema = Schema([
        Field("encounter_key", .int64, nullable: false),
        Field("procedure_key", .int32, nullable: false),
        Field("date_key", .int32, nullable: false),
        Field("quantity", .int16, nullable: false),
    ])

    /// One row per (encounter, diagnosis code); primary if any of its rows was; `quantity`
    /// counts its rows, so the bridge's quantities sum to the fact's `num_diagnoses`.
    public static let bridgeEncounterDiagnosisSchema = Schema([
        Field("encounter_key", .int64, nullable: false),
        Field("diagnosis_key", .int32, nullable: false),
        Field("date_key", .int32, nullable: false),
        Field("is_primary", .bool, nullable: false),
        Field("quantity", .int16, nullable: false),
    ])

    public static let mvMonthlyEncountersSchema = Schema([
        Field("year", .int16, nullable: false),
        Field("month", .int8, nullable: false),
        Field("month_name", .string, nullable: false),
        Field("total_encounters", .int64, nullable: false),
        Field("unique_patients", .int64, nullable: false),
        Field("total_procedures", .int64, nullable: false),
        Field("total_diagnoses", .int64, nullable: false),
        Field("encounters_with_report", .int64, nullable: false),
    ])

    public static let mvDiagnosisByAgeGroupSchema = Schema([
        Field("age_group", .string, nullable: false),  // 'unknown' where the birth year is
        Field("diagnosis_code", .string, nullable: false),
        Field("diagnosis", .string, nullable: false),
        Field("diagnosis_count", .int64, nullable: false),
        Field("patient_count", .int64, nullable: false),
    ])

    public static let mvProcedureVolumeSchema = Schema([
        Field("modality", .string, nullable: false),
        Field("procedure_code", .string, nullable: false),
        Field("procedure", .string, nullable: false),
        Field("year", .int16, nullable: false),
        Field("month", .int8, nullable: false),
        Field("procedure_count", .int64, nullable: false),
        Field("encounter_count", .int64, nullable: false),
        Field("patient_count", .int64, nullable: false),
    ])

    /// Every warehouse table in load order (dimensions first).
    public static let tables: [(name: String, schema: Schema)] = [
        (dimPatient, dimPatientSchema), (dimFacility, dimFacilitySchema),
        (dimProcedure, dimProcedureSchema), (dimDiagnosis, dimDiagnosisSchema), (dimTime, dimTimeSchema),
        (factEncounters, factEncountersSchema),
        (bridgeEncounterProcedure, bridgeEncounterProcedureSchema),
        (bridgeEncounterDiagnosis, bridgeEncounterDiagnosisSchema),
        (mvMonthlyEncounters, mvMonthlyEncountersSchema),
        (mvDiagnosisByAgeGroup, mvDiagnosisByAgeGroupSchema),
        (mvProcedureVolume, mvProcedureVolumeSchema),
    ]
}
