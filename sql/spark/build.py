"""Fiche's star-schema build on Spark: runs sql/spark/NN_*.sql in order over an exported
clinical model and key registry, and writes the eleven warehouse tables as Parquet.

    spark-submit sql/spark/build.py EXPORT_DIR OUT_DIR [--as-of D] [--from D] [--to D]

EXPORT_DIR is what `fiche export --clinical --keys --uuid-as string` wrote: one
folder per table (facilities, patients, encounters, procedures, diagnosis_codes, diagnoses,
reports, and the key registry _keys_patient, _keys_facility, _keys_encounter,
_keys_procedure, _keys_diagnosis). A registry table that is missing reads as empty (a first
build). scripts/spark-build runs this in local mode; sql/spark/README.md shows a cluster.
"""

import argparse
import datetime
import json
import os
import re
import sys
import time

# The clinical columns the build reads (FicheWarehouse's ClinicalInput.columns), with the
# types `fiche export --uuid-as string` gives them; used to type a table that is missing.
CLINICAL = {
    "facilities": "facility_id STRING, source STRING, facility_name STRING, facility_type STRING, "
                  "district STRING, province STRING, country STRING",
    "patients": "patient_id STRING, source STRING, source_id STRING, sex STRING, birth_year SMALLINT, "
                "birth_date DATE, district STRING, province STRING",
    "encounters": "encounter_id STRING, source STRING, patient_id STRING, facility_id STRING, "
                  "encounter_date DATE, encounter_type STRING",
    "procedures": "encounter_id STRING, procedure_code STRING, procedure_name STRING, modality STRING",
    "diagnosis_codes": "code STRING, description STRING, category STRING, coding_system STRING, umls_cui STRING",
    "diagnoses": "encounter_id STRING, code STRING, is_primary BOOLEAN",
    "reports": "encounter_id STRING",
}
REGISTRY = {
    "patient": "patient_id STRING, patient_key BIGINT",
    "facility": "facility_id STRING, facility_key BIGINT",
    "encounter": "encounter_id STRING, encounter_key BIGINT",
    "procedure": "procedure_code STRING, procedure_key BIGINT",
    "diagnosis": "diagnosis_code STRING, diagnosis_key BIGINT",
}
# Written in this order (dimensions first); the fact and the bridges Hive-partitioned by
# month like `fiche export` writes them (year=2015/month=01/).
TABLES = [
    "dim_patient", "dim_facility", "dim_procedure", "dim_diagnosis", "dim_time",
    "fact_encounters", "bridge_encounter_procedure", "bridge_encounter_diagnosis",
    "mv_monthly_encounters", "mv_diagnosis_by_age_group", "mv_procedure_volume",
]
PARTITIONED = {"fact_encounters", "bridge_encounter_procedure", "bridge_encounter_diagnosis"}


