"""Proof that other engines read `fiche export`: every exported table of three lakes is read
back with pyarrow, DuckDB and Polars and compared with `fiche dump TABLE --format csv` of
the same lake version: same row count, same values, same types (a uuid comes back as a
UUID, a date as a date, a null as a null). Run by scripts/test.d/40-parquet-interop.

Lakes: a small synthetic clinic with its warehouse built (`fiche generate`, `fiche build`),
the fixture lake of Tests/FicheLakeTests/ParquetInteropFixture.swift (every lake type at
0/50/100 % nulls, empty and one-row tables, a dictionary that overflows to PLAIN,
non-ASCII text, dates before 1970), and a lake being written while it is exported.
"""

import datetime
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True, capture_output=True,
                     text=True).stdout.strip()
FICHE = os.path.join(BIN, "fiche")
PARTITIONED = {"fact_encounters", "bridge_encounter_procedure", "bridge_encounter_diagnosis"}
UTC = datetime.timezone.utc
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def fiche(*args, expect=0):
    r = subprocess.run([FICHE, *args], capture_output=True, text=True)
    if r.returncode != expect:
        raise SystemExit(f"fiche {' '.join(args)} exited {r.returncode}, expected {expect}:\n{r.stderr}")
    return r


def parse_csv(text):
    """RFC 4180 with the dump's NULL rule: an unquoted empty field is None, "" is ''."""
    rows, row, i, n = [], [], 0, len(text)
    while i < n:
        if text[i] == '"':
            i += 1
            buf = []
            while True:
                j = text.index('"', i)
                buf.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    buf.append('"')
                    i = j + 2
                else:
                    i = j + 1
                    break
            row.append("".join(buf))
        else:
            j = i
            while j < n and text[j] not in ",\n":
                j += 1
            row.append(text[i:j] if j > i else None)
            i = j
        if i < n and text[i] == ",":
            i += 1
            if i == n or text[i] == "\n":
                row.append(None)
        if i < n and text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
    if row:
        rows.append(row)
    return rows


def lake_table(lake, table):
    """(column names, lake types, rows as text) from `fiche dump`."""
    summary = json.loads(fiche("dump", table, "--lake", lake, "--json").stdout)
    types = [c["type"] for c in summary["columns"]]
    rows = parse_csv(fiche("dump", table, "--lake", lake, "--format", "csv").stdout)
    header = rows[0] if rows else [c["name"] for c in summary["columns"]]
    return header, types, [tuple(r) for r in rows[1:]]


def text(lake_type, v):
    """A reader's value in the dump's text form."""
    if v is None:
        return None
    if lake_type == "bool":
        return "true" if v else "false"
    if lake_type in ("int8", "int16", "int32", "int64"):
        return str(int(v))
    if lake_type == "float64":
        return v  # compared as numbers
    if lake_type == "date":
        return v.isoformat()
    if lake_type == "timestamp":
        if v.tzinfo is None:
            return "naive " + v.isoformat()  # never equal: the type must carry UTC
        return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if lake_type == "uuid":
        if isinstance(v, uuid.UUID):
            return str(v)
        if isinstance(v, (bytes, bytearray)):
            return str(uuid.UUID(bytes=bytes(v)))
        return v
    return v


def same_cell(lake_type, expected, got):
    if lake_type == "float64" and expected is not None and got is not None:
        e = float(expected)
        return (math.isnan(e) and math.isnan(got)) or e == got
    return expected == got


# Expected reader types per lake type (uuid_as uuid / string).
ARROW = {"bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
         "float64": "double", "date": "date32[day]", "timestamp": "timestamp[us, tz=UTC]", "string": "string"}
