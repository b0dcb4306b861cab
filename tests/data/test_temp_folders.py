"""A test session leaves no ``growthlens-*`` folders in the temporary folder (issue "Trust
the input": hundreds of empty ``growthlens-duckdb-*`` folders were left after a test run).

``test_trust_input.py::test_engine_folders_are_removed_when_the_process_ends`` checks one
process and one clean load. This runs a whole pytest session over the hostile corpus (loads
that fail in every reader: zips, gzips, Parquet, SQLite, Excel, bad CSV and configs, and
the CLI) and a short CSV fuzz, in a child process whose temporary folder is a fresh one, so
that other processes writing to the shared temporary folder cannot disturb the count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_test_session_leaves_no_temporary_folders(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temp),  # tempfile.gettempdir() of the child
        "GROWTHLENS_FUZZ_EXAMPLES": "15",
        "GROWTHLENS_FUZZ_SEED": "",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(temp / "pytest"),
            "tests/data/test_corpus.py",
            "tests/data/test_fuzz_csv.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = run.stdout.strip().splitlines()[-1:] or [run.stderr[-2000:]]
    # 0: all passed, 1: some failed (their own report says which); anything else means the
    # session did not run (a usage or collection error).
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in summary[0] or " failed" in summary[0], summary
    left = sorted(p.name for p in temp.iterdir() if p.name.startswith("growthlens-"))
    assert left == [], f"{len(left)} folders left behind, e.g. {left[:5]} ({summary[0]})"
