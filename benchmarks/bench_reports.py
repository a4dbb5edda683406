"""Report and export timings on a big demo database, each with its peak memory.

    python benchmarks/bench_reports.py [--db benchmarks/data/demo-10000000.db] [--cases pdf-10k,csv-1m]

Each case runs in a fresh process, so its peak resident memory (VmHWM from
/proc/self/status) is its own; the baseline is the process after imports and
Qt start-up, before any row is read. The rows are the newest of api_logs with
the columns a tab shows by default, written through the same ``export()``
the CLI and the window use. PDF and Excel reports first count the rows and
compute the SHA-256 of the database file ("prepare"); that is timed apart
from writing, as it does not depend on how many rows the report holds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = {
    "pdf-10k": ("pdf", 10_000),
    "pdf-100k": ("pdf", 100_000),
    "xlsx-1m": ("xlsx", 1_000_000),
    "csv-1m": ("csv", 1_000_000),
}
TARGETS = {"pdf-10k": "< 5 s", "csv-1m": ">= 150,000 rows/s"}
COLUMNS = ["id", "date", "url", "method", "status", "remote_ip"]


def status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run_case(db: Path, fmt: str, rows: int, out_dir: Path) -> dict:
    """In the child process: one export, timed, with its memory."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from auditviewer.data.export import export
    from auditviewer.data.query import LogQuery
    from auditviewer.data.report import ReportOptions, build_report
    from auditviewer.data.source import open_source

    pdf_writer = None
    if fmt == "pdf":
        from auditviewer.qt.report.painter import ensure_gui_app, write_pdf

        ensure_gui_app()
        pdf_writer = write_pdf
    baseline = status_kb("VmRSS")
    target = out_dir / f"bench.{fmt}"
    result: dict = {"format": fmt, "rows": rows}
    with open_source(db) as source:
        query = LogQuery(source.log("api"), columns=COLUMNS)
        report = None
        if fmt in ("pdf", "xlsx"):
            start = time.perf_counter()
            report = build_report(query, ReportOptions(), limit=rows)
            result["prepare_s"] = time.perf_counter() - start
        start = time.perf_counter()
        written = export(query, fmt, target, limit=rows, report=report, pdf_writer=pdf_writer)
        result["write_s"] = time.perf_counter() - start
    result["written"] = written
    result["bytes"] = target.stat().st_size
    result["baseline_mb"] = baseline / 1024
    result["peak_mb"] = status_kb("VmHWM") / 1024
    if fmt == "pdf":
        from pypdf import PdfReader

        result["pages"] = len(PdfReader(target).pages)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks" / "data" / "demo-10000000.db")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "ROWS", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fmt, rows, folder = args.child
        print(json.dumps(run_case(args.db, fmt, int(rows), Path(folder))))
        return 0
    if not args.db.exists():
        print(
            f"{args.db} does not exist: make it with `auditviewer-cli demo {args.db} --rows 10000000`", file=sys.stderr
        )
        return 1
    print(f"database: {args.db} ({args.db.stat().st_size / 1e9:.1f} GB)\n")
    print(
        f"{'case':<10} {'rows':>10} {'prepare':>8} {'write':>8} {'rows/s':>10} {'output':>10} "
        f"{'pages':>6} {'peak RSS':>9} {'baseline':>9}  target"
    )
    for name in args.cases.split(","):
        fmt, rows = CASES[name]
        with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
            done = subprocess.run(
                [sys.executable, __file__, "--db", str(args.db), "--child", fmt, str(rows), folder],
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr}", file=sys.stderr)
            return 1
        r = json.loads(done.stdout.strip().splitlines()[-1])
        prepare = f"{r['prepare_s']:.1f} s" if "prepare_s" in r else "-"
        print(
            f"{name:<10} {r['written']:>10,} {prepare:>8} {r['write_s']:>6.1f} s {r['written'] / r['write_s']:>10,.0f} "
            f"{r['bytes'] / 1e6:>7.1f} MB {r.get('pages', '-'):>6} {r['peak_mb']:>6.0f} MB {r['baseline_mb']:>6.0f} MB"
            f"  {TARGETS.get(name, '')}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