class BuildError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="build.py",
        description="Build Fiche's warehouse with Spark SQL from an exported clinical model.")
    p.add_argument("export_dir", help="folder written by `fiche export --clinical --keys --uuid-as string`")
    p.add_argument("out_dir", help="folder (or any Hadoop path) to write the eleven tables into")
    p.add_argument("--keys", metavar="DIR", help="folder holding the _keys_* tables (default: EXPORT_DIR)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="date ages are taken at (default: latest encounter)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="only encounters on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="only encounters on or before")
    p.add_argument("--sql-dir", default=os.path.dirname(os.path.abspath(__file__)),
                   help="folder of the NN_*.sql files (default: beside this script)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    a = p.parse_args(argv)
    for name in ("as_of", "date_from", "date_to"):
        v = getattr(a, name)
        if v is not None:
            try:
                datetime.date.fromisoformat(v)
            except ValueError:
                p.error(f"--{name.replace('date_', '').replace('_', '-')} {v!r} is not a YYYY-MM-DD date")
    return a


def sql_statements(path, params):
    """The statements of one .sql file: `--` comments dropped, split at a `;` ending a line,
    ${name} replaced by its SQL literal."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    body = "\n".join(lines)

    def substitute(m):
        if m.group(1) not in params:
            raise BuildError(f"{os.path.basename(path)}: unknown parameter ${{{m.group(1)}}}")
        return params[m.group(1)]

    body = re.sub(r"\$\{(\w+)\}", substitute, body)
    return [s.strip() for s in re.split(r";\s*\n", body + "\n") if s.strip()]


def date_literal(v, default):
    return f"DATE'{v}'" if v else default


def parquet_files(spark, path):
    """The Parquet files directly inside a folder, in path order (None if the folder is
    absent), listed through Hadoop's FileSystem, so local, HDFS and S3 paths alike."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    folder = jvm.org.apache.hadoop.fs.Path(path)
    fs = folder.getFileSystem(conf)
    if not fs.exists(folder):
        return None
    names = [st.getPath().toString() for st in fs.listStatus(folder) if st.isFile()]
    names = [n for n in names if n.endswith(".parquet") and not n.rsplit("/", 1)[-1].startswith((".", "_"))]
    # part-2 before part-10: digits compare as numbers.
    return sorted(names, key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", n)])


def register_input(spark, view, path, ddl, columns):
    """A view over one exported table with its lake order: `_file` (the file's place among
    the table's files, in path order) and `_row` (the row's index inside that file, Spark's
    _metadata.row_index). An absent table reads as empty."""
    from functools import reduce
    from pyspark.sql import functions as F
    from pyspark.sql.utils import AnalysisException

    files = parquet_files(spark, path)
    if files:
        parts = []
        for ordinal, name in enumerate(files):
            try:
                # Each file by name: Spark would skip a folder whose name starts with `_` (_keys_*).
                df = spark.read.parquet(name)
            except AnalysisException as e:
                if "PARQUET_TYPE_ILLEGAL" in str(e) or "UUID" in str(e):
                    raise BuildError(f"{name}: Spark cannot read Parquet's UUID type; export with "
                                     f"`fiche export … --uuid-as string`") from None
                raise
            missing = [c for c in columns if c not in df.columns]
            if missing:
                raise BuildError(f"{name}: no column {', '.join(missing)} (is this a Fiche export?)")
            parts.append(df.select(*columns, F.lit(ordinal).alias("_file"),
                                   F.col("_metadata.row_index").alias("_row")))
        df = reduce(lambda a, b: a.unionByName(b), parts)
    else:
        df = spark.createDataFrame([], ddl + ", _file INT, _row BIGINT")
    df.createOrReplaceTempView(view)


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    started = time.monotonic()
    spark = SparkSession.builder.appName("fiche-warehouse-build").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # Dates are proleptic Gregorian in Fiche, as in Spark 3+; never rebase them.
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
    spark.conf.set("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")

    keys_dir = args.keys or args.export_dir
    for table, ddl in CLINICAL.items():
        columns = [c.split()[0] for c in ddl.split(", ")]
        register_input(spark, f"src_{table}", f"{args.export_dir.rstrip('/')}/{table}", ddl, columns)
    for entity, ddl in REGISTRY.items():
        columns = [c.split()[0] for c in ddl.split(", ")]
        register_input(spark, f"keys_{entity}", f"{keys_dir.rstrip('/')}/_keys_{entity}", ddl, columns)

    params = {
        "from": date_literal(args.date_from, "DATE'0001-01-01'"),
        "to": date_literal(args.date_to, "DATE'9999-12-31'"),
        "as_of": date_literal(args.as_of, "CAST(NULL AS DATE)"),
    }
    files = sorted(f for f in os.listdir(args.sql_dir) if re.match(r"\d\d_.*\.sql$", f))
    if not files:
        raise BuildError(f"{args.sql_dir}: no NN_*.sql files")
    stages = []
    for name in files:
        t0 = time.monotonic()
        for statement in sql_statements(os.path.join(args.sql_dir, name), params):
            spark.sql(statement)
        stages.append({"file": name, "seconds": round(time.monotonic() - t0, 3)})
        log(f"{name}: {stages[-1]['seconds']:.1f} s")

    from pyspark.sql import functions as F
    out = args.out_dir.rstrip("/")
    written = []
    for table in TABLES:
        t0 = time.monotonic()
        df = spark.table(table)
        if table in PARTITIONED:
            df = (df.withColumn("year", F.expr("lpad(CAST(date_key DIV 10000 AS STRING), 4, '0')"))
                    .withColumn("month", F.expr("lpad(CAST(date_key DIV 100 % 100 AS STRING), 2, '0')")))
            df.write.mode("overwrite").partitionBy("year", "month").parquet(f"{out}/{table}")
        else:
            df.coalesce(1).write.mode("overwrite").parquet(f"{out}/{table}")
        rows = spark.read.parquet(f"{out}/{table}").count()
        written.append({"table": table, "rows": rows, "seconds": round(time.monotonic() - t0, 3)})
        log(f"{table:28s} {rows:>12,} rows  {written[-1]['seconds']:.1f} s")

    summary = {"export_dir": args.export_dir, "out_dir": args.out_dir, "stages": stages, "tables": written,
               "seconds": round(time.monotonic() - started, 3)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"warehouse built by Spark into {args.out_dir}: "
              f"{sum(t['rows'] for t in written):,} rows in {summary['seconds']:.1f} s")
    spark.stop()


def log(message):
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
