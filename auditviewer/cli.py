"""``auditviewer-cli``: look into and export exported log databases from a shell.

Exit codes: 0 done, 2 bad arguments (including a filter that does not fit the
log, a URL parameter the database driver does not take, and an output file that
must not or cannot be written), 1 anything else (a file that is not a database,
a server that is down), 128 + the signal's number when stopped by SIGTERM or
SIGHUP (after removing any half-written file). A reader that closes the pipe
early (``-o - | head``) is a normal end.
Messages go to stderr; data goes to stdout or the output file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from auditviewer import __version__
from auditviewer.data.errors import AuditViewerError, FilterError, OutputError, UrlParameterError
from auditviewer.data.filters import INT_MAX, Filter, Sort, describe, parse_condition
from auditviewer.data.logtypes import LOG_TYPES, LogType, log_type
from auditviewer.data.outfile import check_output, remove_unfinished
from auditviewer.data.report import ReportOptions
from auditviewer.data.secrets import RedactingFormatter, is_url, redact
from auditviewer.data.source import Source, open_source
from auditviewer.data.timestamps import get_zone, parse_duration, parse_user_range, parse_user_time

if TYPE_CHECKING:
    from auditviewer.data.export import PdfWriter
    from auditviewer.data.query import LogQuery

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  auditviewer-cli demo demo.db --rows 100000
  auditviewer-cli info demo.db
  auditviewer-cli export demo.db --log api --where 'status>=500' --last 7d --format csv -o errors.csv
  auditviewer-cli export demo.db --log logins --where login=failed --where 'country!=Poland' \\
      --from 2025-06-01 --to 2025-06-07 --format json -o -
  auditviewer-cli export 'postgresql://reader@db.example.com/logs?schema=acme' --log panel \\
      --search 'Settings/Users' --sort date:asc --columns id,date,email,url --format csv -o users.csv
  auditviewer-cli export demo.db --log api --where 'status>=500' --from 2025-06-01 --to 2025-06-07 \\
      --format pdf --title 'API errors, first week of June' --mask --tz Europe/Warsaw -o errors.pdf
  auditviewer-cli export demo.db --log logins --where login=failed --format xlsx -o failed-logins.xlsx
"""

FILTER_HELP = """\
filter language (--where, repeatable, joined by AND):
  col=v  col!=v  col>v  col>=v  col<v  col<=v   compare (numbers as numbers, dates as dates)
  col=a,b,c   one of       col!=a,b   none of   ("quote" a value that has commas or edge spaces)
  col~text    contains (case-insensitive)       col!~text   does not contain
  col^=text   starts with
  col=        is empty (NULL or '')             col!=       is not empty
  not COND    negates any condition (also !COND)
dates: YYYY-MM-DD (a whole day) or YYYY-MM-DD HH:MM[:SS], UTC unless a zone is given (+02:00, Z)
"""


class UsageError(AuditViewerError):
    """Bad arguments: exit code 2."""


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so half-written files are removed on the way out.

    A BaseException, so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: ``add_parser`` of the subcommands: makes the parser of one command.
AddCommand = Callable[..., argparse.ArgumentParser]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditviewer-cli",
        description="Look into and export exported audit-log databases (SQLite files or "
        "PostgreSQL/MySQL URLs). Never writes to the database.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"auditviewer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (_add_info, _add_export, _add_demo, _add_insights, _add_selftest):
        add_command(commands.add_parser)
    return parser


