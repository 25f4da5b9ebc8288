-- Fiche warehouse in Spark SQL, step 4: the three aggregates (WarehouseDefinitions.md,
-- "Tables"), each the SQL over fact and bridges, sorted as `fiche build` sorts them.

CREATE OR REPLACE TEMPORARY VIEW mv_monthly_encounters AS
SELECT CAST(year(encounter_date) AS SMALLINT) AS year,
       CAST(month(encounter_date) AS TINYINT) AS month,
       element_at(array('January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                        'September', 'October', 'November', 'December'), month(encounter_date)) AS month_name,
       count(*) AS total_encounters,
       count(DISTINCT patient_key) AS unique_patients,
       CAST(sum(procedures_) AS BIGINT) AS total_procedures,
       CAST(sum(diagnoses_) AS BIGINT) AS total_diagnoses,
       count_if(has_report) AS encounters_with_report
FROM fact_counts
GROUP BY year(encounter_date), month(encounter_date)
ORDER BY year, month;

-- Age group of dim_patient ('unknown' where it is null); one row per encounter diagnosis.
CREATE OR REPLACE TEMPORARY VIEW mv_diagnosis_by_age_group AS
SELECT coalesce(p.age_group, 'unknown') AS age_group, d.code AS diagnosis_code, d.description AS diagnosis,
       count(*) AS diagnosis_count,
       count(DISTINCT f.patient_key) AS patient_count
FROM bridge_diagnosis_counts b
JOIN fact_base f ON f.encounter_key = b.encounter_key
JOIN dim_patient p ON p.patient_key = f.patient_key
JOIN diagnoses_keyed d ON d.diagnosis_key = b.diagnosis_key
GROUP BY coalesce(p.age_group, 'unknown'), d.code, d.description
ORDER BY CASE age_group WHEN '0-17' THEN 0 WHEN '18-30' THEN 1 WHEN '31-50' THEN 2
                        WHEN '51-70' THEN 3 WHEN '71+' THEN 4 ELSE 5 END,
         diagnosis_code;

CREATE OR REPLACE TEMPORARY VIEW mv_procedure_volume AS
SELECT pr.modality, pr.procedure_code, pr.procedure_name AS procedure,
       CAST(b.date_key DIV 10000 AS SMALLINT) AS year,
       CAST(b.date_key DIV 100 % 100 AS TINYINT) AS month,
       CAST(sum(b.rows_) AS BIGINT) AS procedure_count,
       count(*) AS encounter_count,
       count(DISTINCT f.patient_key) AS patient_count
FROM bridge_procedure_counts b
JOIN fact_base f ON f.encounter_key = b.encounter_key
JOIN procedures_keyed pr ON pr.procedure_key = b.procedure_key
GROUP BY pr.modality, pr.procedure_code, pr.procedure_name, b.date_key DIV 10000, b.date_key DIV 100 % 100
ORDER BY modality, procedure_code, year, month;
