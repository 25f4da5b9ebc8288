"""Crash and fault torture of fiche (run through scripts/torture; see --help).

Every trial starts from a known state, injects one fault at a random instant and then checks:
  * the lake: `fiche verify` passes and every table equals its state before or after the
    operation (never a mix of the two inside one operation), read independently from the
    commit log and the chunk files' bytes;
  * the warehouse in PostgreSQL: every table (row count and an order-independent hash of its
    rows) and the aggregates' totals equal the previous or the next complete warehouse, and
    so does every answer of a reader querying it all along (none may fail);
  * recovery: rerunning the operation succeeds and ends exactly where an uninterrupted run
    ends. Rows short of that are "lost", rows beyond it "duplicated"; any other difference,
    a failed verify, a mixed state or an unclear error is an "inconsistent state".
Random choices come from --seed (each trial's from the seed, the operation and the trial
number); the machine's timing still decides where exactly a kill lands.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = os.environ.get("FICHE_PG_BIN", "/usr/lib/postgresql/15/bin")
SAMPLE = os.path.join(REPO, "Tests/FicheSourcesTests/Fixtures/padchest_sample.csv")

WAREHOUSE = ["dim_patient", "dim_facility", "dim_procedure", "dim_diagnosis", "dim_time", "fact_encounters",
             "bridge_encounter_procedure", "bridge_encounter_diagnosis", "mv_monthly_encounters",
             "mv_diagnosis_by_age_group", "mv_procedure_volume"]
# Columns whose values differ from run to run by design (the time a row was quarantined).
VOLATILE = {"quarantine": "source,file,line,reason,raw_text"}

LAKE_KILL_OPS = ["ingest", "generate", "build", "vacuum"]
DB_OPS = ["rebuild", "backfill"]
DB_FAULTS = ["client killed", "backend terminated", "postgres stopped"]
OTHER_OPS = ["disk-full", "two-rebuilds", "ingest-during-build", "ingest-during-rebuild", "vacuum-during-read"]
ALL_OPS = LAKE_KILL_OPS + DB_OPS + OTHER_OPS

HELP_EPILOG = """operations (default: all):
  ingest, generate, build, vacuum
        fiche ingest padchest / generate --days / build / vacuum --retain 0, SIGKILLed at a
        random instant of an uninterrupted run's duration; then verify, the state check, a
        rerun (ingest: rows read = ingested + duplicates + quarantined), and the final lake
        compared with an uninterrupted run's, table by table and byte by byte.
  rebuild, backfill
        fiche rebuild / fiche publish --backfill between two warehouses, with (in turn) the
        client SIGKILLed, its backends ended by pg_terminate_backend, and PostgreSQL stopped
        with pg_ctl stop -m immediate and started again; the live schema must be the old or
        the new warehouse, and the next run must publish the new one.
  disk-full
        the lake on a small tmpfs (needs root to mount it) sized so that an ingest or a build
        runs out of space at a random point: exit 1 naming "No space left on device", the
        lake at its previous commit, and the run after making room succeeds.
  two-rebuilds, ingest-during-build, ingest-during-rebuild, vacuum-during-read
        two rebuilds started together; an ingest committing while a build (or the nightly
        rebuild, quality gates and all) reads; a reader
        holding an old snapshot while the table is replaced and vacuumed. Each must be
        serialized or refused with a clear message, never interleaved, never a reader error.
"""


class Problem(Exception):
    """What was wrong in a trial."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The lake, read independently: commit log replay (transaction markers first, as fiche does)
# and a hash of every live chunk file's bytes.

def lake_tables(root):
    names = []
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        if re.fullmatch(r"[a-z0-9_]+", name) and not name.startswith("_txn") and os.path.isdir(os.path.join(root, name, "_log")):
            names.append(name)
    return names


def replay(root, table, markers):
    live = {}
    log_dir = os.path.join(root, table, "_log")
    for f in sorted(os.listdir(log_dir)):
        if not re.fullmatch(r"\d{20}\.json", f):
            continue
        with open(os.path.join(log_dir, f), "rb") as fh:
            try:
                c = json.loads(fh.read())
            except ValueError as e:
                raise Problem(f"{table}/_log/{f} is not JSON: {e}")
        if c.get("transaction") and c["transaction"] not in markers:
            continue
        for r in c.get("remove", []):
            live.pop(r, None)
        for a in c.get("add", []):
            live[a["file"]] = a["rows"]
    return live


class LakeReader:
    def __init__(self, ctx):
        self.ctx = ctx
        self.dumped = {}  # chunk files' hashes -> hash of their rows without the volatile columns

    def state(self, root):
        """table -> (rows, content hash)."""
        txn = os.path.join(root, "_txn")
        markers = {m for m in os.listdir(txn) if not m.startswith(".")} if os.path.isdir(txn) else set()
        state = {}
        for table in lake_tables(root):
            live = replay(root, table, markers)
            rows = sum(live.values())
            hashes = []
            for f in live:
                with open(os.path.join(root, table, f), "rb") as fh:
                    hashes.append(hashlib.sha256(fh.read()).hexdigest())
            digest = hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest()[:16]
            if table in VOLATILE and rows:
                if digest not in self.dumped:
                    out = self.ctx.fiche(["dump", table, "--format", "csv", "--columns", VOLATILE[table]], lake=root).stdout
                    lines = out.splitlines()[1:]
                    self.dumped[digest] = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]
                digest = self.dumped[digest]
            if rows or live:
                state[table] = (rows, digest)
        return state


EMPTY = (0, None)


def clear_error(stderr):
    """fiche's own one-line error (libpq may print the server's notices before it)."""
    return any(line.startswith("fiche: error:") for line in stderr.splitlines())


def is_registry(table):
    return table.startswith("_keys_")


