"""Timings of the events-over-time chart and of a source's overview on a big demo database.

    python benchmarks/bench_insights.py [--rows 10000000] [--db benchmarks/data/demo-10000000.db]

The database is generated on first use (a few minutes for ten million API
rows) and never committed. Chart figures are the best of three runs after a
warm-up; the overview runs once per step after a warm-up of the whole.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditviewer.data.cancel import CancelToken
from auditviewer.data.filters import Filter, parse_condition
from auditviewer.data.insights import Params, run_step, steps_for
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from auditviewer.data.timeline import HOUR, compute_timeline
from benchmarks.bench_data import benchmark_parser, best, database


def main() -> int:
    path = database(benchmark_parser(__doc__.splitlines()[0]).parse_args())
    source = open_source(path)
    api = source.log("api")
    print(f"\n{path.name}: api_logs, {LogQuery(api).count():,} rows\n")

    print(f"{'timeline (events over time, stacked by outcome)':58} {'seconds':>8}  buckets  how")
    cases = [
        ("all rows", Filter(), None),
        ("indexed filter: status>=500", Filter((parse_condition("status>=500"),)), None),
        ("indexed filter: remote_ip=91.204.11.5", Filter((parse_condition("remote_ip=91.204.11.5"),)), None),
        ("time only: the last 7 days", Filter(last=timedelta(days=7)), None),
        ("all rows, one bar per hour (the overview's error rate)", Filter(), HOUR),
        ("unindexed filter: method=DELETE (a full scan)", Filter((parse_condition("method=DELETE"),)), None),
    ]
    for name, flt, width in cases:
        seconds, timeline = best(
            lambda f=flt, w=width: compute_timeline(LogQuery(api, f), width=w), runs=1 if "full scan" in name else 3
        )
        print(f"  {name:56} {seconds:8.3f}  {timeline.buckets:7}  {timeline.strategy}")

    print(f"\n{'overview step':58} {'seconds':>8}  findings")
    steps, skipped = steps_for(source)
    params = Params()
    for step in steps:  # warm-up: the page cache, not the first query, is what is measured
        run_step(source, step, params, CancelToken())
    total = 0.0
    for step in steps:
        start = time.perf_counter()
        findings = run_step(source, step, params, CancelToken())
        seconds = time.perf_counter() - start
        total += seconds
        print(f"  {step.title:56} {seconds:8.3f}  {len(findings)}")
    print(f"  {'the whole overview':56} {total:8.3f}")
    for reason in skipped:
        print(f"  skipped: {reason}")
    source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
