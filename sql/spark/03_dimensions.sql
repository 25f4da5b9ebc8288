-- Fiche warehouse in Spark SQL, step 3: the dimensions (WarehouseDefinitions.md, "Dates and
-- ages", "Tables"). Every dimension holds every entity, whatever the date range.

-- The as-of date: --as-of, else the latest encounter date of the fact.
CREATE OR REPLACE TEMPORARY VIEW build_as_of AS
SELECT coalesce(${as_of}, (SELECT max(encounter_date) FROM fact_base)) AS as_of;

CREATE OR REPLACE TEMPORARY VIEW dim_patient AS
SELECT patient_key, patient_id, source, source_id, sex, birth_year, birth_date, age,
       CASE WHEN age IS NULL THEN NULL
            WHEN age < 18 THEN '0-17' WHEN age < 31 THEN '18-30' WHEN age < 51 THEN '31-50'
            WHEN age < 71 THEN '51-70' ELSE '71+' END AS age_group,
       district, province, first_encounter_date, last_encounter_date, total_encounters
FROM (SELECT p.patient_key, p.patient_id, p.source, p.source_id, p.sex, p.birth_year, p.birth_date,
             CASE WHEN raw_age BETWEEN 0 AND 32767 THEN CAST(raw_age AS SMALLINT) END AS age,
             p.district, p.province,
             s.first_encounter_date, s.last_encounter_date,
             CAST(coalesce(s.total_encounters, 0) AS INT) AS total_encounters
      FROM (SELECT p.*,
                   CASE WHEN p.birth_date IS NOT NULL THEN
                             year(a.as_of) - year(p.birth_date)
                             - CASE WHEN month(a.as_of) * 32 + day(a.as_of)
                                         < month(p.birth_date) * 32 + day(p.birth_date) THEN 1 ELSE 0 END
                        WHEN p.birth_year IS NOT NULL THEN year(a.as_of) - p.birth_year
                   END AS raw_age
            FROM patients_keyed p CROSS JOIN build_as_of a) p
      LEFT JOIN (SELECT patient_key, min(encounter_date) AS first_encounter_date,
                        max(encounter_date) AS last_encounter_date, count(*) AS total_encounters
                 FROM fact_base GROUP BY patient_key) s ON s.patient_key = p.patient_key)
ORDER BY patient_key;

CREATE OR REPLACE TEMPORARY VIEW dim_facility AS
SELECT facility_key, facility_id, source, facility_name, facility_type, district, province, country
FROM facilities_keyed ORDER BY facility_key;

CREATE OR REPLACE TEMPORARY VIEW dim_procedure AS
SELECT procedure_key, procedure_code, procedure_name, modality
FROM procedures_keyed ORDER BY procedure_key;

CREATE OR REPLACE TEMPORARY VIEW dim_diagnosis AS
SELECT diagnosis_key, code AS diagnosis_code, description, category, coding_system, umls_cui
FROM diagnoses_keyed ORDER BY diagnosis_key;

-- Every day of every calendar year with at least one fact row. `week` is the ISO 8601 week
-- (Spark's weekofyear), `day_of_week` ISO (weekday() is 0 for Monday).
CREATE OR REPLACE TEMPORARY VIEW dim_time AS
SELECT year(d) * 10000 + month(d) * 100 + day(d) AS date_key,
       d AS full_date,
       CAST(year(d) AS SMALLINT) AS year,
       CAST(quarter(d) AS TINYINT) AS quarter,
       CAST(month(d) AS TINYINT) AS month,
       element_at(array('January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                        'September', 'October', 'November', 'December'), month(d)) AS month_name,
       CAST(weekofyear(d) AS TINYINT) AS week,
       CAST(day(d) AS TINYINT) AS day,
       CAST(weekday(d) + 1 AS TINYINT) AS day_of_week,
       element_at(array('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'),
                  weekday(d) + 1) AS day_name,
       weekday(d) >= 5 AS is_weekend
FROM (SELECT explode(sequence(make_date(y, 1, 1), make_date(y, 12, 31), INTERVAL 1 DAY)) AS d
      FROM (SELECT DISTINCT year(encounter_date) AS y FROM fact_base))
ORDER BY date_key;