def _add_info(add: AddCommand) -> None:
    info = add(
        "info",
        help="log types, row counts, business units, date ranges, indexes",
        description="Describe what an exported database holds.",
    )
    info.add_argument("source", help="a SQLite file or a database URL")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_export(add: AddCommand) -> None:
    """``export``: which rows, in which format, where to."""
    export = add(
        "export",
        help="write the rows of one log, filtered and sorted, to CSV, JSON Lines, Excel or PDF",
        description="Stream the filtered rows of one log to a file in constant memory: data (CSV, JSON Lines) "
        "or a report (PDF, Excel) that says what it holds and ties it to the database by SHA-256.",
        epilog=FILTER_HELP + "\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("source", help="a SQLite file or a database URL")
    keys = ", ".join(lt.key for lt in LOG_TYPES)
    export.add_argument("--log", required=True, metavar="TYPE", help=f"the log to export: {keys}")
    export.add_argument(
        "--where", action="append", default=[], metavar="COND", help="a condition in the filter language (repeatable)"
    )
    export.add_argument("--from", dest="time_from", metavar="T", help="from this date/time (inclusive)")
    export.add_argument(
        "--to", dest="time_to", metavar="T", help="up to this date/time (a date includes its whole day)"
    )
    export.add_argument("--last", metavar="SPAN", help="only the last 24h, 7d, 30d ... before the newest row")
    export.add_argument("--search", default="", metavar="TEXT", help="words that must appear in the row")
    export.add_argument("--business-unit", metavar="ID|NAME", help="only this business unit")
    export.add_argument("--sort", default=None, metavar="COL[:asc|desc]", help="sort order (default date:desc)")
    export.add_argument("--columns", metavar="a,b,c", help="columns to write, in this order")
    export.add_argument("--limit", type=int, metavar="N", help="at most N rows")
    export.add_argument(
        "--format",
        required=True,
        choices=["csv", "json", "xlsx", "pdf"],
        help="csv, json (JSON Lines), xlsx (Excel) or pdf (a printable report)",
    )
    export.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="time zone for dates written and typed (default UTC; e.g. Europe/Warsaw, local)",
    )
    export.add_argument("--bom", action="store_true", help="start a CSV with the byte-order mark Excel wants")
    export.add_argument(
        "--excel-safe",
        action="store_true",
        help="csv: put a ' before text cells that begin with = + - @, a tab or a carriage return, "
        "so Excel shows them as text instead of running them as formulas (numbers are "
        "left as they are). Off by default: every cell is written as the database has it",
    )
    _add_report_options(export)
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="output file, or - for stdout")


def _add_report_options(export: argparse.ArgumentParser) -> None:
    """What a report (pdf, xlsx) says and how it looks; --mask hides personal data in every format."""
    export.add_argument("--title", metavar="TEXT", help="report title (pdf, xlsx; default: the log and business unit)")
    export.add_argument(
        "--mask",
        action="store_true",
        help="partly hide personal data: e-mail addresses, phone numbers, IP addresses, names",
    )
    paper = export.add_mutually_exclusive_group()
    paper.add_argument(
        "--landscape",
        dest="orientation",
        action="store_const",
        const="landscape",
        help="pdf: landscape pages (default: landscape only when the columns need it)",
    )
    paper.add_argument(
        "--portrait", dest="orientation", action="store_const", const="portrait", help="pdf: portrait pages"
    )
    export.add_argument("--sign-off", metavar="TEXT", help="pdf: a sign-off line at the end, e.g. 'Prepared by ...'")


