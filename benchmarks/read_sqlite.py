"""Benchmark: loading a Company X SQLite database, and keyed Parquet tables, before and after.

1. SQLite: the Company X database (``write_challenge_db``, about ``--sessions`` sessions;
   6.16 sessions per conversion at seed 0) written once into
   ``benchmarks/data/companyx-<sessions>/``, then each table read alone (the reader's
   own cost) and ``gl.load`` of the database, each in a fresh process, with each SQLite
   reader: ``sqlite3`` (the standard library, row by row: the reader before) and
   ``adbc`` (ADBC's SQLite driver, Arrow batches built in C: the reader now).
   The run fails unless both give the same row accounting and findings.
2. Keyed tables: the attribution benchmark's Parquet (sessions with ``session_id``,
   orders with ``order_id``; ``python benchmarks/attribution.py`` writes it), loaded with
   ``materialize=False`` (the duplicate policy's window stays in the view: the behaviour
   before) and with the default (the typed, ranked table stored once on DuckDB); then
   three scans of the sessions (count, sessions per source, distinct users).

Each run is a fresh process: wall time, CPU time (user + system, DuckDB's threads
included) and the process's peak RSS.

    python benchmarks/read_sqlite.py [--sessions 1000000] [--keyed 10000000] [--repeat 1]

Prints JSON; docs/benchmarks.md is updated by the lead from it.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from common import DATA, child, machine

SESSIONS_PER_CONVERSION = 6.16  # Company X generator, seed 0

_WRITE = textwrap.dedent(
    """
    import json, sys, time
    from growthlens.demo.challenge import write_challenge_db
    t0 = time.perf_counter()
    truth = write_challenge_db(sys.argv[1], conversions=int(sys.argv[2]), seed=0)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "tables": truth.tables}))
    """
)

_LOAD_SQLITE = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    from growthlens.data import readers
    readers._SQLITE_READER = sys.argv[2]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    ds = gl.load(sys.argv[1])
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    counts = {c.table: [c.loaded, c.accepted, dict(c.excluded_by_reason)]
              for c in ds.quality.counts}
    findings = sorted([f.table, f.check, f.rows] for f in ds.quality.findings)
    print(json.dumps({"load_s": wall, "cpu_s": cpu, "peak_rss_mb": r1.ru_maxrss / 1024,
                      "counts": counts, "findings": findings}))
    """
)

_READ_ONLY = textwrap.dedent(
    """
    import json, resource, sqlite3, sys, tempfile, time
    from pathlib import Path
    from growthlens.data import readers
    from growthlens.data.config import SourceSpec
    from growthlens.engine import connect
    readers._SQLITE_READER = sys.argv[2]
    path = Path(sys.argv[1])
    names = [r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    con, work = connect(), Path(tempfile.mkdtemp())
    ids = lambda headers: {h: "VARCHAR" for h in headers if h.endswith("_id")}
    out = {}
    for name in names:
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        readers.read_spec(con, SourceSpec(path=str(path), table=name), base_dir=work,
                          id_headers=ids, workdir=work)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        out[name] = {"wall_s": time.perf_counter() - t0,
                     "cpu_s": r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime}
    print(json.dumps(out))
    """
)

_LOAD_KEYED = textwrap.dedent(
    """
    import json, resource, sys, time
    import growthlens as gl
    folder, materialize = sys.argv[1], {"lazy": False, "default": None}[sys.argv[2]]
    def clock():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), r.ru_utime + r.ru_stime
    w0, c0 = clock()
    ds = gl.load(sessions=folder + "/sessions.parquet", orders=folder + "/orders.parquet",
                 materialize=materialize)
    w1, c1 = clock()
    s = ds.table("sessions")
    scans = {}
    for name, expr in (("count", s.count()),
                       ("per_source", s.group_by("source").aggregate(n=s.count())),
                       ("users", s.user_id.nunique())):
        a = clock()
        expr.execute()
        b = clock()
        scans[name] = {"wall_s": b[0] - a[0], "cpu_s": b[1] - a[1]}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"load_s": w1 - w0, "load_cpu_s": c1 - c0, "scans": scans,
                      "peak_rss_mb": rss, "sessions": int(s.count().execute())}))
    """
)


def sqlite_runs(sessions: int, repeat: int) -> dict[str, Any]:
    folder = DATA / f"companyx-{sessions}"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "challenge.db"
    record = folder / "generation.json"
    if not db.exists() or not record.exists():
        conversions = round(sessions / SESSIONS_PER_CONVERSION)
        record.write_text(json.dumps(child(_WRITE, str(db), str(conversions))))
    runs: dict[str, list[dict[str, Any]]] = {"sqlite3": [], "adbc": []}
    reads: dict[str, list[dict[str, Any]]] = {"sqlite3": [], "adbc": []}
    for _ in range(repeat):
        for reader in runs:
            reads[reader].append(child(_READ_ONLY, str(db), reader))
            runs[reader].append(child(_LOAD_SQLITE, str(db), reader))
    first = {r: (v[0]["counts"], v[0]["findings"]) for r, v in runs.items()}
    if first["sqlite3"] != first["adbc"]:
        raise SystemExit("the two SQLite readers disagree on the row accounting or findings")
    return {
        "generation": json.loads(record.read_text()),
        "db_bytes": db.stat().st_size,
        "runs": {
            r: [{k: x[k] for k in ("load_s", "cpu_s", "peak_rss_mb")} for x in v]
            for r, v in runs.items()
        },
        "reads": reads,
        "counts": first["adbc"][0],
    }


def keyed_runs(sessions: int, repeat: int) -> dict[str, Any]:
    folder = DATA / f"attribution-{sessions}"
    if not (folder / "sessions.parquet").exists():
        return {"skipped": f"{folder} missing: run benchmarks/attribution.py --sessions {sessions}"}
    runs: dict[str, list[dict[str, Any]]] = {"lazy": [], "default": []}
    for _ in range(repeat):
        for mode in runs:
            runs[mode].append(child(_LOAD_KEYED, str(folder), mode))
    return {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--keyed", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-keyed", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": machine()}
    out["sqlite"] = sqlite_runs(args.sessions, args.repeat)
    if not args.skip_keyed:
        out["keyed"] = keyed_runs(args.keyed, args.repeat)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
