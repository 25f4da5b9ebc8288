"""scripts/bench-export's measuring half: `fiche export` against pyarrow writing the same
tables as Parquet with zstd, runs alternating, medians of paired runs with their spread,
and the files' sizes.

fiche is timed as a whole process (`fiche export --clinical --out DIR`: open the lake, read
and decode every chunk, encode, compress, write, fsync, rename). pyarrow is timed on the
write only: the same tables are already in memory as Arrow tables (read once, untimed, from
a reference export), then written with `pq.write_table(compression="zstd")`, two tables at
a time on two threads (pyarrow releases the GIL while it writes; one writer per table is
its best use of both cores), each file fsynced as fiche's are.
"""

import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def write_pyarrow(tables, out, level):
    os.makedirs(out)

    def one(name):
        path = os.path.join(out, name + ".parquet")
        pq.write_table(tables[name], path, compression="zstd", compression_level=level)
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        return name, os.path.getsize(path)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, sorted(tables, key=lambda n: -tables[n].nbytes)))


def run_fiche(fiche, lake, out, level):
    r = subprocess.run([fiche, "export", "--clinical", "--lake", lake, "--out", out, "--json",
                        "--zstd-level", str(level)], capture_output=True, text=True, check=True)
    return {t["table"]: t["bytes"] for t in json.loads(r.stdout)["tables"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fiche", required=True)
    ap.add_argument("--lake", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fiche-level", type=int, default=1)
    ap.add_argument("--pyarrow-level", type=int, default=None, help="default: Arrow's own zstd default")
    a = ap.parse_args()

    ref = os.path.join(a.work, "reference")
    shutil.rmtree(ref, ignore_errors=True)
    run_fiche(a.fiche, a.lake, ref, a.fiche_level)
    tables = {t: pq.read_table(os.path.join(ref, t, "part-0.parquet"))
              for t in sorted(os.listdir(ref)) if not t.startswith("_")}
    rows = sum(t.num_rows for t in tables.values())
    level = a.pyarrow_level if a.pyarrow_level is not None else pa.Codec.default_compression_level("zstd")
    print(f"{len(tables)} clinical tables, {rows:,} rows; fiche zstd level {a.fiche_level}, pyarrow zstd level {level} "
          f"(pyarrow {pa.__version__})", file=sys.stderr)

    # Warm-up of each (page cache, first-touch allocations), not counted.
    out = os.path.join(a.work, "run")
    shutil.rmtree(out, ignore_errors=True)
    run_fiche(a.fiche, a.lake, out, a.fiche_level)
    shutil.rmtree(out)
    write_pyarrow(tables, out, level)
    shutil.rmtree(out)

    def cpu(who):
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    fiche_times, arrow_times, fiche_cpu, arrow_cpu = [], [], [], []
    fiche_sizes = arrow_sizes = None
    for r in range(a.runs):
        order = ["fiche", "pyarrow"] if r % 2 == 0 else ["pyarrow", "fiche"]
        for engine in order:
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            if engine == "fiche":
                c0 = cpu(resource.RUSAGE_CHILDREN)
                fiche_sizes = run_fiche(a.fiche, a.lake, out, a.fiche_level)
                fiche_times.append(time.perf_counter() - t0)
                fiche_cpu.append(cpu(resource.RUSAGE_CHILDREN) - c0)
            else:
                c0 = cpu(resource.RUSAGE_SELF)
                arrow_sizes = write_pyarrow(tables, out, level)
                arrow_times.append(time.perf_counter() - t0)
                arrow_cpu.append(cpu(resource.RUSAGE_SELF) - c0)
        print(f"run {r + 1}: fiche {fiche_times[-1]:.3f} s ({fiche_cpu[-1]:.2f} s CPU), "
              f"pyarrow {arrow_times[-1]:.3f} s ({arrow_cpu[-1]:.2f} s CPU)", file=sys.stderr)
    shutil.rmtree(out, ignore_errors=True)

    ratios = [f / p for f, p in zip(fiche_times, arrow_times)]
    result = {
        "tables": len(tables), "rows": rows, "runs": a.runs, "pyarrow_version": pa.__version__,
        "fiche_zstd_level": a.fiche_level, "pyarrow_zstd_level": level,
        "fiche_seconds": {"median": statistics.median(fiche_times), "min": min(fiche_times), "max": max(fiche_times)},
        "pyarrow_seconds": {"median": statistics.median(arrow_times), "min": min(arrow_times), "max": max(arrow_times)},
        "paired_ratio": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)},
        "fiche_cpu_seconds": {"median": statistics.median(fiche_cpu), "min": min(fiche_cpu), "max": max(fiche_cpu)},
        "pyarrow_cpu_seconds": {"median": statistics.median(arrow_cpu), "min": min(arrow_cpu), "max": max(arrow_cpu)},
        "bytes": {t: {"fiche": fiche_sizes[t], "pyarrow": arrow_sizes[t]} for t in tables},
    }
    print(f"\n{'table':<16} {'rows':>10} {'fiche bytes':>12} {'pyarrow bytes':>14} {'fiche/pyarrow':>14}")
    for t in tables:
        f, p = fiche_sizes[t], arrow_sizes[t]
        print(f"{t:<16} {tables[t].num_rows:>10,} {f:>12,} {p:>14,} {f / p:>14.3f}")
    tf, tp = sum(fiche_sizes.values()), sum(arrow_sizes.values())
    print(f"{'total':<16} {rows:>10,} {tf:>12,} {tp:>14,} {tf / tp:>14.3f}")
    fs, ps, rs = result["fiche_seconds"], result["pyarrow_seconds"], result["paired_ratio"]
    print(f"\nfiche export (whole process)   median {fs['median']:.3f} s  (min {fs['min']:.3f}, max {fs['max']:.3f})")
    print(f"pyarrow write_table (write only) median {ps['median']:.3f} s  (min {ps['min']:.3f}, max {ps['max']:.3f})")
    print(f"fiche / pyarrow, paired by run: median {rs['median']:.2f}  (min {rs['min']:.2f}, max {rs['max']:.2f}), {a.runs} runs")
    fc, pc = result["fiche_cpu_seconds"], result["pyarrow_cpu_seconds"]
    print(f"CPU (user + sys): fiche median {fc['median']:.2f} s ({fc['min']:.2f}–{fc['max']:.2f}), "
          f"pyarrow median {pc['median']:.2f} s ({pc['min']:.2f}–{pc['max']:.2f})")
    with open(os.path.join(a.work, "bench-export.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
