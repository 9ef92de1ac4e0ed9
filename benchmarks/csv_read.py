"""Reading a CSV of leads: pyarrow (``data/csvread.py``) against pandas, interleaved in one run.

Times the two reads ``prospect score FILE --out OUT`` makes of a leads file
(``data/leads.LeadStream``): the first pass over the id column alone, and every column in
chunks of 50,000 rows (``leads.CHUNK_ROWS``); each by ``tableio.iter_table`` (arrow when it
is sure, issue 16) and by pandas alone (``tableio._pandas_chunks``, what ``iter_table`` did
before), each run in a fresh process, round-robin so that the machine's load hits all alike.
Times are inside the process, from the first call to the last chunk (pandas, and
pyarrow with it, imported before; ``pyarrow.csv``'s import, 2 ms, counted). It checks that
both give the same rows (count and a hash of every cell).

    python benchmarks/csv_read.py --leads /work/perf/leads1m.csv --runs 3

Without ``--leads`` it generates 1,000,000 new leads (``prospect generate --new-leads``)
in a temporary folder first. Writes a Markdown table to ``benchmarks/results/csv_read.md``
(or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# One read in a fresh process: prints its time, its rows and a hash of its cells.
READ = """
import hashlib, json, sys, time
from pathlib import Path
from prospect_predictor.data import tableio  # pandas and pyarrow: imported before timing
start = time.perf_counter()
path, how, columns = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
ids = ["prospect_id"].__contains__ if columns == "id" else None
if how == "arrow":
    frames = tableio.iter_table(path, 50_000, ids)
else:
    frames = tableio._pandas_chunks(path, tableio.detect_delimiter(path), 50_000, ids)
rows, digest = 0, hashlib.sha256()
for frame in frames:
    rows += len(frame)
    if len(sys.argv) > 4:
        import pandas as pd
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows,
                  "hash": digest.hexdigest() if len(sys.argv) > 4 else None}))
"""
CASES = {
    ("pandas", "id"): "id column alone (first pass), pandas",
    ("arrow", "id"): "id column alone (first pass), iter_table (arrow)",
    ("pandas", "all"): "every column, 50,000-row chunks, pandas",
    ("arrow", "all"): "every column, 50,000-row chunks, iter_table (arrow)",
}


def run(leads: Path, how: str, columns: str, check: bool = False) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-c", READ, str(leads), how, columns] + (["check"] if check else [])
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=Path, help="a CSV of leads (default: generate 1M)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "csv_read.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        leads = args.leads
        if leads is None:
            leads = Path(folder) / "leads.csv"
            subprocess.run(
                [sys.executable, "-m", "prospect_predictor", "generate", "--new-leads"]
                + ["--rows", "1000000", "--out", str(leads)],
                env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                check=True,
                capture_output=True,
            )
        load = os.getloadavg()
        for columns in ("id", "all"):  # the same cells both ways, checked once
            same = {how: run(leads, how, columns, check=True) for how in ("pandas", "arrow")}
            if same["pandas"]["rows"] != same["arrow"]["rows"] or (
                same["pandas"]["hash"] != same["arrow"]["hash"]
            ):
                print(f"the two reads differ ({columns}): {same}", file=sys.stderr)
                return 1
        times: dict[tuple[str, str], list[float]] = {case: [] for case in CASES}
        for _ in range(args.runs):
            for how, columns in CASES:
                times[how, columns].append(run(leads, how, columns)["seconds"])
        rows = same["arrow"]["rows"]
        load_after = os.getloadavg()
    lines = [
        "# Reading a CSV of leads: pyarrow against pandas",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `benchmarks/csv_read.py`, {os.cpu_count()} "
        f"cores, load average {load[0]:.2f} at the start and {load_after[0]:.2f} at the end.",
        f"File: `{leads.name}`, {leads.stat().st_size / 1e6:.0f} MB, {rows:,} rows; both "
        "reads gave the same cells (a hash of every chunk).",
        f"Median of {args.runs} runs, each in a fresh process, interleaved; seconds from the "
        "first call to the last chunk.",
        "",
        "| read | median s | runs (s) |",
        "| --- | ---: | --- |",
    ]
    for case, label in CASES.items():
        runs = ", ".join(f"{t:.2f}" for t in times[case])
        lines.append(f"| {label} | {statistics.median(times[case]):.2f} | {runs} |")
    for columns in ("id", "all"):
        ratio = statistics.median(times["pandas", columns]) / statistics.median(
            times["arrow", columns]
        )
        lines.append(f"\n{'id column' if columns == 'id' else 'every column'}: {ratio:.1f}× faster")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
