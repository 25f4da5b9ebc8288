// The analytics the warehouse exists for: the original pipeline's four questions and the
// ones a clinical analyst asks next. Unqualified names: run with search_path set to the
// published schema. `sql/analytics_queries.sql` is this list written out (a test compares).

public struct AnalyticsQuery: Sendable {
    /// Short name used by `fiche report --query`.
    public var name: String
    public var title: String
    public var sql: String
    /// Detail rows behind a chart of `fiche report --html` (e.g. every patient's visits per
    /// month): left out of the text report unless asked for with `--query`.
    public var chartDetail = false
}

public enum AnalyticsQueries {
    public static let all: [AnalyticsQuery] = [
        AnalyticsQuery(name: "monthly_encounter_trends", title: "Monthly encounter trends", sql: """
            SELECT t.year, t.month, t.month_name,
                   count(*) AS encounters,
                   count(DISTINCT f.patient_key) AS patients,
                   sum(f.num_procedures) AS procedures,
                   count(*) FILTER (WHERE f.has_report) AS with_report
            FROM fact_encounters f
            JOIN dim_time t USING (date_key)
            GROUP BY t.year, t.month, t.month_name
            ORDER BY t.year, t.month
            """),
        AnalyticsQuery(name: "top_diagnoses_by_age_group", title: "Top 5 diagnoses by age group", sql: """
            SELECT age_group, diagnosis_code, diagnosis, diagnosis_count, patient_count
            FROM (SELECT m.*, rank() OVER (PARTITION BY age_group
                                           ORDER BY diagnosis_count DESC, diagnosis_code) AS rank
                  FROM mv_diagnosis_by_age_group m) ranked
            WHERE rank <= 5
            ORDER BY age_group, rank
            """),
        AnalyticsQuery(name: "average_procedures_per_encounter", title: "Average procedures per encounter", sql: """
            SELECT f.source, f.encounter_type,
                   count(*) AS encounters,
                   round(avg(f.num_procedures), 2) AS avg_procedures,
                   round(avg(f.num_diagnoses), 2) AS avg_diagnoses
            FROM fact_encounters f
            GROUP BY ROLLUP (f.source, f.encounter_type)
            ORDER BY f.source NULLS LAST, f.encounter_type NULLS LAST
            """),
        AnalyticsQuery(name: "high_volume_patients", title: "High-volume patients (5 or more visits)", sql: """
            SELECT p.patient_key, p.source, p.source_id, p.sex, p.age_group,
                   count(*) AS visits,
                   min(t.full_date) AS first_visit, max(t.full_date) AS last_visit,
                   sum(f.num_procedures) AS procedures
            FROM fact_encounters f
            JOIN dim_patient p USING (patient_key)
            JOIN dim_time t USING (date_key)
            GROUP BY p.patient_key, p.source, p.source_id, p.sex, p.age_group
            HAVING count(*) >= 5
            ORDER BY visits DESC, p.patient_key
            LIMIT 50
            """),
        AnalyticsQuery(name: "busiest_facilities_by_month", title: "Busiest 3 facilities of each month", sql: """
            SELECT year, month, facility_name, encounters
            FROM (SELECT t.year, t.month, fa.facility_name, count(*) AS encounters,
                         rank() OVER (PARTITION BY t.year, t.month
                                      ORDER BY count(*) DESC, fa.facility_key) AS rank
                  FROM fact_encounters f
                  JOIN dim_facility fa USING (facility_key)
                  JOIN dim_time t USING (date_key)
                  GROUP BY t.year, t.month, fa.facility_key, fa.facility_name) ranked
            WHERE rank <= 3
            ORDER BY year, month, rank
            """),
        AnalyticsQuery(name: "diagnosis_trends", title: "Top 10 diagnoses of each year", sql: """
            SELECT year, diagnosis_code, description, diagnoses, primary_diagnoses
            FROM (SELECT t.year, d.diagnosis_code, d.description,
                         count(*) AS diagnoses,
                         count(*) FILTER (WHERE b.is_primary) AS primary_diagnoses,
                         rank() OVER (PARTITION BY t.year ORDER BY count(*) DESC, d.diagnosis_code) AS rank
                  FROM bridge_encounter_diagnosis b
                  JOIN dim_diagnosis d USING (diagnosis_key)
                  JOIN dim_time t USING (date_key)
                  GROUP BY t.year, d.diagnosis_key, d.diagnosis_code, d.description) ranked
            WHERE rank <= 10
            ORDER BY year, rank
            """),
        AnalyticsQuery(name: "modality_mix_by_facility", title: "Modality mix by facility", sql: """
            SELECT fa.facility_name, pr.modality,
                   sum(b.quantity) AS procedures,
                   round(100.0 * sum(b.quantity) / sum(sum(b.quantity)) OVER (PARTITION BY fa.facility_key), 1) AS percent
            FROM bridge_encounter_procedure b
            JOIN fact_encounters f USING (encounter_key, date_key)
            JOIN dim_facility fa USING (facility_key)
            JOIN dim_procedure pr USING (procedure_key)
            GROUP BY fa.facility_key, fa.facility_name, pr.modality
            ORDER BY fa.facility_name, procedures DESC, pr.modality
            """),
        AnalyticsQuery(name: "monthly_encounters_by_source", title: "Monthly encounters by source", sql: """
            SELECT f.source, t.year, t.month, count(*) AS encounters
            FROM fact_encounters f
            JOIN dim_time t USING (date_key)
            GROUP BY f.source, t.year, t.month
            ORDER BY f.source, t.year, t.month
            """, chartDetail: true),
        AnalyticsQuery(name: "high_volume_patient_visits", title: "Visits per month of the high-volume patients", sql: """
            SELECT f.patient_key, t.year, t.month, count(*) AS visits
            FROM fact_encounters f
            JOIN dim_time t USING (date_key)
            WHERE f.patient_key IN (SELECT patient_key FROM fact_encounters
                                    GROUP BY patient_key HAVING count(*) >= 5
                                    ORDER BY count(*) DESC, patient_key LIMIT 50)
            GROUP BY f.patient_key, t.year, t.month
            ORDER BY f.patient_key, t.year, t.month
            """, chartDetail: true),
    ]

    /// What `fiche report` prints when no `--query` is given.
    public static var textReport: [AnalyticsQuery] { all.filter { !$0.chartDetail } }

    public static func named(_ name: String) -> AnalyticsQuery? { all.first { $0.name == name } }

    /// All queries as one commented SQL script (what `sql/analytics_queries.sql` holds).
    public static func script() -> String {
        var s = """
        -- Fiche analytics: the questions the warehouse answers (`fiche report` runs these).
        -- Generated by `fiche report --print-sql`; do not edit by hand (a test compares).
        -- Run with the published schema on the search path:  SET search_path = warehouse;


        """
        for q in all { s += "-- \(q.name): \(q.title)\n\(q.sql);\n\n" }
        return s
    }
}
