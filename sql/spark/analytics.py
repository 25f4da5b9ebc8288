"""Runs sql/spark/analytics_queries.sql (Fiche's analytics questions in Spark SQL) over a
warehouse stored as Parquet and prints the answers.

    spark-submit sql/spark/analytics.py WAREHOUSE_DIR [--query NAME …] [--format table|json]

WAREHOUSE_DIR holds one folder per warehouse table, as scripts/spark-build or
`fiche export --warehouse --uuid-as string` writes it. --format json prints what
`fiche report --format json` prints for the same questions in PostgreSQL: a list of
{query, columns, rows}, every value as PostgreSQL's text (or null).
"""

import argparse
import datetime
import decimal
import json
import os
import re
import sys

TABLES = [
    "dim_patient", "dim_facility", "dim_procedure", "dim_diagnosis", "dim_time",
    "fact_encounters", "bridge_encounter_procedure", "bridge_encounter_diagnosis",
    "mv_monthly_encounters", "mv_diagnosis_by_age_group", "mv_procedure_volume",
]
# Written Hive-partitioned: their year=/month= folders are not columns of the table.
PARTITIONED = {"fact_encounters", "bridge_encounter_procedure", "bridge_encounter_diagnosis"}


def queries(path):
    """(name, title, sql) of every query: each starts at a `-- name: Title` line."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = []
    for m in re.finditer(r"^-- (\w+): (.+)\n((?:(?!-- ).*\n?)+)", text, re.M):
        sql = m.group(3).strip().rstrip(";")
        if sql:
            out.append((m.group(1), m.group(2).strip(), sql))
    return out


def text(v):
    """A value as PostgreSQL prints it."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (datetime.date, decimal.Decimal, int, str)):
        return str(v)
    return str(v)


def main(argv):
    p = argparse.ArgumentParser(prog="analytics.py", description=__doc__.split("\n\n")[0])
    p.add_argument("warehouse_dir")
    p.add_argument("--query", action="append", default=[], help="run only this query (repeatable)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--sql", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "analytics_queries.sql"))
    a = p.parse_args(argv)
    todo = queries(a.sql)
    unknown = set(a.query) - {n for n, _, _ in todo}
    if unknown:
        p.error(f"unknown query {', '.join(sorted(unknown))}; known: {', '.join(n for n, _, _ in todo)}")

    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("fiche-analytics").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
    root = a.warehouse_dir.rstrip("/")
    for table in TABLES:
        df = spark.read.parquet(f"{root}/{table}")
        if table in PARTITIONED:
            df = df.drop("year", "month")
        df.createOrReplaceTempView(table)

    results = []
    for name, title, sql in todo:
        if a.query and name not in a.query:
            continue
        df = spark.sql(sql)
        rows = [[text(v) for v in r] for r in df.collect()]
        results.append({"query": name, "title": title, "columns": df.columns, "rows": rows})
    spark.stop()

    if a.format == "json":
        print(json.dumps([{"query": r["query"], "columns": r["columns"],
                           "rows": [dict(zip(r["columns"], row)) for row in r["rows"]]} for r in results],
                         indent=2, sort_keys=True))
    else:
        for r in results:
            print(r["title"])
            print()
            widths = [max([len(c)] + [len(v or "") for v in col]) for c, col in
                      zip(r["columns"], zip(*r["rows"]) if r["rows"] else [[] for _ in r["columns"]])]
            print("  ".join(c.ljust(w) for c, w in zip(r["columns"], widths)))
            print("  ".join("-" * w for w in widths))
            for row in r["rows"]:
                print("  ".join((v or "").ljust(w) for v, w in zip(row, widths)))
            print(f"({len(r['rows'])} rows)")
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