DUCK = {"bool": "BOOLEAN", "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
        "float64": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE", "string": "VARCHAR"}
POLARS = {"bool": "Boolean", "int8": "Int8", "int16": "Int16", "int32": "Int32", "int64": "Int64",
          "float64": "Float64", "date": "Date", "timestamp": "Datetime(time_unit='us', time_zone='UTC')", "string": "String"}


def arrow_type_ok(lake_type, t, uuid_as):
    if lake_type == "uuid":
        if uuid_as == "string":
            return str(t) == "string"
        return str(t) in ("extension<arrow.uuid>", "uuid") or (isinstance(t, pa.ExtensionType) and t.extension_name == "arrow.uuid")
    return str(t) == ARROW[lake_type]


# pq.read_table maps Parquet's UUID to arrow.uuid by itself; a dataset scan is asked to.
PARQUET_FORMAT = ds.ParquetFileFormat(
    default_fragment_scan_options=ds.ParquetFragmentScanOptions(arrow_extensions_enabled=True))


def read_pyarrow(path, partitioned):
    if partitioned:
        return ds.dataset(path, format=PARQUET_FORMAT, partitioning="hive").to_table()
    return pq.read_table(os.path.join(path, "part-0.parquet"))


def compare(label, header, types, expected, names, reader_types, type_ok, columns, partitioned):
    check(names[:len(header)] == header, f"{label}: columns {names} != {header}")
    for c, (lt, rt) in enumerate(zip(types, reader_types)):
        check(type_ok(lt, rt), f"{label}: column {header[c]} ({lt}) read as {rt}")
    got = list(zip(*[[text(lt, v) for v in col] for lt, col in zip(types, columns)])) if columns and columns[0] else []
    check(len(got) == len(expected), f"{label}: {len(got)} rows, dump has {len(expected)}")
    if partitioned:
        key = lambda r: tuple("" if x is None else str(x) for x in r)
        got, expected = sorted(got, key=key), sorted(expected, key=key)
    bad = 0
    for r, (e, g) in enumerate(zip(expected, got)):
        for c, lt in enumerate(types):
            if not same_cell(lt, e[c], g[c]):
                bad += 1
                if bad <= 3:
                    check(False, f"{label}: row {r} column {header[c]} ({lt}): dump {e[c]!r}, read {g[c]!r}")
    check(bad == 0, f"{label}: {bad} cells differ")


def compare_readers(lake, out, table, uuid_as, dump):
    header, types, expected = dump
    partitioned = table in PARTITIONED
    path = os.path.join(out, table)
    label = f"{os.path.basename(lake)}/{table} (uuid-as {uuid_as})"

    t = read_pyarrow(path, partitioned)
    cols = [t.column(i).to_pylist() for i in range(len(header))]
    compare("pyarrow " + label, header, types, expected, t.schema.names, [t.schema.field(i).type for i in range(t.num_columns)],
            lambda lt, rt: arrow_type_ok(lt, rt, uuid_as), cols, partitioned)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    source = (f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)" if partitioned
              else f"read_parquet('{path}/part-0.parquet')")
    rel = con.sql(f"SELECT * FROM {source}")
    rows = rel.fetchall()
    duck_types = [str(x) for x in rel.types]
    cols = [[r[i] for r in rows] for i in range(len(header))]
    compare("duckdb " + label, header, types, expected, rel.columns, duck_types,
            lambda lt, rt: rt == ("UUID" if uuid_as == "uuid" else "VARCHAR") if lt == "uuid" else rt == DUCK[lt],
            cols, partitioned)

    df = (pl.scan_parquet(f"{path}/**/*.parquet", hive_partitioning=True).collect() if partitioned
          else pl.read_parquet(os.path.join(path, "part-0.parquet")))
    cols = [df.get_column(n).to_list() for n in header] if df.width >= len(header) else []

    def polars_ok(lt, rt):
        if lt == "uuid":  # Polars has no UUID type: the 16 bytes as Binary
            return rt == ("Binary" if uuid_as == "uuid" else "String")
        return rt == POLARS[lt]

    compare("polars " + label, header, types, expected, df.columns, [str(d) for d in df.dtypes], polars_ok, cols,
            partitioned)


def check_files(out):
    """Private files and folders, no temporaries left, the manifest last and true."""
    manifest = json.load(open(os.path.join(out, "_SUCCESS")))
    newest = 0.0
    for root, dirs, files in os.walk(out):
        for d in dirs:
            check(stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode) == 0o700, f"{root}/{d} is not 0700")
        for f in files:
            p = os.path.join(root, f)
            check(stat.S_IMODE(os.stat(p).st_mode) == 0o600, f"{p} is not 0600")
            check(not f.startswith("."), f"temporary file left: {p}")
            if f != "_SUCCESS":
                newest = max(newest, os.stat(p).st_mtime)
    check(os.stat(os.path.join(out, "_SUCCESS")).st_mtime >= newest, "_SUCCESS is older than a data file")
    listed = 0
    for t in manifest["tables"]:
        check(sum(f["rows"] for f in t["files"]) == t["rows"], f"manifest rows of {t['table']}")
        for f in t["files"]:
            p = os.path.join(out, f["path"])
            listed += 1
            check(os.path.getsize(p) == f["bytes"], f"manifest size of {f['path']}")
            md = pq.ParquetFile(p).metadata
            check(md.num_rows == f["rows"], f"manifest rows of {f['path']}: {f['rows']}, file {md.num_rows}")
            check(md.created_by.startswith("fiche version "), f"created_by of {f['path']}: {md.created_by}")
            for g in range(md.num_row_groups):
                for c in range(md.num_columns):
                    s = md.row_group(g).column(c).statistics
                    check(s is not None and s.has_null_count, f"{f['path']} row group {g} column {c}: no null_count")
    on_disk = sum(1 for root, _, files in os.walk(out) for f in files if f.endswith(".parquet"))
    check(listed == on_disk, f"manifest lists {listed} files, {on_disk} on disk")
    check(manifest["fiche_version"] and manifest["format"] == "parquet", "manifest header")
    return manifest


