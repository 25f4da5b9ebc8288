"""Builds the Fiche warehouse tables with a general-purpose engine, for scripts/bench-peers.

    python scripts/bench_peers.py --engine ENGINE --data DIR [--runs K]
    python scripts/bench_peers.py --to-parquet --data DIR      # CSV → Parquet, once

ENGINE is one of
  duckdb         DuckDB, the seven inputs as views over the Parquet files (its fastest way here:
                 the scans are planned into the joins, nothing is copied first)
  duckdb-tables  DuckDB, the inputs first staged into in-memory tables (CREATE TABLE AS), then
                 the same SQL; kept so the claim above can be checked, not run by default
  polars         Polars DataFrames, eager
  pandas         pandas DataFrames

DIR holds one Parquet file per clinical table (the columns `fiche build` reads, written
from `fiche bench --export-csv`). Each run reads the Parquet files and builds every
warehouse table in memory: the four dimensions and dim_time, fact_encounters, both bridges
and the three mv_* aggregates, with the same definitions as Fiche (keys in file order for
UUID entities and in code order for codes, ages as of the latest encounter). Prints one JSON
object: the seconds of each of the K runs (no warm-up here: scripts/bench-peers runs a
discarded warm-up round of every engine first and starts a fresh process per run), the
process's peak RSS, and the row count of every table.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

TABLES = ["facilities", "patients", "encounters", "procedures", "diagnosis_codes", "diagnoses", "reports"]
OUTPUT = ["dim_patient", "dim_facility", "dim_procedure", "dim_diagnosis", "dim_time", "fact_encounters",
          "bridge_encounter_procedure", "bridge_encounter_diagnosis", "mv_monthly_encounters",
          "mv_diagnosis_by_age_group", "mv_procedure_volume"]


def to_parquet(data):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    types = {"birth_year": pa.int16(), "birth_date": pa.date32(), "encounter_date": pa.date32(), "is_primary": pa.bool_()}
    for t in TABLES:
        src, dst = os.path.join(data, t + ".csv"), os.path.join(data, t + ".parquet")
        if os.path.exists(dst):
            continue
        header = open(src).readline().strip().split(",")
        opts = pcsv.ConvertOptions(column_types={c: types.get(c, pa.string()) for c in header},
                                   strings_can_be_null=True)
        table = pcsv.read_csv(src, convert_options=opts)
        for i, name in enumerate(table.column_names):
            if name in UUID_COLUMNS:
                table = table.set_column(i, name, uuid_column(table.column(name)))
        pq.write_table(table, dst)


UUID_COLUMNS = {"facility_id", "patient_id", "encounter_id"}


def uuid_column(chunked):
    """Canonical UUID text → Parquet's UUID type (16 bytes), vectorised with numpy."""
    import numpy as np
    import pyarrow as pa
    lut = np.zeros(256, dtype=np.uint8)
    for k, c in enumerate(b"0123456789abcdef"):
        lut[c] = k
    for k, c in enumerate(b"ABCDEF"):
        lut[c] = 10 + k
    keep = [i for i in range(36) if i not in (8, 13, 18, 23)]
    chunks = []
    for arr in chunked.chunks:
        n = len(arr)
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
        assert arr.null_count == 0 and len(data) == 36 * n, "ids must be canonical UUID text"
        nib = lut[data.reshape(n, 36)[:, keep]]
        raw = (nib[:, 0::2] << 4 | nib[:, 1::2]).astype(np.uint8).tobytes()
        storage = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(raw)])
        chunks.append(pa.ExtensionArray.from_storage(pa.uuid(), storage))
    return pa.chunked_array(chunks, type=pa.uuid())


# The inputs: views over the Parquet files (engine duckdb) or staged tables (duckdb-tables).
DUCKDB_INPUTS = "".join(f"CREATE {{kind}} {t} AS SELECT * FROM read_parquet('{{d}}/{t}.parquet');\n" for t in TABLES)

