-- Fiche analytics in Spark SQL: the questions of sql/analytics_queries.sql (what `fiche report`
-- runs in PostgreSQL), over the warehouse as Parquet: the output of scripts/spark-build, or of
-- `fiche export --warehouse --uuid-as string`. sql/spark/analytics.py registers each table
-- as a view of its own name and runs these; a test compares the answers with PostgreSQL's.
--
-- Differences from the PostgreSQL text, all of spelling, none of meaning:
-- * averages and percentages are taken over DECIMAL (PostgreSQL's numeric), not DOUBLE, so
--   round() rounds the same digits half away from zero;
-- * the fact and bridges carry year/month partition columns when read from a Hive-partitioned
--   export; the views name their columns, so those never leak into USING joins.

-- monthly_encounter_trends: Monthly encounter trends
SELECT t.year, t.month, t.month_name,
       count(*) AS encounters,
       count(DISTINCT f.patient_key) AS patients,
       sum(f.num_procedures) AS procedures,
       count(*) FILTER (WHERE f.has_report) AS with_report
FROM fact_encounters f
JOIN dim_time t USING (date_key)
GROUP BY t.year, t.month, t.month_name
ORDER BY t.year, t.month;

-- top_diagnoses_by_age_group: Top 5 diagnoses by age group
SELECT age_group, diagnosis_code, diagnosis, diagnosis_count, patient_count
FROM (SELECT m.*, rank() OVER (PARTITION BY age_group
                               ORDER BY diagnosis_count DESC, diagnosis_code) AS rank
      FROM mv_diagnosis_by_age_group m) ranked
WHERE rank <= 5
ORDER BY age_group, rank;

-- average_procedures_per_encounter: Average procedures per encounter
SELECT f.source, f.encounter_type,
       count(*) AS encounters,
       round(avg(CAST(f.num_procedures AS DECIMAL(20, 0))), 2) AS avg_procedures,
       round(avg(CAST(f.num_diagnoses AS DECIMAL(20, 0))), 2) AS avg_diagnoses
FROM fact_encounters f
GROUP BY ROLLUP (f.source, f.encounter_type)
ORDER BY f.source NULLS LAST, f.encounter_type NULLS LAST;

-- high_volume_patients: High-volume patients (5 or more visits)
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
LIMIT 50;

-- busiest_facilities_by_month: Busiest 3 facilities of each month
SELECT year, month, facility_name, encounters
FROM (SELECT t.year, t.month, fa.facility_name, count(*) AS encounters,
             rank() OVER (PARTITION BY t.year, t.month
                          ORDER BY count(*) DESC, fa.facility_key) AS rank
      FROM fact_encounters f
      JOIN dim_facility fa USING (facility_key)
      JOIN dim_time t USING (date_key)
      GROUP BY t.year, t.month, fa.facility_key, fa.facility_name) ranked
WHERE rank <= 3
ORDER BY year, month, rank;

-- diagnosis_trends: Top 10 diagnoses of each year
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
ORDER BY year, rank;

-- modality_mix_by_facility: Modality mix by facility
SELECT fa.facility_name, pr.modality,
       sum(b.quantity) AS procedures,
       round(100.0 * sum(b.quantity) / sum(sum(b.quantity)) OVER (PARTITION BY fa.facility_key), 1) AS percent
FROM bridge_encounter_procedure b
JOIN fact_encounters f USING (encounter_key, date_key)
JOIN dim_facility fa USING (facility_key)
JOIN dim_procedure pr USING (procedure_key)
GROUP BY fa.facility_key, fa.facility_name, pr.modality
ORDER BY fa.facility_name, procedures DESC, pr.modality;