def classify(state, before, after, where, first=None):
    """'before', 'after', or raises Problem naming the tables that are neither or mixed.
    `first` picks the tables an operation commits in an earlier transaction of its own (a
    build saves new keys, then writes the warehouse): they may be after while the rest is
    before, never the other way round."""
    if first:
        pick = lambda d, keep: {k: v for k, v in d.items() if first(k) == keep}
        a = classify(pick(state, True), pick(before, True), pick(after, True), where)
        b = classify(pick(state, False), pick(before, False), pick(after, False), where)
        if a == "before" and b == "after":
            raise Problem(f"{where}: the second transaction is visible without the first")
        return b
    names = set(state) | set(before) | set(after)
    at_before, at_after, neither = [], [], []
    for t in sorted(names):
        s, b, a = state.get(t, EMPTY), before.get(t, EMPTY), after.get(t, EMPTY)
        if b == a:
            if s != b:
                neither.append(t)
            continue
        if s == b:
            at_before.append(t)
        elif s == a:
            at_after.append(t)
        else:
            neither.append(t)
    if neither:
        detail = ", ".join(f"{t} {state.get(t, EMPTY)[0]} rows (before {before.get(t, EMPTY)[0]}, after {after.get(t, EMPTY)[0]})"
                           for t in neither[:4])
        raise Problem(f"{where}: tables at neither committed state: {detail}")
    if at_before and at_after:
        raise Problem(f"{where}: half an operation is visible: {', '.join(at_after[:4])} after it, "
                      f"{', '.join(at_before[:4])} before it")
    return "after" if at_after else "before"


def compare_final(state, want, where, tally):
    """Final state against an uninterrupted run's: rows short are lost, rows beyond duplicated."""
    wrong = []
    for t in sorted(set(state) | set(want)):
        s, w = state.get(t, EMPTY), want.get(t, EMPTY)
        if s == w:
            continue
        if s[0] < w[0]:
            tally["lost"] += w[0] - s[0]
        elif s[0] > w[0]:
            tally["duplicated"] += s[0] - w[0]
        wrong.append(f"{t} {s[0]} rows, want {w[0]}" + ("" if s[0] != w[0] else " (other content)"))
    if wrong:
        raise Problem(f"{where}: " + "; ".join(wrong[:5]))


# ---------------------------------------------------------------------------------------------
# PostgreSQL.