DUCKDB_SQL = """
CREATE TABLE as_of AS SELECT max(encounter_date) AS d FROM encounters;

CREATE TABLE dim_facility AS
SELECT (row_number() OVER ())::INTEGER AS facility_key, facility_id, source, facility_name,
       facility_type, district, province, country FROM facilities;

CREATE TABLE dim_patient AS
WITH k AS (SELECT row_number() OVER () AS patient_key, * FROM patients),
s AS (SELECT patient_id, min(encounter_date) AS f, max(encounter_date) AS l, count(*) AS n FROM encounters GROUP BY patient_id),
a AS (SELECT k.*, CASE WHEN birth_date IS NOT NULL THEN year(as_of.d) - year(birth_date)
                          - CASE WHEN month(as_of.d) * 32 + day(as_of.d) < month(birth_date) * 32 + day(birth_date) THEN 1 ELSE 0 END
                       WHEN birth_year IS NOT NULL THEN year(as_of.d) - birth_year END AS age FROM k, as_of)
SELECT patient_key::INTEGER AS patient_key, a.patient_id AS patient_id, source, source_id, sex, birth_year, birth_date,
       (CASE WHEN age >= 0 THEN age END)::SMALLINT AS age,
       CASE WHEN age IS NULL OR age < 0 THEN NULL WHEN age < 18 THEN '0-17' WHEN age <= 30 THEN '18-30'
            WHEN age <= 50 THEN '31-50' WHEN age <= 70 THEN '51-70' ELSE '71+' END AS age_group,
       district, province, s.f AS first_encounter_date, s.l AS last_encounter_date,
       coalesce(s.n, 0)::INTEGER AS total_encounters
FROM a LEFT JOIN s USING (patient_id) ORDER BY patient_key;

CREATE TABLE dim_procedure AS
SELECT (row_number() OVER (ORDER BY procedure_code))::INTEGER AS procedure_key, * FROM
  (SELECT procedure_code, first(procedure_name) AS procedure_name, first(modality) AS modality FROM procedures GROUP BY procedure_code)
ORDER BY procedure_key;

CREATE TABLE dim_diagnosis AS
SELECT (row_number() OVER (ORDER BY code))::INTEGER AS diagnosis_key, code AS diagnosis_code, description, category,
       coding_system, umls_cui FROM diagnosis_codes ORDER BY diagnosis_key;

CREATE TABLE dim_time AS
WITH y AS (SELECT DISTINCT year(encounter_date) AS y FROM encounters),
d AS (SELECT unnest(generate_series(make_date(y, 1, 1)::TIMESTAMP, make_date(y, 12, 31)::TIMESTAMP, INTERVAL 1 DAY))::DATE AS full_date FROM y)
SELECT (year(full_date) * 10000 + month(full_date) * 100 + day(full_date))::INTEGER AS date_key, full_date,
       year(full_date)::SMALLINT AS year, quarter(full_date)::TINYINT AS quarter, month(full_date)::TINYINT AS month,
       monthname(full_date) AS month_name, weekofyear(full_date)::TINYINT AS week, day(full_date)::TINYINT AS day,
       isodow(full_date)::TINYINT AS day_of_week, dayname(full_date) AS day_name, isodow(full_date) >= 6 AS is_weekend
FROM d ORDER BY date_key;

CREATE TABLE encounter_keys AS SELECT encounter_id, row_number() OVER () AS encounter_key FROM encounters;

CREATE TABLE fact_encounters AS
SELECT encounter_key, encounter_id, patient_key, facility_key, date_key, encounter_type, source,
       (CASE WHEN age_raw >= 0 THEN age_raw END)::SMALLINT AS age_at_encounter, num_procedures, num_diagnoses, has_report FROM (
  SELECT k.encounter_key::BIGINT AS encounter_key, e.encounter_id AS encounter_id, p.patient_key, f.facility_key,
         (year(e.encounter_date) * 10000 + month(e.encounter_date) * 100 + day(e.encounter_date))::INTEGER AS date_key,
         e.encounter_type, e.source,
         CASE WHEN p.birth_date IS NOT NULL THEN year(e.encounter_date) - year(p.birth_date)
                - CASE WHEN month(e.encounter_date) * 32 + day(e.encounter_date) < month(p.birth_date) * 32 + day(p.birth_date) THEN 1 ELSE 0 END
              WHEN p.birth_year IS NOT NULL THEN year(e.encounter_date) - p.birth_year END AS age_raw,
         coalesce(pc.n, 0)::SMALLINT AS num_procedures, coalesce(dc.n, 0)::SMALLINT AS num_diagnoses,
         r.encounter_id IS NOT NULL AS has_report
  FROM encounters e JOIN encounter_keys k USING (encounter_id)
  JOIN dim_patient p ON p.patient_id = e.patient_id
  JOIN dim_facility f ON f.facility_id = e.facility_id
  LEFT JOIN (SELECT encounter_id, count(*) AS n FROM procedures GROUP BY 1) pc USING (encounter_id)
  LEFT JOIN (SELECT encounter_id, count(*) AS n FROM diagnoses GROUP BY 1) dc USING (encounter_id)
  LEFT JOIN (SELECT DISTINCT encounter_id FROM reports) r USING (encounter_id))
ORDER BY encounter_key;

CREATE TABLE bridge_encounter_procedure AS
SELECT f.encounter_key, dp.procedure_key, f.date_key, count(*)::SMALLINT AS quantity
FROM procedures p JOIN fact_encounters f ON f.encounter_id = p.encounter_id JOIN dim_procedure dp USING (procedure_code)
GROUP BY ALL ORDER BY 1, 2;

CREATE TABLE bridge_encounter_diagnosis AS
SELECT f.encounter_key, dd.diagnosis_key, f.date_key, bool_or(d.is_primary) AS is_primary
FROM diagnoses d JOIN fact_encounters f ON f.encounter_id = d.encounter_id JOIN dim_diagnosis dd ON d.code = dd.diagnosis_code
GROUP BY ALL ORDER BY 1, 2;

CREATE TABLE mv_monthly_encounters AS
SELECT (date_key // 10000)::SMALLINT AS year, (date_key // 100 % 100)::TINYINT AS month,
       monthname(make_date(date_key // 10000, date_key // 100 % 100, 1)) AS month_name,
       count(*) AS total_encounters, count(DISTINCT patient_key) AS unique_patients,
       sum(num_procedures) AS total_procedures, sum(num_diagnoses) AS total_diagnoses,
       count(*) FILTER (WHERE has_report) AS encounters_with_report
FROM fact_encounters GROUP BY ALL ORDER BY 1, 2;

CREATE TABLE mv_diagnosis_by_age_group AS
SELECT coalesce(p.age_group, 'unknown') AS age_group, dd.diagnosis_code, dd.description AS diagnosis,
       count(*) AS diagnosis_count, count(DISTINCT f.patient_key) AS patient_count
FROM bridge_encounter_diagnosis b JOIN fact_encounters f USING (encounter_key)
JOIN dim_patient p USING (patient_key) JOIN dim_diagnosis dd USING (diagnosis_key)
GROUP BY ALL ORDER BY 1, 2;

CREATE TABLE mv_procedure_volume AS
SELECT dp.modality, dp.procedure_code, dp.procedure_name AS procedure, (b.date_key // 10000)::SMALLINT AS year,
       (b.date_key // 100 % 100)::TINYINT AS month, sum(b.quantity) AS procedure_count, count(*) AS encounter_count,
       count(DISTINCT f.patient_key) AS patient_count
FROM bridge_encounter_procedure b JOIN fact_encounters f USING (encounter_key) JOIN dim_procedure dp USING (procedure_key)
GROUP BY ALL ORDER BY 1, 2, 4, 5;
"""