def export(lake, out, *args):
    r = fiche("export", "--lake", lake, "--out", out, "--json", *args)
    return json.loads(r.stdout)


def check_lake(lake, tmp, tables=None):
    names = tables or [t["table"] for t in json.loads(fiche("ls", "--lake", lake, "--json").stdout)]
    dumps = {t: lake_table(lake, t) for t in names}
    versions = {t["table"]: t["version"] for t in json.loads(fiche("ls", "--lake", lake, "--json").stdout)}
    for uuid_as in ("uuid", "string"):
        out = os.path.join(tmp, f"{os.path.basename(lake)}-{uuid_as}")
        summary = export(lake, out, *names, "--uuid-as", uuid_as)
        manifest = check_files(out)
        check(manifest["uuid_as"] == uuid_as, "manifest uuid_as")
        for t in manifest["tables"]:
            check(t["lake_version"] == versions[t["table"]], f"{t['table']}: exported version {t['lake_version']}")
            check(t["rows"] == len(dumps[t["table"]][2]), f"{t['table']}: manifest rows")
        check(summary["rows"] == sum(len(d[2]) for d in dumps.values()), "--json rows")
        for t in names:
            compare_readers(lake, out, t, uuid_as, dumps[t])
    return os.path.join(tmp, f"{os.path.basename(lake)}-uuid"), dumps


def check_fixture_metadata(out):
    md = pq.ParquetFile(os.path.join(out, "dict_overflow/part-0.parquet")).metadata
    cols = {md.row_group(0).column(c).path_in_schema: md.row_group(0).column(c) for c in range(md.num_columns)}
    check("RLE_DICTIONARY" not in cols["unique_text"].encodings and "PLAIN" in cols["unique_text"].encodings,
          f"unique_text's 1.9 MB dictionary falls back to PLAIN: {cols['unique_text'].encodings}")
    check("RLE_DICTIONARY" in cols["few_text"].encodings and cols["few_text"].has_dictionary_page,
          f"few_text is dictionary-encoded: {cols['few_text'].encodings}")
    check(cols["id"].compression == "ZSTD", "zstd")
    mixed = pq.ParquetFile(os.path.join(out, "types_mixed/part-0.parquet")).metadata
    check(mixed.num_row_groups == 3, f"one row group per lake chunk: {mixed.num_row_groups}")
    table = pq.read_table(os.path.join(out, "types_mixed/part-0.parquet"))
    for g in range(mixed.num_row_groups):
        rg = mixed.row_group(g)
        for c in range(rg.num_columns):
            col = rg.column(c)
            name = col.path_in_schema
            s = col.statistics
            if name.endswith("_all"):
                check(s.null_count == rg.num_rows and not s.has_min_max, f"{name}: all null, no min/max")
            elif name.startswith(("int", "date", "timestamp", "bool")):
                part = table.column(name).slice(sum(mixed.row_group(k).num_rows for k in range(g)), rg.num_rows)
                values = [v for v in part.to_pylist() if v is not None]
                check(s.has_min_max and s.min == min(values) and s.max == max(values),
                      f"{name} row group {g}: stats {s.min}…{s.max}, values {min(values)}…{max(values)}")
                check(s.null_count == part.null_count, f"{name}: null_count")
    one = pq.read_table(os.path.join(out, "one_row/part-0.parquet"))
    check(one.num_rows == 1, "one_row")
    empty = pq.ParquetFile(os.path.join(out, "empty_table/part-0.parquet"))
    check(empty.metadata.num_rows == 0 and empty.metadata.num_row_groups == 0 and len(empty.schema_arrow) == 42,
          "empty_table: no rows, whole schema")