def _add_demo(add: AddCommand) -> None:
    demo = add(
        "demo",
        help="create a realistic demo database",
        description="Create a deterministic demo database in the exported format.",
    )
    demo.add_argument("output", help="the SQLite file to create")
    demo.add_argument(
        "--rows",
        type=int,
        default=200_000,
        help="rows of the API log; the other logs are proportional (default 200000)",
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--force", action="store_true", help="replace the file if it exists")


def _add_insights(add: AddCommand) -> None:
    insights = add(
        "insights",
        help="what to look at first: failed-login bursts, new countries, error spikes, failing gateways",
        description="Print the findings of a source's overview, the same as the window's Overview, each with "
        "the export arguments that show the rows behind it.",
    )
    insights.add_argument("source", help="a SQLite file or a database URL")
    insights.add_argument("--json", action="store_true", help="print JSON instead of text")
    insights.add_argument("--from", dest="time_from", metavar="T", help="look from this date/time (inclusive)")
    insights.add_argument(
        "--to", dest="time_to", metavar="T", help="look up to this date/time (a date includes its day)"
    )
    insights.add_argument("--last", metavar="SPAN", help="look at the last 24h, 7d, 30d ... of each log")
    insights.add_argument(
        "--burst-failures", type=int, default=5, metavar="N", help="failed logins that make a burst (default 5)"
    )
    insights.add_argument(
        "--burst-minutes", type=int, default=10, metavar="T", help="... within this many minutes (default 10)"
    )
    insights.add_argument(
        "--business-hours",
        default="7-19",
        metavar="H-H",
        help="business hours, e.g. 8-17 (default 7-19, Monday to Friday)",
    )
    insights.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="time zone of business hours and of dates typed (default UTC)"
    )


def _add_selftest(add: AddCommand) -> None:
    add(
        "selftest",
        help="check that this installation works (offscreen), exit 0 or say what failed",
        description="Open a generated database, query it, render a PDF page and "
        "import every bundled driver; exit 0 when all of it works.",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[handler])
    with _stop_on_signals() as stopped:
        return _run(args, stopped)