def run_duckdb(data, threads, kind="VIEW"):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    # Keys are numbered in file order (row_number() OVER ()), as Fiche numbers them.
    con.execute("SET preserve_insertion_order = true")
    con.execute(DUCKDB_INPUTS.format(kind=kind, d=data))
    con.execute(DUCKDB_SQL)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in OUTPUT}
    con.close()
    return counts


def age_group_expr(pl, age):
    return (pl.when(age.is_null() | (age < 0)).then(None).when(age < 18).then(pl.lit("0-17"))
            .when(age <= 30).then(pl.lit("18-30")).when(age <= 50).then(pl.lit("31-50"))
            .when(age <= 70).then(pl.lit("51-70")).otherwise(pl.lit("71+")))


def run_polars(data, threads):
    import polars as pl
    r = {t: pl.read_parquet(os.path.join(data, t + ".parquet")) for t in TABLES}
    enc = r["encounters"]
    asof = enc["encounter_date"].max()

    def years_and_md(col):
        return col.dt.year(), col.dt.month().cast(pl.Int32) * 32 + col.dt.day().cast(pl.Int32)

    dim_facility = r["facilities"].with_row_index("facility_key", offset=1)
    stats = enc.group_by("patient_id").agg(pl.col("encounter_date").min().alias("first_encounter_date"),
                                           pl.col("encounter_date").max().alias("last_encounter_date"),
                                           pl.len().alias("total_encounters"))
    by, bmd = years_and_md(pl.col("birth_date"))
    asof_md = asof.month * 32 + asof.day
    age = (pl.when(pl.col("birth_date").is_not_null())
           .then(pl.lit(asof.year) - by - (pl.lit(asof_md) < bmd).cast(pl.Int32))
           .otherwise(pl.lit(asof.year) - pl.col("birth_year").cast(pl.Int32)))
    dim_patient = (r["patients"].with_row_index("patient_key", offset=1)
                   .with_columns(age.alias("age_raw"))
                   .with_columns(pl.when(pl.col("age_raw") >= 0).then(pl.col("age_raw")).alias("age"),
                                 age_group_expr(pl, pl.col("age_raw")).alias("age_group"))
                   .join(stats, on="patient_id", how="left")
                   .with_columns(pl.col("total_encounters").fill_null(0))
                   .drop("age_raw").sort("patient_key"))
    proc = r["procedures"]
    dim_procedure = (proc.group_by("procedure_code").agg(pl.col("procedure_name").first(), pl.col("modality").first())
                     .sort("procedure_code").with_row_index("procedure_key", offset=1))
    dim_diagnosis = r["diagnosis_codes"].sort("code").rename({"code": "diagnosis_code"}).with_row_index("diagnosis_key", offset=1)
    years = enc.select(pl.col("encounter_date").dt.year().unique()).to_series().to_list()
    days = pl.concat([pl.DataFrame({"full_date": pl.date_range(pl.date(y, 1, 1), pl.date(y, 12, 31), "1d", eager=True)}) for y in years]) \
        if years else pl.DataFrame({"full_date": pl.Series([], dtype=pl.Date)})
    fd = pl.col("full_date")
    dim_time = days.with_columns(
        (fd.dt.year() * 10000 + fd.dt.month().cast(pl.Int32) * 100 + fd.dt.day().cast(pl.Int32)).alias("date_key"),
        fd.dt.year().alias("year"), fd.dt.quarter().alias("quarter"), fd.dt.month().alias("month"),
        fd.dt.strftime("%B").alias("month_name"), fd.dt.week().alias("week"), fd.dt.day().alias("day"),
        fd.dt.weekday().alias("day_of_week"), fd.dt.strftime("%A").alias("day_name"),
        (fd.dt.weekday() >= 6).alias("is_weekend")).sort("date_key")

    pc = proc.group_by("encounter_id").agg(pl.len().alias("num_procedures"))
    dc = r["diagnoses"].group_by("encounter_id").agg(pl.len().alias("num_diagnoses"))
    rep = r["reports"].unique("encounter_id").with_columns(pl.lit(True).alias("has_report"))
    ed = pl.col("encounter_date")
    ey, emd = years_and_md(ed)
    pby, pbmd = years_and_md(pl.col("birth_date"))
    fact = (enc.with_row_index("encounter_key", offset=1)
            .join(dim_patient.select("patient_id", "patient_key", "birth_year", "birth_date"), on="patient_id")
            .join(dim_facility.select("facility_id", "facility_key"), on="facility_id")
            .join(pc, on="encounter_id", how="left").join(dc, on="encounter_id", how="left")
            .join(rep.select("encounter_id", "has_report"), on="encounter_id", how="left")
            .with_columns((ey * 10000 + ed.dt.month().cast(pl.Int32) * 100 + ed.dt.day().cast(pl.Int32)).alias("date_key"),
                          pl.when(pl.col("birth_date").is_not_null()).then(ey - pby - (emd < pbmd).cast(pl.Int32))
                          .otherwise(ey - pl.col("birth_year").cast(pl.Int32)).alias("age_raw"),
                          pl.col("num_procedures").fill_null(0), pl.col("num_diagnoses").fill_null(0),
                          pl.col("has_report").fill_null(False))
            .with_columns(pl.when(pl.col("age_raw") >= 0).then(pl.col("age_raw")).alias("age_at_encounter"))
            .select("encounter_key", "encounter_id", "patient_key", "facility_key", "date_key", "encounter_type", "source",
                    "age_at_encounter", "num_procedures", "num_diagnoses", "has_report", "patient_id")
            .sort("encounter_key"))
    fk = fact.select("encounter_id", "encounter_key", "date_key", "patient_key")
    bridge_p = (proc.join(fk, on="encounter_id").join(dim_procedure.select("procedure_code", "procedure_key"), on="procedure_code")
                .group_by("encounter_key", "procedure_key", "date_key").agg(pl.len().alias("quantity"))
                .sort("encounter_key", "procedure_key"))
    bridge_d = (r["diagnoses"].join(fk, on="encounter_id")
                .join(dim_diagnosis.select("diagnosis_code", "diagnosis_key"), left_on="code", right_on="diagnosis_code")
                .group_by("encounter_key", "diagnosis_key", "date_key").agg(pl.col("is_primary").any())
                .sort("encounter_key", "diagnosis_key"))
    mv_monthly = (fact.with_columns((pl.col("date_key") // 10000).alias("year"), (pl.col("date_key") // 100 % 100).alias("month"))
                  .group_by("year", "month").agg(pl.len().alias("total_encounters"), pl.col("patient_key").n_unique().alias("unique_patients"),
                                                 pl.col("num_procedures").sum().alias("total_procedures"),
                                                 pl.col("num_diagnoses").sum().alias("total_diagnoses"),
                                                 pl.col("has_report").sum().alias("encounters_with_report"))
                  .sort("year", "month"))
    fpk = fact.select("encounter_key", "patient_key")
    mv_diag = (bridge_d.join(fpk, on="encounter_key").join(dim_patient.select("patient_key", "age_group"), on="patient_key")
               .join(dim_diagnosis.select("diagnosis_key", "diagnosis_code", "description"), on="diagnosis_key")
               .with_columns(pl.col("age_group").fill_null("unknown"))
               .group_by("age_group", "diagnosis_code", "description")
               .agg(pl.len().alias("diagnosis_count"), pl.col("patient_key").n_unique().alias("patient_count"))
               .sort("age_group", "diagnosis_code"))
    mv_proc = (bridge_p.join(fpk, on="encounter_key").join(dim_procedure, on="procedure_key")
               .with_columns((pl.col("date_key") // 10000).alias("year"), (pl.col("date_key") // 100 % 100).alias("month"))
               .group_by("modality", "procedure_code", "procedure_name", "year", "month")
               .agg(pl.col("quantity").sum().alias("procedure_count"), pl.len().alias("encounter_count"),
                    pl.col("patient_key").n_unique().alias("patient_count"))
               .sort("modality", "procedure_code", "year", "month"))
    out = dict(dim_patient=dim_patient, dim_facility=dim_facility, dim_procedure=dim_procedure, dim_diagnosis=dim_diagnosis,
               dim_time=dim_time, fact_encounters=fact, bridge_encounter_procedure=bridge_p,
               bridge_encounter_diagnosis=bridge_d, mv_monthly_encounters=mv_monthly,
               mv_diagnosis_by_age_group=mv_diag, mv_procedure_volume=mv_proc)
    return {t: out[t].height for t in OUTPUT}


def run_pandas(data, threads):
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    def read(t):  # UUIDs as 16-byte values (bytes objects), not Python uuid.UUID objects
        tbl = pq.read_table(os.path.join(data, t + ".parquet"))
        for i, f in enumerate(tbl.schema):
            if f.name in UUID_COLUMNS:
                tbl = tbl.set_column(i, f.name, pa.chunked_array([c.storage for c in tbl.column(i).chunks], type=pa.binary(16)))
        return tbl.to_pandas()
    import pyarrow as pa
    r = {t: read(t) for t in TABLES}
    enc = r["encounters"]
    enc["encounter_date"] = pd.to_datetime(enc["encounter_date"])
    asof = enc["encounter_date"].max()

    def age_at(ref_year, ref_md, birth_date, birth_year):
        bd = pd.to_datetime(birth_date)
        by = bd.dt.year
        bmd = bd.dt.month * 32 + bd.dt.day
        a = np.where(bd.notna(), ref_year - by - (ref_md < bmd).astype(int), ref_year - birth_year.astype("float"))
        return pd.Series(a, index=birth_date.index).where(lambda s: s >= 0)

    def age_group(a):
        g = pd.cut(a, bins=[-1, 17, 30, 50, 70, 10_000], labels=["0-17", "18-30", "31-50", "51-70", "71+"])
        return g.astype("object")

    dim_facility = r["facilities"].copy()
    dim_facility.insert(0, "facility_key", np.arange(1, len(dim_facility) + 1))
    stats = enc.groupby("patient_id").agg(first_encounter_date=("encounter_date", "min"),
                                          last_encounter_date=("encounter_date", "max"),
                                          total_encounters=("encounter_date", "size")).reset_index()
    pat = r["patients"].copy()
    pat.insert(0, "patient_key", np.arange(1, len(pat) + 1))
    pat["age"] = age_at(asof.year, asof.month * 32 + asof.day, pat["birth_date"], pat["birth_year"])
    pat["age_group"] = age_group(pat["age"])
    dim_patient = pat.merge(stats, on="patient_id", how="left")
    dim_patient["total_encounters"] = dim_patient["total_encounters"].fillna(0).astype(int)
    proc = r["procedures"]
    dim_procedure = proc.groupby("procedure_code", sort=True).agg(procedure_name=("procedure_name", "first"),
                                                                  modality=("modality", "first")).reset_index()
    dim_procedure.insert(0, "procedure_key", np.arange(1, len(dim_procedure) + 1))
    dim_diagnosis = r["diagnosis_codes"].sort_values("code").rename(columns={"code": "diagnosis_code"}).reset_index(drop=True)
    dim_diagnosis.insert(0, "diagnosis_key", np.arange(1, len(dim_diagnosis) + 1))
    years = sorted(enc["encounter_date"].dt.year.unique())
    days = pd.DatetimeIndex(np.concatenate([pd.date_range(f"{y}-01-01", f"{y}-12-31").values for y in years])) if years else pd.DatetimeIndex([])
    iso = days.isocalendar()
    dim_time = pd.DataFrame({"date_key": days.year * 10000 + days.month * 100 + days.day, "full_date": days, "year": days.year,
                             "quarter": days.quarter, "month": days.month, "month_name": days.month_name(),
                             "week": iso["week"].values, "day": days.day, "day_of_week": iso["day"].values,
                             "day_name": days.day_name(), "is_weekend": iso["day"].values >= 6})

    pc = proc.groupby("encounter_id").size().rename("num_procedures")
    dc = r["diagnoses"].groupby("encounter_id").size().rename("num_diagnoses")
    rep = pd.Series(True, index=pd.Index(r["reports"]["encounter_id"].unique(), name="encounter_id"), name="has_report")
    fact = enc.copy()
    fact.insert(0, "encounter_key", np.arange(1, len(fact) + 1))
    fact = fact.merge(dim_patient[["patient_id", "patient_key", "birth_year", "birth_date"]], on="patient_id") \
               .merge(dim_facility[["facility_id", "facility_key"]], on="facility_id")
    fact = fact.join(pc, on="encounter_id").join(dc, on="encounter_id").join(rep, on="encounter_id")
    ed = fact["encounter_date"]
    fact["date_key"] = ed.dt.year * 10000 + ed.dt.month * 100 + ed.dt.day
    fact["age_at_encounter"] = age_at(ed.dt.year, ed.dt.month * 32 + ed.dt.day, fact["birth_date"], fact["birth_year"])
    fact["num_procedures"] = fact["num_procedures"].fillna(0).astype(int)
    fact["num_diagnoses"] = fact["num_diagnoses"].fillna(0).astype(int)
    fact["has_report"] = fact["has_report"].fillna(False).astype(bool)
    fact = fact.sort_values("encounter_key")
    fk = fact[["encounter_id", "encounter_key", "date_key", "patient_key"]]
    bridge_p = (proc.merge(fk, on="encounter_id").merge(dim_procedure[["procedure_code", "procedure_key"]], on="procedure_code")
                .groupby(["encounter_key", "procedure_key", "date_key"]).size().rename("quantity").reset_index())
    bridge_d = (r["diagnoses"].merge(fk, on="encounter_id")
                .merge(dim_diagnosis[["diagnosis_code", "diagnosis_key"]], left_on="code", right_on="diagnosis_code")
                .groupby(["encounter_key", "diagnosis_key", "date_key"])["is_primary"].any().reset_index())
    fm = fact.assign(year=fact["date_key"] // 10000, month=fact["date_key"] // 100 % 100)
    mv_monthly = fm.groupby(["year", "month"]).agg(total_encounters=("encounter_key", "size"), unique_patients=("patient_key", "nunique"),
                                                  total_procedures=("num_procedures", "sum"), total_diagnoses=("num_diagnoses", "sum"),
                                                  encounters_with_report=("has_report", "sum")).reset_index()
    fpk = fact[["encounter_key", "patient_key"]]
    md = (bridge_d.merge(fpk, on="encounter_key").merge(dim_patient[["patient_key", "age_group"]], on="patient_key")
          .merge(dim_diagnosis[["diagnosis_key", "diagnosis_code", "description"]], on="diagnosis_key"))
    md["age_group"] = md["age_group"].fillna("unknown")
    mv_diag = md.groupby(["age_group", "diagnosis_code", "description"]).agg(diagnosis_count=("encounter_key", "size"),
                                                                            patient_count=("patient_key", "nunique")).reset_index()
    mp = bridge_p.merge(fpk, on="encounter_key").merge(dim_procedure, on="procedure_key")
    mp = mp.assign(year=mp["date_key"] // 10000, month=mp["date_key"] // 100 % 100)
    mv_proc = mp.groupby(["modality", "procedure_code", "procedure_name", "year", "month"]).agg(
        procedure_count=("quantity", "sum"), encounter_count=("encounter_key", "size"),
        patient_count=("patient_key", "nunique")).reset_index()
    out = dict(dim_patient=dim_patient, dim_facility=dim_facility, dim_procedure=dim_procedure, dim_diagnosis=dim_diagnosis,
               dim_time=dim_time, fact_encounters=fact, bridge_encounter_procedure=bridge_p,
               bridge_encounter_diagnosis=bridge_d, mv_monthly_encounters=mv_monthly,
               mv_diagnosis_by_age_group=mv_diag, mv_procedure_volume=mv_proc)
    return {t: len(out[t]) for t in OUTPUT}


ENGINES = {"duckdb": run_duckdb, "duckdb-tables": lambda d, t: run_duckdb(d, t, kind="TABLE"),
           "polars": run_polars, "pandas": run_pandas}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=list(ENGINES))
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--to-parquet", action="store_true")
    a = ap.parse_args()
    if a.to_parquet:
        to_parquet(a.data)
        return
    if not a.engine:
        ap.error("--engine is required")
    os.environ.setdefault("POLARS_MAX_THREADS", str(a.threads))
    fn = ENGINES[a.engine]
    times, counts = [], {}
    for _ in range(a.runs):
        t0 = time.perf_counter()
        counts = fn(a.data, a.threads)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    json.dump({"engine": a.engine, "seconds": times, "median_seconds": statistics.median(times), "runs": a.runs,
               "peak_rss_bytes": peak, "tables": counts}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