class Database:
    def __init__(self, url):
        self.url = url
        self.psql = os.path.join(PG_BIN, "psql")

    def with_app(self, name):
        return self.url + ("&" if "?" in self.url else "?") + "application_name=" + name

    def query(self, sql, timeout=60):
        p = subprocess.run([self.psql, self.url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-F", "|", "-c", sql],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise Problem(f"psql: {p.stderr.strip()}")
        return [line.split("|") for line in p.stdout.splitlines()]

    def wait_ready(self, seconds=60):
        end = time.time() + seconds
        while True:
            try:
                self.query("SELECT 1", timeout=10)
                return
            except (Problem, subprocess.TimeoutExpired):
                if time.time() > end:
                    raise
                time.sleep(0.2)

    def signature(self, schema):
        """table -> (rows, hash of rows); plus the aggregates' totals; None if no live schema."""
        if not self.query(f"SELECT 1 FROM pg_namespace WHERE nspname = '{schema}'"):
            return None
        parts = [f"SELECT '{t}', count(*), coalesce(sum(hashtext(x::text)::numeric), 0) FROM {schema}.{t} x" for t in WAREHOUSE]
        parts.append(f"SELECT 'totals', (SELECT coalesce(sum(total_encounters), 0) FROM {schema}.mv_monthly_encounters), "
                     f"(SELECT coalesce(sum(total_procedures), 0) + coalesce(sum(total_diagnoses), 0) FROM {schema}.mv_monthly_encounters)")
        rows = self.query(" UNION ALL ".join(parts))
        sig = {r[0]: (int(r[1]), r[2]) for r in rows}
        # The aggregates agree with the fact they summarize.
        if sig["totals"][0] != sig["fact_encounters"][0]:
            raise Problem(f"live {schema}: mv_monthly_encounters counts {sig['totals'][0]} encounters, fact_encounters holds {sig['fact_encounters'][0]}")
        return sig

    def terminate(self, app):
        rows = self.query(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{app}' AND pid <> pg_backend_pid()")
        return int(rows[0][0])

    def drop(self, schema):
        for s in [schema, schema + "_staging", schema + "_old", schema + "_backfill"]:
            self.query(f"DROP SCHEMA IF EXISTS {s} CASCADE")


class LiveReader(threading.Thread):
    """A dashboard querying the live warehouse over and over while a publisher runs: every
    answer must be one of the `allowed` warehouses, and no query may fail."""

    def __init__(self, db, schema, allowed):
        super().__init__(daemon=True)
        self.db, self.schema, self.allowed = db, schema, allowed
        self.halt = threading.Event()
        self.reads, self.errors = 0, []

    def run(self):
        while not self.halt.is_set():
            try:
                sig = self.db.signature(self.schema)
                self.reads += 1
                if sig not in self.allowed:
                    self.errors.append("a reader saw a warehouse that is neither the old nor the new one: "
                                       + Torture.db_diff(sig, *self.allowed))
            except (Problem, subprocess.TimeoutExpired) as e:
                self.errors.append(f"a reader's query failed: {e}")
            self.halt.wait(0.03)  # leave the publisher a core

    def finish(self):
        self.halt.set()
        self.join()
        if self.errors:
            raise Problem(f"{self.errors[0]} ({len(self.errors)} of {self.reads + len(self.errors)} reads went wrong)")


class LocalCluster:
    """The project-local cluster of scripts/pg-up, stopped and started the way pg-up/pg-down do."""

    def __init__(self):
        out = subprocess.run(["bash", "-c", '. "$repo/scripts/pg-env"; echo "$data"; echo "$sock"'],
                             env=dict(os.environ, repo=REPO), capture_output=True, text=True, check=True).stdout.split("\n")
        self.data, self.sock = out[0], out[1]

    def owns(self, url):
        return os.path.exists(os.path.join(self.data, "postmaster.pid")) and ("host=" + self.sock) in url

    def port(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return f.read().split("\n")[3].strip()

    def stop_immediate(self):
        subprocess.run(["bash", "-c", '. "$repo/scripts/pg-env"; as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop'],
                       env=dict(os.environ, repo=REPO, bin=PG_BIN), capture_output=True, check=True)

    def start(self, port):
        subprocess.run([os.path.join(REPO, "scripts/pg-up")], env=dict(os.environ, FICHE_PG_PORT=port),
                       capture_output=True, check=True)


# ---------------------------------------------------------------------------------------------
# A PadChest-shaped CSV: the real sample rows of the test fixtures under new, unique ids and
# dates, plus duplicates (of this file and of an earlier one) and rows to quarantine.

def padchest_file(path, rows, seed, earlier_ids=(), bad=0, duplicates=0):
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    header, real = records[0], records[1:]
    rng = random.Random(f"padchest:{seed}")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    ids, lines = [], []
    for i in range(rows):
        r = list(rng.choice(real))
        study = f"{seed}{i // 2:09d}77"
        r[0], r[1] = str(i), f"{study}_{seed:02d}{i:06x}.png"
        r[3] = f"20{10 + i % 8:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
        r[4], r[5] = study, f"{seed}{i // 5:08d}55"
        ids.append(r[1])
        lines.append(r)
    for k in range(duplicates):  # an ImageID seen earlier in this file or in an earlier file
        r = list(lines[rng.randrange(len(lines))])
        if earlier_ids and k % 2:
            r[1] = earlier_ids[rng.randrange(len(earlier_ids))]
        lines.insert(rng.randrange(len(lines)), r)
    for k in range(bad):  # a field missing, or a date that does not exist
        r = list(lines[rng.randrange(len(lines))])
        r[1] = f"bad{seed}_{k}.png"
        if k % 2:
            del r[2]
        else:
            r[3] = "20150230"
        lines.insert(rng.randrange(len(lines)), r)
    for r in lines:
        w.writerow(r)
    with open(path, "w", encoding="utf-8") as f:
        f.write(out.getvalue())
    return ids


# ---------------------------------------------------------------------------------------------

class Torture:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.fiche_bin = args.fiche
        self.work = args.work or tempfile.mkdtemp(prefix="fiche-torture-", dir="/var/tmp")
        os.makedirs(self.work, exist_ok=True)
        os.chmod(self.work, 0o700)
        # A copy: a rebuild of the worktree during a long run must not swap the binary under it.
        self.fiche_bin = os.path.join(self.work, "fiche")
        shutil.copy2(args.fiche, self.fiche_bin)
        self.lakes = LakeReader(self)
        self.results = {}
        self.failures = []
        self.notes = []
        self.db = None
        self.cluster = None
        self.refs = {}

    # -- running fiche

    def fiche(self, argv, lake=None, check=True, timeout=600, env=None):
        cmd = [self.fiche_bin] + argv + (["--lake", lake] if lake else [])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise Problem(f"`fiche {' '.join(argv)}` exited {p.returncode}: {p.stderr.strip()[-400:]}")
        return p

    def spawn(self, argv, lake=None, stdout=subprocess.DEVNULL, text=True):
        cmd = [self.fiche_bin] + argv + (["--lake", lake] if lake else [])
        return subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=text)

    def timed(self, argv, lake):
        t = time.monotonic()
        p = self.fiche(argv, lake=lake)
        return time.monotonic() - t, p

    def copy(self, src, name):
        dst = os.path.join(self.work, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)
        return dst

    def verify(self, lake, where, runs=True):
        p = self.fiche(["verify"], lake=lake, check=False)
        if p.returncode != 0:
            raise Problem(f"{where}: fiche verify failed: {(p.stdout + p.stderr).strip()[-300:]}")
        if not runs:
            return
        p = self.fiche(["runs", "--json"], lake=lake, check=False)
        if p.returncode != 0:
            raise Problem(f"{where}: the run log is unreadable: {p.stderr.strip()[-300:]}")

    # -- the lakes every operation starts from

    def setup_lakes(self):
        w = self.work
        self.a_csv, self.b_csv = os.path.join(w, "padchest_a.csv"), os.path.join(w, "padchest_b.csv")
        a_ids = padchest_file(self.a_csv, 600, 11, bad=4, duplicates=4)
        padchest_file(self.b_csv, 600, 12, earlier_ids=a_ids, bad=6, duplicates=8)
        # L0: a synthetic clinic, a PadChest file, built (so the key registry exists).
        l0 = os.path.join(w, "L0")
        self.fiche(["generate", "--patients", "150", "--seed", "3"], lake=l0)
        self.fiche(["ingest", "padchest", self.a_csv], lake=l0)
        self.fiche(["build"], lake=l0)
        # L1: L0 plus a second PadChest file, not yet built.
        l1 = self.copy(l0, "L1")
        self.fiche(["ingest", "padchest", self.b_csv], lake=l1)
        # B1: L1 built.
        b1 = self.copy(l1, "B1")
        self.fiche(["build"], lake=b1)
        self.L0, self.L1, self.B1 = l0, l1, b1

    def reference(self, op, base, argv):
        """An uninterrupted run on a copy of `base`: the states before and after, and its duration."""
        if op in self.refs:
            return self.refs[op]
        lake = self.copy(base, f"ref-{op}")
        before = self.lakes.state(lake)
        seconds, p = self.timed(argv, lake)
        after = self.lakes.state(lake)
        self.refs[op] = (before, after, seconds, p)
        shutil.rmtree(lake)
        return self.refs[op]

    # -- bookkeeping

    def tally(self, name):
        return self.results.setdefault(name, {"trials": 0, "faults": 0, "lost": 0, "duplicated": 0, "inconsistent": 0, "seconds": 0.0})

    def fail(self, name, trial, problem, keep=None):
        t = self.tally(name)
        t["inconsistent"] += 1
        kept = ""
        if keep:
            dst = os.path.join(self.work, f"failed-{name.replace(' ', '-').replace(':', '')}-{trial}")
            if os.path.exists(keep) and keep != dst:
                shutil.move(keep, dst)
                kept = f"; kept {dst}"
            else:
                kept = f"; kept {keep}"
        msg = f"{name} trial {trial} (--seed {self.seed}): {problem}{kept}"
        self.failures.append(msg)
        log("FAILED " + msg)

    def trials(self, op):
        return self.args.op_trials.get(op, self.args.trials)

    def trial_rng(self, name, trial):
        return random.Random(f"{self.seed}:{name}:{trial}")

    # -- lake writers SIGKILLed

    def lake_op(self, op):
        argv, base, rerun_always = {
            "ingest": (["ingest", "padchest", "--json", self.b_csv], self.L0, True),
            "generate": (["generate", "--days", "4"], self.L0, False),
            "build": (["build"], self.L1, True),
            "vacuum": (["vacuum", "--retain", "0"], None, True),
        }[op]
        if op == "vacuum":
            base = self.vacuum_base()
        before, after, seconds, _ = self.reference(op, base, argv)
        if op == "vacuum" and before != after:
            raise Problem(f"vacuum changed the lake's content: {before} != {after}")
        name = f"{op}: SIGKILL"
        t = self.tally(name)
        for trial in range(self.trials(op)):
            rng = self.trial_rng(name, trial)
            lake = self.copy(base, "trial")
            start = time.monotonic()
            t["trials"] += 1
            try:
                p = self.spawn(argv, lake=lake)
                time.sleep(rng.uniform(0, seconds * 1.1))
                killed = p.poll() is None
                if killed:
                    p.send_signal(signal.SIGKILL)
                    t["faults"] += 1
                _, err = p.communicate(timeout=600)
                if not killed and p.returncode != 0:
                    raise Problem(f"the uninterrupted run exited {p.returncode}: {err.strip()[-300:]}")
                self.verify(lake, "after the kill", runs=False)
                where = classify(self.lakes.state(lake), before, after, "after the kill",
                                 first=is_registry if op == "build" else None)
                if rerun_always or where == "before":
                    r = self.fiche(argv, lake=lake, check=False)
                    if r.returncode != 0:
                        raise Problem(f"the rerun exited {r.returncode}: {r.stderr.strip()[-300:]}")
                    if op == "ingest":
                        self.check_ingest_summary(r.stdout)
                self.verify(lake, "after the rerun")
                compare_final(self.lakes.state(lake), after, "after the rerun", t)
                # What the killed run left behind goes, and nothing else.
                self.fiche(["vacuum", "--retain", "0"], lake=lake)
                self.verify(lake, "after vacuum", runs=False)
                compare_final(self.lakes.state(lake), after, "after vacuum", t)
                shutil.rmtree(lake)
            except Problem as e:
                self.fail(name, trial, e, keep=lake)
            t["seconds"] += time.monotonic() - start

    @staticmethod
    def check_ingest_summary(stdout):
        s = json.loads(stdout)
        get = lambda *keys: next(s[k] for k in keys if k in s)
        read, ingested = get("rowsRead", "rows_read"), get("ingested")
        dup, quarantined = get("duplicates"), get("quarantined")
        if read != ingested + dup + quarantined:
            raise Problem(f"the rerun read {read} rows but counts {ingested} ingested + {dup} duplicates + {quarantined} quarantined")

    def vacuum_base(self):
        """L1 built three times, and chunks of writers killed mid-write: much for vacuum to remove."""
        path = os.path.join(self.work, "V")
        if os.path.isdir(path):
            return path
        self.copy(self.L1, "V")
        for _ in range(3):
            self.fiche(["build"], lake=path)
        for delay in (0.15, 0.3):
            p = self.spawn(["generate", "--days", "30"], lake=path)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
        return path

    # -- rebuild and backfill against faults from every side

    def db_setup(self):
        if self.db:
            return
        url = os.environ.get("FICHE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if not url:
            url = subprocess.run([os.path.join(REPO, "scripts/pg-up")], capture_output=True, text=True, check=True).stdout.strip()
        self.db = Database(url)
        self.db.wait_ready()
        cluster = LocalCluster()
        self.cluster = cluster if cluster.owns(url) else None

    def db_op(self, op):
        self.db_setup()
        schema = f"torture_{op}"
        self.db.drop(schema)
        if op == "rebuild":
            lakes = {"P0": self.L0, "P1": self.L1}
            argv = lambda: ["rebuild"]
        else:
            lakes = {"P0": self.L0, "P1": self.B1}
            argv = lambda: ["publish", "--backfill", self.args.backfill_months]
        url = lambda app: ["--database", self.db.with_app(app), "--schema", schema]
        # References: each warehouse published uninterrupted; a backfill's two states are the
        # live warehouse with those months from P1 (X) and from P0 again (Y).
        sigs, durations = {}, []
        if op == "rebuild":
            for state in ("P0", "P1", "P0"):
                lake = self.copy(lakes[state], "ref-db")
                t0 = time.monotonic()
                self.fiche(["rebuild"] + url("torture_ref"), lake=lake)
                durations.append(time.monotonic() - t0)
                sig = self.db.signature(schema)
                if state in sigs and sigs[state] != sig:
                    raise Problem(f"rebuilding {state} twice gave two different warehouses")
                sigs[state] = sig
            order = ["P1", "P0"]
        else:
            self.fiche(["rebuild"] + url("torture_ref"), lake=self.copy(self.L0, "ref-db"))
            for state, src in (("X", "P1"), ("Y", "P0"), ("X", "P1")):
                t0 = time.monotonic()
                self.fiche(argv() + url("torture_ref"), lake=lakes[src])
                durations.append(time.monotonic() - t0)
                sig = self.db.signature(schema)
                if state in sigs and sigs[state] != sig:
                    raise Problem(f"backfilling {state} twice gave two different warehouses")
                sigs[state] = sig
            if sigs["X"] == sigs["Y"]:
                raise Problem(f"the backfill of {self.args.backfill_months} changes nothing; pick months with data")
            lakes = {"X": self.B1, "Y": self.L0}
            order = ["Y", "X"]
        seconds = max(durations)
        live = order[1]  # the last reference run left the live schema here
        for k, fault in enumerate(DB_FAULTS):
            name = f"{op}: {fault}"
            t = self.tally(name)
            if fault == "postgres stopped" and not self.cluster:
                self.notes.append(f"{name}: skipped, the database is not the project-local cluster of scripts/pg-up")
                continue
            for trial in range(self.trials(op)):
                rng = self.trial_rng(name, trial)
                target = order[0] if live == order[1] else order[1]
                lake = self.copy(lakes[target], "trial")
                app = f"torture_{op}_{k}_{trial}"
                start = time.monotonic()
                t["trials"] += 1
                try:
                    if self.db.signature(schema) != sigs[live]:
                        raise Problem(f"the live warehouse is not {live} before the trial")
                    hit = self.db_fault(fault, argv() + url(app), lake, app, rng.uniform(0, seconds * 1.1),
                                        reader=(schema, [sigs[live], sigs[target]]))
                    t["faults"] += hit
                    now = self.db.signature(schema)
                    if now not in (sigs[live], sigs[target]):
                        raise Problem(f"after the fault the live warehouse is neither {live} nor {target}: {self.db_diff(now, sigs[live], sigs[target])}")
                    r = self.fiche(argv() + url(app), lake=lake, check=False)
                    if r.returncode != 0:
                        raise Problem(f"the next run exited {r.returncode}: {r.stderr.strip()[-300:]}")
                    now = self.db.signature(schema)
                    if now != sigs[target]:
                        for tb in WAREHOUSE:
                            got, want = now[tb][0], sigs[target][tb][0]
                            t["lost"] += max(0, want - got)
                            t["duplicated"] += max(0, got - want)
                        raise Problem(f"after the next run the live warehouse is not {target}: {self.db_diff(now, sigs[target])}")
                    live = target
                    shutil.rmtree(lake)
                except Problem as e:
                    self.fail(name, trial, e, keep=lake)
                    self.notes.append(f"{name}: stopped after trial {trial}; schema {schema} left as it was")
                    t["seconds"] += time.monotonic() - start
                    return
                t["seconds"] += time.monotonic() - start
        self.db.drop(schema)

    @staticmethod
    def db_diff(now, *wants):
        if now is None:
            return "no live schema"
        parts = []
        for tb in WAREHOUSE + ["totals"]:
            if all(now.get(tb) != w.get(tb) for w in wants):
                parts.append(f"{tb} {now.get(tb, EMPTY)[0]} rows (" + " or ".join(str(w.get(tb, EMPTY)[0]) for w in wants) + ")")
        return ", ".join(parts[:5]) or "row hashes differ"

    def db_fault(self, fault, argv, lake, app, delay, reader):
        """Runs fiche with one fault after `delay` seconds; returns 1 if the fault met the run.
        Unless PostgreSQL itself is stopped, a reader queries the live schema all along."""
        live = LiveReader(self.db, *reader) if fault != "postgres stopped" else None
        if live:
            live.start()
        p = self.spawn(argv, lake=lake)
        time.sleep(delay)
        hit = 0
        if fault == "client killed":
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                hit = 1
            _, err = p.communicate(timeout=600)
            live.finish()
            if not hit and p.returncode != 0:
                raise Problem(f"the uninterrupted run exited {p.returncode}: {err.strip()[-300:]}")
            return hit
        if fault == "backend terminated":
            # At the first instant after the delay when the run has a backend.
            while p.poll() is None and not hit:
                hit = 1 if self.db.terminate(app) > 0 else 0
                time.sleep(0.01)
            _, err = p.communicate(timeout=600)
            live.finish()
        else:
            port = self.cluster.port()
            running = p.poll() is None
            self.cluster.stop_immediate()
            try:
                _, err = p.communicate(timeout=600)
            finally:
                self.cluster.start(port)
                self.db.wait_ready()
            hit = 1 if running else 0
        if p.returncode not in (0, 1):
            raise Problem(f"fiche ended with status {p.returncode} (a crash?): {err.strip()[-300:]}")
        if p.returncode == 1 and not clear_error(err):
            raise Problem(f"fiche failed without a clear message: {err.strip()[-300:]!r}")
        if p.returncode == 1 and hit == 0:
            raise Problem(f"fiche failed with no fault injected: {err.strip()[-300:]}")
        return hit

    # -- the lake's disk fills up

    def disk_full(self):
        name = "disk-full"
        t = self.tally(name)
        if os.geteuid() != 0:
            self.notes.append("disk-full: skipped, mounting a tmpfs needs root")
            return
        mount = os.path.join(self.work, "disk")
        os.makedirs(mount, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0700", "tmpfs", mount], capture_output=True).returncode != 0:
            self.notes.append("disk-full: skipped, mount -t tmpfs failed")
            return
        try:
            cases = [("ingest", ["ingest", "padchest", self.b_csv], self.L0), ("build", ["build"], self.L1),
                     ("generate", ["generate", "--days", "4"], self.L0)]
            refs = {c: self.reference(c, base, argv)[:2] for c, argv, base in cases}
            for trial in range(self.trials(name)):
                rng = self.trial_rng(name, trial)
                case, argv, base = cases[trial % len(cases)]
                before, after = refs[case]
                lake = os.path.join(mount, "lake")
                start = time.monotonic()
                t["trials"] += 1
                try:
                    subprocess.run(["mount", "-o", "remount,size=256m", mount], check=True)
                    shutil.rmtree(lake, ignore_errors=True)
                    shutil.copytree(base, lake, symlinks=True)
                    # Room for a random part of what the run writes (measured on tmpfs pages).
                    st = os.statvfs(mount)
                    used = (st.f_blocks - st.f_bfree) * st.f_frsize
                    need = self.disk_need(case, argv, base)
                    size = used + int(rng.uniform(0, need)) // 4096 * 4096 + 4096
                    subprocess.run(["mount", "-o", f"remount,size={size}", mount], check=True)
                    r = self.fiche(argv, lake=lake, check=False)
                    full = "No space left on device" in r.stderr
                    if r.returncode == 0:
                        where = classify(self.lakes.state(lake), before, after, "after a run that fitted",
                                         first=is_registry if case == "build" else None)
                        if where != "after":
                            raise Problem("the run succeeded but its commit is not visible")
                    else:
                        if r.returncode != 1 or not full:
                            raise Problem(f"exit {r.returncode} without a clear disk-full error: {r.stderr.strip()[-300:]}")
                        t["faults"] += 1
                        subprocess.run(["mount", "-o", "remount,size=256m", mount], check=True)
                        self.verify(lake, "after the full disk")
                        where = classify(self.lakes.state(lake), before, after, "after the full disk",
                                         first=is_registry if case == "build" else None)
                        if where != "before":
                            raise Problem(f"the run failed ({r.stderr.strip()[-200:]}) but its commit is visible")
                    subprocess.run(["mount", "-o", "remount,size=256m", mount], check=True)
                    if where == "before":
                        self.fiche(argv, lake=lake)
                    self.verify(lake, "after the rerun")
                    compare_final(self.lakes.state(lake), after, "after the rerun", t)
                    last = json.loads(self.fiche(["runs", "--json", "--last", "1"], lake=lake).stdout)
                    if not last or last[-1].get("outcome") != "success":
                        raise Problem(f"the run log does not end with the successful run: {last}")
                except Problem as e:
                    keep = os.path.join(self.work, f"failed-disk-full-{trial}")
                    shutil.copytree(lake, keep, symlinks=True)
                    self.fail(name, trial, f"{case}: {e}", keep=keep)
                t["seconds"] += time.monotonic() - start
        finally:
            subprocess.run(["umount", mount], capture_output=True)

    def disk_need(self, case, argv, base):
        key = "need-" + case
        if key not in self.refs:
            lake = self.copy(base, "measure")
            size = lambda: sum(os.path.getsize(os.path.join(d, f)) + 4096 for d, _, fs in os.walk(lake) for f in fs)
            b = size()
            self.fiche(argv, lake=lake)
            self.refs[key] = size() - b + 8 * 4096
            shutil.rmtree(lake)
        return self.refs[key]

    # -- concurrency

    def two_rebuilds(self):
        self.db_setup()
        name = "two-rebuilds"
        t = self.tally(name)
        schema = "torture_two"
        self.db.drop(schema)
        db = ["--database", self.db.url, "--schema", schema]
        # References: L0 published, then L1 (the registry L1's rebuild leaves in the lake).
        self.fiche(["rebuild"] + db, lake=self.copy(self.L0, "ref-two"))
        p0 = self.db.signature(schema)
        ref = self.copy(self.L1, "ref-two")
        self.fiche(["rebuild"] + db, lake=ref)
        p1, keys = self.db.signature(schema), self.lakes.state(ref)
        for trial in range(self.trials(name)):
            rng = self.trial_rng(name, trial)
            start = time.monotonic()
            t["trials"] += 1
            lake = None
            try:
                self.fiche(["rebuild"] + db, lake=self.copy(self.L0, "reset"))
                if self.db.signature(schema) != p0:
                    raise Problem("rebuilding L0 again did not give its warehouse")
                lake = self.copy(self.L1, "trial")
                reader = LiveReader(self.db, schema, [p0, p1])
                reader.start()
                a = self.spawn(["rebuild"] + db, lake=lake)
                time.sleep(rng.uniform(0, 0.3))
                b = self.spawn(["rebuild"] + db, lake=lake)
                outs = [(x, x.communicate(timeout=600)[1]) for x in (a, b)]
                reader.finish()
                t["faults"] += 1
                for x, err in outs:
                    if x.returncode != 0 and (x.returncode != 1 or not clear_error(err)):
                        raise Problem(f"a rebuild exited {x.returncode}: {err.strip()[-300:]}")
                if all(x.returncode != 0 for x, _ in outs):
                    raise Problem("both rebuilds failed: " + " / ".join(err.strip()[-200:] for _, err in outs))
                now = self.db.signature(schema)
                if now != p1:
                    raise Problem(f"the live warehouse is not L1's: {self.db_diff(now, p1)}")
                self.verify(lake, "after both")
                compare_final(self.lakes.state(lake), keys, "the lake after both rebuilds", t)
                shutil.rmtree(lake)
            except Problem as e:
                self.fail(name, trial, e, keep=lake)
                return
            t["seconds"] += time.monotonic() - start
        self.db.drop(schema)

    def ingest_during_build(self):
        name = "ingest-during-build"
        t = self.tally(name)
        ingest = ["ingest", "padchest", "--json", self.b_csv]
        built = lambda state: {k: v for k, v in state.items() if k in WAREHOUSE or k.startswith("_keys_")}
        w0 = built(self.lakes.state(self.L0))
        ref = self.copy(self.L1, "ref-idb")
        self.fiche(["build"], lake=ref)
        w1_all = self.lakes.state(ref)
        w1 = built(w1_all)
        shutil.rmtree(ref)
        seconds = self.reference("ingest", self.L0, ingest)[2]
        for trial in range(self.trials(name)):
            rng = self.trial_rng(name, trial)
            lake = self.copy(self.L0, "trial")
            start = time.monotonic()
            t["trials"] += 1
            try:
                i = self.spawn(ingest, lake=lake)
                time.sleep(rng.uniform(0, seconds * 0.8))
                overlapped = i.poll() is None
                b = self.fiche(["build"], lake=lake, check=False)
                _, ierr = i.communicate(timeout=600)
                if i.returncode != 0:
                    raise Problem(f"the ingest exited {i.returncode}: {ierr.strip()[-300:]}")
                if b.returncode != 0:
                    raise Problem(f"the build exited {b.returncode}: {b.stderr.strip()[-300:]}")
                t["faults"] += overlapped
                self.verify(lake, "after both")
                # The warehouse and the key registry are L0's build or L1's, whole.
                classify(built(self.lakes.state(lake)), w0, w1, "the build's tables", first=is_registry)
                r = self.fiche(["build"], lake=lake, check=False)
                if r.returncode != 0:
                    raise Problem(f"the next build exited {r.returncode}: {r.stderr.strip()[-300:]}")
                compare_final(self.lakes.state(lake), w1_all, "after the next build", t)
                shutil.rmtree(lake)
            except Problem as e:
                self.fail(name, trial, e, keep=lake)
            t["seconds"] += time.monotonic() - start

    def ingest_during_rebuild(self):
        """The nightly rebuild while an ingest commits: it publishes L0's warehouse or L1's,
        whole, and does not fail its gates over rows committed after its build read the lake."""
        self.db_setup()
        name = "ingest-during-rebuild"
        t = self.tally(name)
        schema = "torture_idr"
        self.db.drop(schema)
        db = ["--database", self.db.url, "--schema", schema]
        sigs = {}
        for state, base in (("L0", self.L0), ("L1", self.L1)):
            lake = self.copy(base, "ref-idr")
            self.fiche(["rebuild"] + db, lake=lake)
            sigs[state] = self.db.signature(schema)
        ingest = ["ingest", "padchest", "--json", self.b_csv]
        seconds = self.reference("ingest", self.L0, ingest)[2]
        for trial in range(self.trials(name)):
            rng = self.trial_rng(name, trial)
            lake = self.copy(self.L0, "trial")
            start = time.monotonic()
            t["trials"] += 1
            try:
                i = self.spawn(ingest, lake=lake)
                time.sleep(rng.uniform(0, seconds * 0.8))
                overlapped = i.poll() is None
                b = self.fiche(["rebuild"] + db, lake=lake, check=False)
                _, ierr = i.communicate(timeout=600)
                if i.returncode != 0:
                    raise Problem(f"the ingest exited {i.returncode}: {ierr.strip()[-300:]}")
                if b.returncode != 0:
                    raise Problem(f"the rebuild exited {b.returncode}: {b.stderr.strip()[-300:]}")
                t["faults"] += overlapped
                now = self.db.signature(schema)
                if now not in (sigs["L0"], sigs["L1"]):
                    raise Problem(f"the live warehouse is neither L0's nor L1's: {self.db_diff(now, sigs['L0'], sigs['L1'])}")
                self.verify(lake, "after both")
                self.fiche(["rebuild"] + db, lake=lake)
                now = self.db.signature(schema)
                if now != sigs["L1"]:
                    for tb in WAREHOUSE:
                        t["lost"] += max(0, sigs["L1"][tb][0] - now[tb][0])
                        t["duplicated"] += max(0, now[tb][0] - sigs["L1"][tb][0])
                    raise Problem(f"the next rebuild did not publish L1's warehouse: {self.db_diff(now, sigs['L1'])}")
                shutil.rmtree(lake)
            except Problem as e:
                self.fail(name, trial, e, keep=lake)
                return
            t["seconds"] += time.monotonic() - start
        self.db.drop(schema)

    def vacuum_during_read(self):
        name = "vacuum-during-read"
        t = self.tally(name)
        base = os.path.join(self.work, "S")
        if not os.path.isdir(base):
            self.fiche(["generate", "--patients", "150", "--seed", "5"], lake=base)
            self.fiche(["generate", "--days", "20"], lake=base)
            self.fiche(["generate", "--days", "20"], lake=base)
        old = self.fiche(["dump", "encounters", "--format", "csv"], lake=base).stdout
        new_lake = self.copy(base, "ref-vdr")
        replace = ["generate", "--replace", "--patients", "150", "--seed", "6"]
        self.fiche(replace, lake=new_lake)
        new = self.fiche(["dump", "encounters", "--format", "csv"], lake=new_lake).stdout
        digest = lambda text: hashlib.sha256("\n".join(sorted(text.splitlines())).encode()).hexdigest()
        old_h, new_h = digest(old), digest(new)
        for trial in range(self.trials(name)):
            rng = self.trial_rng(name, trial)
            lake = self.copy(base, "trial")
            start = time.monotonic()
            t["trials"] += 1
            try:
                # The reader opens its snapshot and blocks on a full pipe after its first bytes.
                reader = self.spawn(["dump", "encounters", "--format", "csv"], lake=lake, stdout=subprocess.PIPE, text=False)
                first = os.read(reader.stdout.fileno(), rng.randint(1, 4096))  # unbuffered: communicate() reads the fd
                self.fiche(replace, lake=lake)
                v = self.fiche(["vacuum", "--json"], lake=lake)
                removed = len(json.loads(v.stdout)["files"])
                rest, err = reader.communicate(timeout=600)
                err = err.decode(errors="replace")
                t["faults"] += 1
                if reader.returncode != 0:
                    raise Problem(f"the reader failed after the replace and vacuum (removed {removed} files): {err.strip()[-300:]}")
                got = digest((first + rest).decode())
                if got != old_h:
                    raise Problem("the reader's rows are " + ("the new table's" if got == new_h else "neither the old nor the new table's"))
                self.verify(lake, "after the read")
                if digest(self.fiche(["dump", "encounters", "--format", "csv"], lake=lake).stdout) != new_h:
                    raise Problem("the table is not the replaced one")
                shutil.rmtree(lake)
            except Problem as e:
                self.fail(name, trial, e, keep=lake)
            t["seconds"] += time.monotonic() - start

    # -- the table

    def table(self):
        rows = [(n, r) for n, r in self.results.items()]
        header = ["operation", "trials", "faults injected", "rows lost", "rows duplicated", "inconsistent states"]
        body = [[n, r["trials"], r["faults"], r["lost"], r["duplicated"], r["inconsistent"]] for n, r in rows]
        total = ["total"] + [sum(r[i] for r in body) for i in range(1, 6)]
        widths = [max(len(str(x[i])) for x in [header] + body + [total]) for i in range(6)]
        fmt = lambda row: "  ".join(str(v).ljust(widths[0]) if i == 0 else str(v).rjust(widths[i]) for i, v in enumerate(row)).rstrip()
        lines = [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in body] + [fmt(total)]
        return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(prog="scripts/torture", description=__doc__.replace(" (run through scripts/torture; see --help)", ""),
                                 epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("operations", nargs="*", metavar="OPERATION", help="which to run (default: all)")
    ap.add_argument("--trials", action="append", default=[], metavar="N or OPERATION=N",
                    help="trials per operation and fault (default 20); OPERATION=N sets one operation's (repeatable)")
    ap.add_argument("--quick", action="store_true", help="the CI mode: 3 trials of each lake operation, 2 of every other operation and fault")
    ap.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    ap.add_argument("--release", action="store_true", help="use (and build) the release fiche")
    ap.add_argument("--fiche", help="the fiche binary to torture (default: the debug build's)")
    ap.add_argument("--work", help="scratch folder (default: a new one in /var/tmp, removed unless something failed)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--backfill-months", default="2012-01..2013-06", help="months the backfill trials replace")
    args = ap.parse_args()
    default, args.op_trials = (2 if args.quick else 20), {}
    if args.quick:  # the cheap lake operations get one more
        args.op_trials = {op: 3 for op in LAKE_KILL_OPS}
    for value in args.trials:
        op, _, n = value.rpartition("=")
        if not n.isdigit() or int(n) < 1 or (op and op not in ALL_OPS):
            ap.error(f"--trials takes N or OPERATION=N with N 1 or more and OPERATION one of {', '.join(ALL_OPS)}; got {value}")
        if op:
            args.op_trials[op] = int(n)
        else:
            default = int(n)
    args.trials = default
    unknown = [o for o in args.operations if o not in ALL_OPS]
    if unknown:
        ap.error(f"unknown operation {', '.join(unknown)}; choose from {', '.join(ALL_OPS)}")
    ops = args.operations or ALL_OPS
    if not args.fiche:
        config = ["-c", "release"] if args.release else []
        if args.release:
            subprocess.run(["swift", "build", "-c", "release", "--product", "fiche"], cwd=REPO, check=True, stdout=sys.stderr)
        bin_path = subprocess.run(["swift", "build", "--show-bin-path"] + config, cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        args.fiche = os.path.join(bin_path, "fiche")
    if not os.access(args.fiche, os.X_OK):
        ap.error(f"no fiche at {args.fiche}: run swift build first")

    # On SIGTERM too, unwind: unmount the tmpfs, leave PostgreSQL running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Torture(args)
    started = time.monotonic()
    counts = ", ".join(f"{o} {t.trials(o)}" for o in ops)
    log(f"torture: trials {counts}; seed {args.seed}; {args.fiche}; scratch {t.work}")
    try:
        t.setup_lakes()
        for op in ops:
            op_start = time.monotonic()
            try:
                if op in LAKE_KILL_OPS:
                    t.lake_op(op)
                elif op in DB_OPS:
                    t.db_op(op)
                elif op == "disk-full":
                    t.disk_full()
                elif op == "two-rebuilds":
                    t.two_rebuilds()
                elif op == "ingest-during-build":
                    t.ingest_during_build()
                elif op == "ingest-during-rebuild":
                    t.ingest_during_rebuild()
                elif op == "vacuum-during-read":
                    t.vacuum_during_read()
            except Problem as e:
                t.fail(op, "setup", e)
            log(f"torture: {op} done in {time.monotonic() - op_start:.1f} s")
    finally:
        pass
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({"seed": args.seed, "seconds": round(elapsed, 1),
                          "operations": [dict(operation=n, **{k: (round(v, 1) if k == "seconds" else v) for k, v in r.items()})
                                         for n, r in t.results.items()],
                          "failures": t.failures, "notes": t.notes}, indent=2))
    else:
        print(t.table())
        for n in t.notes:
            print("note: " + n)
        print(f"{sum(r['trials'] for r in t.results.values())} trials in {elapsed:.0f} s, seed {args.seed}")
    if t.failures:
        for f in t.failures:
            log("FAILED " + f)
        log(f"torture: scratch folder kept: {t.work}")
        sys.exit(1)
    if not args.keep and not args.work:
        shutil.rmtree(t.work, ignore_errors=True)


if __name__ == "__main__":
    main()
