-- Fiche warehouse in Spark SQL, step 1: which rows take part, and their stable keys.
-- The definitions are Sources/FicheWarehouse/WarehouseDefinitions.md ("Which rows take part",
-- "Keys"); this file applies them to the src_* and keys_* views the driver (build.py) creates.
--
-- Lake order. Every src_* view carries `_file` (the file's place among the table's Parquet
-- files, in path order) and `_row` (the row's index inside that file, Spark's
-- _metadata.row_index). `fiche export` writes a clinical table's rows in lake order, file
-- after file, so (_file, _row) IS the lake order: explicit, and the same however Spark
-- splits the files into tasks. "The first row wins" is min(struct(_file, _row, ...)) per
-- id: an ordinary aggregate that Spark pre-aggregates per task, so no window has to hold
-- all rows of an id or of a code.

-- Only encounters dated inside the range (--from/--to; everything without them) take part.
CREATE OR REPLACE TEMPORARY VIEW encounters_in_range AS
SELECT * FROM src_encounters
WHERE encounter_date BETWEEN ${from} AND ${to};

-- The first row of each id / code in lake order; later rows with the same id are duplicates.
CREATE OR REPLACE TEMPORARY VIEW first_facilities AS
SELECT facility_id, f._file, f._row, f.source, f.facility_name, f.facility_type, f.district, f.province, f.country
FROM (SELECT facility_id,
             min(struct(_file, _row, source, facility_name, facility_type, district, province, country)) AS f
      FROM src_facilities GROUP BY facility_id);

CREATE OR REPLACE TEMPORARY VIEW first_patients AS
SELECT patient_id, p._file, p._row, p.source, p.source_id, p.sex, p.birth_year, p.birth_date, p.district, p.province
FROM (SELECT patient_id,
             min(struct(_file, _row, source, source_id, sex, birth_year, birth_date, district, province)) AS p
      FROM src_patients GROUP BY patient_id);

CREATE OR REPLACE TEMPORARY VIEW first_encounters AS
SELECT encounter_id, e._file, e._row, e.source, e.patient_id, e.facility_id, e.encounter_date, e.encounter_type
FROM (SELECT encounter_id,
             min(struct(_file, _row, source, patient_id, facility_id, encounter_date, encounter_type)) AS e
      FROM encounters_in_range GROUP BY encounter_id);

-- dim_procedure holds every procedure code seen in procedures, name and modality from the
-- code's first row.
CREATE OR REPLACE TEMPORARY VIEW first_procedure_codes AS
SELECT procedure_code, p.procedure_name, p.modality
FROM (SELECT procedure_code, min(struct(_file, _row, procedure_name, modality)) AS p
      FROM src_procedures GROUP BY procedure_code);

CREATE OR REPLACE TEMPORARY VIEW first_diagnosis_codes AS
SELECT code, d.description, d.category, d.coding_system, d.umls_cui
FROM (SELECT code, min(struct(_file, _row, description, category, coding_system, umls_cui)) AS d
      FROM src_diagnosis_codes GROUP BY code);

-- UUID entities. An id in the registry keeps its key; new ids get max+1, max+2, … in the
-- order of their first row in the lake. The numbering runs file by file: a file's new ids
-- start after the new ids of every earlier file (a running sum over one row per file), and
-- inside a file they follow _row, so no window ever spans a whole table.
CREATE OR REPLACE TEMPORARY VIEW id_first_rows AS
SELECT 'facility' AS entity, facility_id AS id, _file, _row FROM first_facilities
UNION ALL SELECT 'patient', patient_id, _file, _row FROM first_patients
UNION ALL SELECT 'encounter', encounter_id, _file, _row FROM first_encounters;

CREATE OR REPLACE TEMPORARY VIEW id_registry AS
SELECT 'facility' AS entity, facility_id AS id, facility_key AS key FROM keys_facility
UNION ALL SELECT 'patient', patient_id, patient_key FROM keys_patient
UNION ALL SELECT 'encounter', encounter_id, encounter_key FROM keys_encounter;

CREATE OR REPLACE TEMPORARY VIEW id_new AS
SELECT f.entity, f.id, f._file, f._row
FROM id_first_rows f LEFT ANTI JOIN id_registry r ON r.entity = f.entity AND r.id = f.id;

CREATE OR REPLACE TEMPORARY VIEW id_new_file_start AS
SELECT entity, _file,
       coalesce(sum(n) OVER (PARTITION BY entity ORDER BY _file
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS new_before
FROM (SELECT entity, _file, count(*) AS n FROM id_new GROUP BY entity, _file);

CREATE OR REPLACE TEMPORARY VIEW id_max AS
SELECT entity, max(key) AS max_key FROM id_registry GROUP BY entity;

CACHE LAZY TABLE id_keys AS
SELECT entity, id, key FROM id_registry
UNION ALL
SELECT n.entity, n.id,
       coalesce(m.max_key, 0) + s.new_before
         + row_number() OVER (PARTITION BY n.entity, n._file ORDER BY n._row) AS key
FROM id_new n
JOIN id_new_file_start s ON s.entity = n.entity AND s._file = n._file
LEFT JOIN id_max m ON m.entity = n.entity;

-- Codes. A code in the registry keeps its key; new codes get max+1, … in byte order of the
-- code (Spark compares strings by their UTF-8 bytes).
CREATE OR REPLACE TEMPORARY VIEW code_registry AS
SELECT 'procedure' AS entity, procedure_code AS code, procedure_key AS key FROM keys_procedure
UNION ALL SELECT 'diagnosis', diagnosis_code, diagnosis_key FROM keys_diagnosis;

CREATE OR REPLACE TEMPORARY VIEW code_new AS
SELECT c.entity, c.code
FROM (SELECT 'procedure' AS entity, procedure_code AS code FROM first_procedure_codes
      UNION ALL SELECT 'diagnosis', code FROM first_diagnosis_codes) c
LEFT ANTI JOIN code_registry r ON r.entity = c.entity AND r.code = c.code;

CACHE LAZY TABLE code_keys AS
SELECT entity, code, key FROM code_registry
UNION ALL
SELECT n.entity, n.code,
       coalesce(m.max_key, 0) + row_number() OVER (PARTITION BY n.entity ORDER BY n.code) AS key
FROM code_new n
LEFT JOIN (SELECT entity, max(key) AS max_key FROM code_registry GROUP BY entity) m ON m.entity = n.entity;

-- Keyed dimension rows.
CREATE OR REPLACE TEMPORARY VIEW facilities_keyed AS
SELECT CAST(k.key AS INT) AS facility_key, f.*
FROM first_facilities f JOIN id_keys k ON k.entity = 'facility' AND k.id = f.facility_id;

CACHE LAZY TABLE patients_keyed AS
SELECT CAST(k.key AS INT) AS patient_key, p.*
FROM first_patients p JOIN id_keys k ON k.entity = 'patient' AND k.id = p.patient_id;

CREATE OR REPLACE TEMPORARY VIEW procedures_keyed AS
SELECT CAST(k.key AS INT) AS procedure_key, p.*
FROM first_procedure_codes p JOIN code_keys k ON k.entity = 'procedure' AND k.code = p.procedure_code;

-- The diagnosis catalog: diagnosis rows are matched against these codes (not the registry).
CACHE LAZY TABLE diagnoses_keyed AS
SELECT CAST(k.key AS INT) AS diagnosis_key, d.*
FROM first_diagnosis_codes d JOIN code_keys k ON k.entity = 'diagnosis' AND k.code = d.code;