def _run(args: argparse.Namespace, stopped: list[int]) -> int:
    source = getattr(args, "source", "") or ""
    run_command = {"info": _info, "export": _export, "insights": _insights, "selftest": _selftest, "demo": _demo}
    try:
        return run_command[args.command](args)
    except Stopped as exc:
        return _interrupted(exc.signum)
    except (UsageError, FilterError, OutputError, UrlParameterError) as exc:
        print(f"auditviewer-cli: error: {redact(str(exc), source)}", file=sys.stderr)
        return 2
    except AuditViewerError as exc:
        if stopped:  # the signal landed inside the database driver, which turned it into an error
            return _interrupted(stopped[0])
        print(f"auditviewer-cli: {redact(str(exc), source)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        remove_unfinished()
        print("auditviewer-cli: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader closed the pipe (``-o - | head``): a normal end. Python's advice: point stdout
        # at devnull, so the interpreter's last flush does not complain about the pipe again.
        _quiet_stdout()
        return 0
    except OSError as exc:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        print(f"auditviewer-cli: {redact(text, source)}", file=sys.stderr)
        return 1
    except Exception:  # a bug: the traceback goes to stderr through the log, passwords hidden
        log.critical("unexpected error", exc_info=True)
        return 1


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[list[int]]:
    """While inside, SIGTERM and SIGHUP raise :class:`Stopped`; yields the signals received.

    Only the main thread can set handlers (a test may call ``main`` from another): elsewhere
    nothing changes. The previous handlers come back at the end.
    """
    received: list[int] = []
    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, _frame: object) -> None:
        if received:
            return  # already on the way out: let the cleanup finish
        received.append(signum)
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, handler) for signum in wanted}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _interrupted(signum: int) -> int:
    remove_unfinished()  # a signal may land before a writer's own cleanup is under way
    print(f"auditviewer-cli: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
    return 128 + signum


def _quiet_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# -- info --------------------------------------------------------------------------


def source_info(source: Source) -> dict[str, Any]:
    """What ``info`` reports, as plain data."""
    from auditviewer.data.query import LogQuery

    logs = []
    for key, table in source.logs.items():
        query = LogQuery(table)
        oldest, newest = query.time_range()
        logs.append(
            {
                "log": key,
                "label": table.log_type.label,
                "table": table.db_name,
                "rows": query.count(),
                "from": oldest.isoformat(sep=" ") if oldest else None,
                "to": newest.isoformat(sep=" ") if newest else None,
                "indexed_columns": [c.name for c in table.columns if c.indexed],
                "missing_optional_columns": [c.name for c in table.log_type.columns if not table.has(c.name)],
                "extra_columns": [c.name for c in table.columns if c.extra],
            }
        )
    return {
        "source": source.display_name,
        "database": source.dialect,
        "notice": source.notice,
        "logs": logs,
        "business_units": [{"id": u.id, "name": u.name} for u in source.business_units],
        "problems": source.problems,
    }


def _info(args: argparse.Namespace) -> int:
    with open_source(args.source) as source:
        info = source_info(source)
    if args.json:
        json.dump(info, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(f"{info['source']} ({info['database']})")
        if info["notice"]:
            print(f"note: {info['notice']}")
        for item in info["logs"]:
            print(f"\n{item['label']} (table {item['table']})")
            print(f"  rows:     {item['rows']:,}")
            print(f"  dates:    {item['from'] or '-'} to {item['to'] or '-'} UTC")
            print(f"  indexes:  {', '.join(item['indexed_columns']) or 'none'}")
            if item["missing_optional_columns"]:
                print(f"  missing optional columns: {', '.join(item['missing_optional_columns'])}")
            if item["extra_columns"]:
                print(f"  extra columns: {', '.join(item['extra_columns'])}")
        if info["business_units"]:
            print("\nBusiness units:")
            for unit in info["business_units"]:
                print(f"  {unit['id']}: {unit['name']}")
        for problem in info["problems"].values():
            print(f"\nproblem: {problem}", file=sys.stderr)
    return 1 if info["problems"] else 0


# -- export --------------------------------------------------------------------------


def resolve_business_unit(source: Source, text: str | None) -> int | None:
    if text is None:
        return None
    for unit in source.business_units:
        if text.strip().lower() == unit.name.lower() or text.strip() == str(unit.id):
            return unit.id
    if text.strip().lstrip("-").isdigit():
        return int(text)
    names = ", ".join(f"{u.id} ({u.name})" for u in source.business_units) or "none in this database"
    raise UsageError(f"no business unit {text!r}; business units: {names}")


def build_filter(source: Source, args: argparse.Namespace, zone: tzinfo) -> Filter:
    conditions = tuple(parse_condition(text) for text in args.where)
    time_from = time_to = None
    last = None
    try:
        if args.time_from:
            time_from, _ = parse_user_time(args.time_from, zone)
        if args.time_to:
            time_to = _end_of(args.time_to, zone)
        if args.last:
            last = parse_duration(args.last)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Filter(conditions, time_from, time_to, last, args.search, resolve_business_unit(source, args.business_unit))


def _end_of(text: str, zone: tzinfo) -> datetime:
    """The exclusive end of ``--to``: a date includes its whole day; 9999-12-31 reaches the end of time."""
    return parse_user_range(text, zone).until


def _export(args: argparse.Namespace) -> int:
    from auditviewer.data.query import LogQuery

    zone, kind, sort = _export_settings(args)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    _check_export_target(args)
    with open_source(args.source) as source:
        _say_notice(source)
        table = source.log(kind.key)
        flt = build_filter(source, args, zone)
        query = LogQuery(table, flt, sort, columns, zone)
        log.info("exporting %s where %s", kind.label, describe(flt, table, zone))
        if args.output == "-":
            _export_to_stdout(query, args, zone)
        else:
            _export_to_file(query, args, zone)
    return 0


def _export_settings(args: argparse.Namespace) -> tuple[tzinfo, LogType, Sort | None]:
    """The time zone, the log type and the sort asked for; UsageError for any that does not read."""
    try:
        zone = get_zone(args.tz)
        kind = log_type(args.log)
        sort = Sort.parse(args.sort) if args.sort else None
    except (KeyError, ValueError) as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    if args.limit is not None and not 0 <= args.limit <= INT_MAX:
        raise UsageError(f"--limit must be zero or more, at most {INT_MAX}")
    return zone, kind, sort


def _check_export_target(args: argparse.Namespace) -> None:
    """Refuse, before anything runs, an output the format cannot go to or that must not be written."""
    if args.format in ("xlsx", "pdf") and args.output == "-":
        raise UsageError(f"a {args.format} file cannot go to stdout; give a file name with -o")
    if args.excel_safe and args.format != "csv":
        raise UsageError("--excel-safe is for CSV only: JSON is never changed, and Excel files hold text as text")
    if args.output != "-":
        # A folder, a read-only file, the database itself (checked again once open).
        check_output(args.output, protect=[] if is_url(args.source) else [args.source])


def _export_to_stdout(query: LogQuery, args: argparse.Namespace, zone: tzinfo) -> None:
    from auditviewer.data.export import export

    export(query, args.format, sys.stdout, zone, limit=args.limit, mask=args.mask, excel_safe=args.excel_safe)
    sys.stdout.flush()


def _export_to_file(query: LogQuery, args: argparse.Namespace, zone: tzinfo) -> None:
    from auditviewer.data.export import export

    options = ReportOptions(
        title=args.title, mask=args.mask, orientation=args.orientation or "auto", sign_off=args.sign_off, zone=zone
    )
    n = export(
        query,
        args.format,
        args.output,
        zone,
        limit=args.limit,
        bom=args.bom,
        mask=args.mask,
        options=options,
        progress=_rows_progress if sys.stderr.isatty() else None,
        excel_safe=args.excel_safe,
        pdf_writer=_pdf_writer() if args.format == "pdf" else None,
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"wrote {n:,} rows to {args.output}", file=sys.stderr)


# -- insights ------------------------------------------------------------------------


def _insights(args: argparse.Namespace) -> int:
    from auditviewer.data.insights import Params, compute_overview
    from auditviewer.data.insights.render import render_text, to_dict

    try:
        start, end = (int(hour) for hour in args.business_hours.split("-"))
    except ValueError:
        raise UsageError(f"--business-hours takes two hours, e.g. 8-17; {args.business_hours!r} is not") from None
    try:
        zone = get_zone(args.tz)
        params = Params(
            burst_failures=args.burst_failures,
            burst_minutes=args.burst_minutes,
            business_start=start,
            business_end=end,
            zone=args.tz,
            time_from=parse_user_time(args.time_from, zone)[0] if args.time_from else None,
            time_to=_end_of(args.time_to, zone) if args.time_to else None,
            last=parse_duration(args.last) if args.last else None,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with open_source(args.source) as source:
        _say_notice(source)
        overview = compute_overview(source, params)
    if args.json:
        json.dump(to_dict(overview), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(overview))
    for problem in overview.problems:
        print(f"auditviewer-cli: not looked at: {problem}", file=sys.stderr)
    return 0


def _say_notice(source: Source) -> None:
    if source.notice:
        print(f"auditviewer-cli: note: {source.notice}", file=sys.stderr)


def _pdf_writer() -> PdfWriter:
    """The page renderer (Qt's GUI module, no widgets, no display needed), loaded only for a PDF."""
    from auditviewer.qt.report.painter import write_pdf

    return write_pdf


def _rows_progress(done: int) -> None:
    print(f"\r{done:,} rows written", end="", file=sys.stderr, flush=True)


# -- demo and selftest -------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from auditviewer.data.demo import MAX_ROWS, create_demo

    if not 1 <= args.rows <= MAX_ROWS:
        raise UsageError(f"--rows must be at least 1, and at most {MAX_ROWS:,}")
    if args.seed < 0:
        raise UsageError("--seed must be zero or more")

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done * 100 // max(total, 1):3d}% ({done:,} of {total:,} rows)", end="", file=sys.stderr)

    path = create_demo(args.output, rows=args.rows, seed=args.seed, progress=progress, overwrite=args.force)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"created {path}", file=sys.stderr)
    return 0


def _selftest(_args: argparse.Namespace) -> int:
    from auditviewer import selftest

    return selftest.run()


if __name__ == "__main__":
    sys.exit(main())