def check_hive(out, dump):
    """The fact table read as one partitioned dataset, pruned by month."""
    header, _, rows = dump
    k = header.index("date_key")
    march = sum(1 for r in rows if r[k].startswith("202303"))
    check(march > 0, "the synthetic fact has March 2023 rows")
    d = ds.dataset(os.path.join(out, "fact_encounters"), format="parquet", partitioning="hive")
    check(d.count_rows() == len(rows), "pyarrow dataset row count")
    flt = (ds.field("year") == 2023) & (ds.field("month") == 3)
    frags = list(d.get_fragments(filter=flt))
    check(len(frags) == 1 and "year=2023/month=03" in frags[0].path, f"pyarrow prunes to one month: {len(frags)} files")
    check(d.to_table(filter=flt).num_rows == march, "pyarrow March 2023 rows")
    con = duckdb.connect()
    q = (f"SELECT count(*) FROM read_parquet('{out}/fact_encounters/**/*.parquet', hive_partitioning = true, "
         f"hive_types = {{'year': INTEGER, 'month': INTEGER}}) WHERE year = 2023 AND month = 3")
    check(con.execute(q).fetchone()[0] == march, "duckdb March 2023 rows")
    plan = "\n".join(r[1] for r in con.execute("EXPLAIN ANALYZE " + q).fetchall())
    check("Total Files Read: 1 " in plan or "Scanning Files: 1/" in plan,
          "duckdb reads one file for one month:\n" + plan[:2000])
    n = (pl.scan_parquet(f"{out}/fact_encounters/**/*.parquet", hive_partitioning=True)
         .filter((pl.col("year") == 2023) & (pl.col("month") == 3)).select(pl.len()).collect().item())
    check(n == march, "polars March 2023 rows")


def check_concurrent_snapshot(tmp):
    """Export while another process commits: each export is one snapshot (stress_a and
    stress_b are committed together, so they always have the same rows)."""
    lake = os.path.join(tmp, "busy")
    fiche("stress-write", "--lake", lake, "--commits", "3", "--rows", "100")
    writer = subprocess.Popen([FICHE, "stress-write", "--lake", lake, "--commits", "150", "--rows", "100"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = set()
        for i in range(4):
            out = os.path.join(tmp, f"busy-{i}")
            export(lake, out, "stress_a", "stress_b")
            m = json.load(open(os.path.join(out, "_SUCCESS")))
            a, b = m["tables"]
            check(a["rows"] == b["rows"], f"stress_a {a['rows']} rows, stress_b {b['rows']}: not one snapshot")
            for t in (a, b):
                check(pq.read_table(os.path.join(out, t["table"])).num_rows == t["rows"], "rows as the manifest says")
            seen.add(a["rows"])
    finally:
        writer.wait()
    out = os.path.join(tmp, "busy-v1")
    export(lake, out, "stress_a", "--version", "1")
    m = json.load(open(os.path.join(out, "_SUCCESS")))
    check(m["tables"][0]["lake_version"] == 1 and m["tables"][0]["rows"] == 100, "--version 1 exports the first commit")
    check(pq.read_table(os.path.join(out, "stress_a")).column("id").to_pylist() == list(range(100)), "--version 1 rows")


def check_usage(tmp, lake):
    r = fiche("export", "--lake", lake, "--out", os.path.join(tmp, "x"), expect=2)
    check("--clinical" in r.stderr, "no tables: usage error naming the groups")
    r = fiche("export", "--lake", lake, "--out", os.path.join(tmp, "x"), "no_such_table", expect=1)
    check("no_such_table" in r.stderr, "unknown table named")
    r = fiche("export", "--lake", lake, "--out", tmp, "patients", expect=1)
    check("not empty" in r.stderr, "a non-empty --out is refused")
    r = fiche("export", "--help")
    check("Spark" in r.stdout and "--uuid-as" in r.stdout, "--help explains --uuid-as for Spark")


def main():
    start = time.time()
    tmp = tempfile.mkdtemp(prefix="fiche-parquet-interop-")
    try:
        synth = os.path.join(tmp, "synthetic")
        fiche("generate", "--lake", synth, "--patients", "300", "--seed", "5")
        fiche("build", "--lake", synth)
        out, dumps = check_lake(synth, tmp)
        check_hive(out, dumps["fact_encounters"])
        check_usage(tmp, synth)

        fixture = os.path.join(tmp, "fixture")
        env = dict(os.environ, FICHE_PARQUET_FIXTURE_LAKE=fixture)
        subprocess.run(["swift", "test", "--skip-build", "--filter", "ParquetInteropFixture/writeInteropLake"],
                       cwd=REPO, env=env, check=True, capture_output=True)
        out, _ = check_lake(fixture, tmp)
        check_fixture_metadata(out)

        check_concurrent_snapshot(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"parquet interop: {checks} checks, {len(failures)} failed, {time.time() - start:.1f} s", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
