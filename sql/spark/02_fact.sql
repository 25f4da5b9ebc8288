-- Fiche warehouse in Spark SQL, step 2: fact_encounters and the two bridges
-- (WarehouseDefinitions.md, "Orphans", "Dates and ages", "Tables").

-- An encounter enters the fact when its patient and its facility are known (the first row of
-- the encounter id decides). Ages are whole years lived on the encounter date: with a birth
-- date, one less before the birthday (month·32 + day compared, so a 29 February birthday
-- comes on 1 March in common years); with only a birth year, the difference of the years;
-- null without either, or when negative.
CACHE LAZY TABLE fact_base AS
SELECT encounter_key, encounter_id, patient_key, facility_key,
       year(encounter_date) * 10000 + month(encounter_date) * 100 + day(encounter_date) AS date_key,
       encounter_date, encounter_type, source,
       CASE WHEN age BETWEEN 0 AND 32767 THEN CAST(age AS SMALLINT) END AS age_at_encounter
FROM (SELECT CAST(k.key AS BIGINT) AS encounter_key, e.encounter_id, p.patient_key, f.facility_key,
             e.encounter_date, e.encounter_type, e.source,
             CASE WHEN p.birth_date IS NOT NULL THEN
                       year(e.encounter_date) - year(p.birth_date)
                       - CASE WHEN month(e.encounter_date) * 32 + day(e.encounter_date)
                                   < month(p.birth_date) * 32 + day(p.birth_date) THEN 1 ELSE 0 END
                  WHEN p.birth_year IS NOT NULL THEN year(e.encounter_date) - p.birth_year
             END AS age
      FROM first_encounters e
      JOIN id_keys k ON k.entity = 'encounter' AND k.id = e.encounter_id
      JOIN patients_keyed p ON p.patient_id = e.patient_id
      JOIN facilities_keyed f ON f.facility_id = e.facility_id);

-- Procedure rows of fact encounters (rows of any other encounter count in nothing).
CACHE LAZY TABLE bridge_procedure_counts AS
SELECT b.encounter_key, pr.procedure_key, b.date_key, count(*) AS rows_
FROM src_procedures r
JOIN fact_base b ON b.encounter_id = r.encounter_id
JOIN procedures_keyed pr ON pr.procedure_code = r.procedure_code
GROUP BY b.encounter_key, pr.procedure_key, b.date_key;

-- Diagnosis rows of fact encounters whose code is in diagnosis_codes.
CACHE LAZY TABLE bridge_diagnosis_counts AS
SELECT b.encounter_key, d.diagnosis_key, b.date_key, count(*) AS rows_, bool_or(r.is_primary) AS is_primary
FROM src_diagnoses r
JOIN fact_base b ON b.encounter_id = r.encounter_id
JOIN diagnoses_keyed d ON d.code = r.code
GROUP BY b.encounter_key, d.diagnosis_key, b.date_key;

-- Per encounter, unclamped (the aggregates sum these); the fact stores them as smallint.
CACHE LAZY TABLE fact_counts AS
SELECT b.encounter_key, b.patient_key, b.encounter_date, b.date_key,
       coalesce(p.n, 0) AS procedures_, coalesce(d.n, 0) AS diagnoses_, r.encounter_id IS NOT NULL AS has_report
FROM fact_base b
LEFT JOIN (SELECT encounter_key, sum(rows_) AS n FROM bridge_procedure_counts GROUP BY encounter_key) p
       ON p.encounter_key = b.encounter_key
LEFT JOIN (SELECT encounter_key, sum(rows_) AS n FROM bridge_diagnosis_counts GROUP BY encounter_key) d
       ON d.encounter_key = b.encounter_key
LEFT JOIN (SELECT DISTINCT encounter_id FROM src_reports) r ON r.encounter_id = b.encounter_id;

CREATE OR REPLACE TEMPORARY VIEW fact_encounters AS
SELECT b.encounter_key, b.encounter_id, b.patient_key, b.facility_key, b.date_key,
       b.encounter_type, b.source, b.age_at_encounter,
       CAST(least(c.procedures_, 32767) AS SMALLINT) AS num_procedures,
       CAST(least(c.diagnoses_, 32767) AS SMALLINT) AS num_diagnoses,
       c.has_report
FROM fact_base b JOIN fact_counts c ON c.encounter_key = b.encounter_key;

CREATE OR REPLACE TEMPORARY VIEW bridge_encounter_procedure AS
SELECT encounter_key, procedure_key, date_key, CAST(least(rows_, 32767) AS SMALLINT) AS quantity
FROM bridge_procedure_counts;

-- quantity = that code's diagnosis rows in the encounter, so num_diagnoses = sum(quantity).
CREATE OR REPLACE TEMPORARY VIEW bridge_encounter_diagnosis AS
SELECT encounter_key, diagnosis_key, date_key, is_primary, CAST(least(rows_, 32767) AS SMALLINT) AS quantity
FROM bridge_diagnosis_counts;
