"""Compares two exported Fiche warehouses table by table, row by row: `fiche build`'s
(exported by `fiche export --warehouse --uuid-as string`) and the Spark build's
(scripts/spark-build). Same column names and types, same rows; for the tables written as one
file (dimensions, aggregates) also in the same order. Partition columns (year=/month=
folders) are left out. Exit 1 with the first differences of every table that differs.

    python scripts/spark_compare.py EXPECTED_DIR ACTUAL_DIR
"""

import sys

import pyarrow as pa
import pyarrow.dataset as ds

TABLES = {
    # table: (columns that order its rows, written as one file in a defined order)
    "dim_patient": (["patient_key"], True),
    "dim_facility": (["facility_key"], True),
    "dim_procedure": (["procedure_key"], True),
    "dim_diagnosis": (["diagnosis_key"], True),
    "dim_time": (["date_key"], True),
    "fact_encounters": (["encounter_key"], False),
    "bridge_encounter_procedure": (["encounter_key", "procedure_key"], False),
    "bridge_encounter_diagnosis": (["encounter_key", "diagnosis_key"], False),
    "mv_monthly_encounters": (["year", "month"], True),
    "mv_diagnosis_by_age_group": (["age_group", "diagnosis_code"], True),
    "mv_procedure_volume": (["modality", "procedure_code", "year", "month"], True),
}


def read(root, table):
    """The table's own columns (no partition columns), files in path order."""
    d = ds.dataset(f"{root}/{table}", format="parquet", partitioning="hive",
                   exclude_invalid_files=True)
    files = sorted(d.files)
    d = ds.dataset(files, format="parquet", schema=ds.dataset(files[0], format="parquet").schema) if files else d
    return d.to_table()


def normalise(t):
    """Plain types: dictionary columns decoded, large strings as strings."""
    cols = []
    for f in t.schema:
        c = t[f.name]
        if pa.types.is_dictionary(f.type):
            c = c.cast(f.type.value_type)
        if pa.types.is_large_string(c.type):
            c = c.cast(pa.string())
        cols.append(c)
    return pa.table(cols, names=t.column_names)


def main(expected_dir, actual_dir):
    failures = 0
    for table, (order, ordered) in TABLES.items():
        e = normalise(read(expected_dir, table))
        a = normalise(read(actual_dir, table))
        problems = []
        if e.column_names != a.column_names:
            problems.append(f"columns: expected {e.column_names}, got {a.column_names}")
        else:
            for name in e.column_names:
                if e[name].type != a[name].type:
                    problems.append(f"column {name}: expected type {e[name].type}, got {a[name].type}")
        if e.num_rows != a.num_rows:
            problems.append(f"rows: expected {e.num_rows}, got {a.num_rows}")
        if not problems:
            if not ordered:
                keys = [(c, "ascending") for c in order]
                e, a = e.sort_by(keys), a.sort_by(keys)
            er, ar = e.to_pylist(), a.to_pylist()
            bad = [i for i in range(len(er)) if er[i] != ar[i]]
            for i in bad[:3]:
                diff = {k: (er[i][k], ar[i][k]) for k in er[i] if er[i][k] != ar[i][k]}
                problems.append(f"row {i} ({', '.join(f'{c}={er[i][c]}' for c in order)}): "
                                f"(expected, got) {diff}")
            if len(bad) > 3:
                problems.append(f"… {len(bad)} rows differ")
        if problems:
            failures += 1
            print(f"{table}: DIFFERS", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"{table}: {e.num_rows} rows equal{'' if ordered else ' (as sets)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
