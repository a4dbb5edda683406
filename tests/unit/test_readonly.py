"""The viewer never writes: the file, its time stamp and its folder stay exactly as they were."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from contextlib import closing
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from auditviewer.data import sqlitefile
from auditviewer.data.errors import SourceError
from auditviewer.data.export import export
from auditviewer.data.filters import Filter, Sort, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source
from auditviewer.data.sqlitefile import How, Plan, plan_open, probe
from tests.helpers import journals
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import BASE, api_row

ROWS = [api_row(i, status=(200, 404, 500)[i % 3], method=("GET", "POST")[i % 2]) for i in range(1, 301)]


def _snapshot(path: Path) -> tuple[str, int, list[str]]:
    return (hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns, sorted(os.listdir(path.parent)))


def _use_everything(spec: str | Path, out_dir: Path) -> None:
    """What a session does: open, page, count, chart, facet, export, close."""
    with open_source(spec) as source:
        table = source.log("api")
        for flt in (Filter(), Filter((parse_condition("status>=400"),), search="item")):
            query = LogQuery(table, flt)
            page = query.first(20)
            query.after(page.keys[-1], 20)
            query.last(20)
            query.at(150, 10, total=query.count())
            query.count_capped(50)
            query.key_samples(25)
            query.time_range()
            query.histogram(BASE, BASE + timedelta(hours=6), timedelta(hours=1))
            query.facets("status")
            export(query, "csv", out_dir / "out.csv")
            export(query, "json", out_dir / "out.jsonl")
        LogQuery(table, sort=Sort("url", False)).first(5)


def _assert_untouched(db_path: Path, out_dir: Path) -> None:
    before = _snapshot(db_path)
    _use_everything(db_path, out_dir)
    assert _snapshot(db_path) == before
    for suffix in ("-journal", "-wal", "-shm"):
        assert not db_path.with_name(db_path.name + suffix).exists()


def test_rollback_journal_database_is_untouched(sqlite_db: DbFactory, tmp_path: Path) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS}))
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    _assert_untouched(db_path, out_dir)


def test_wal_database_is_untouched(sqlite_db: DbFactory, tmp_path: Path) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS}))
    writer = sqlite3.connect(db_path)
    assert writer.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    writer.close()
    assert not db_path.with_name(db_path.name + "-wal").exists()
    assert db_path.read_bytes()[18:20] == b"\x02\x02"  # the header says WAL
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    _assert_untouched(db_path, out_dir)


def test_wal_database_with_a_live_writer_shows_its_latest_rows(sqlite_db: DbFactory) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS[:10]}))
    writer = sqlite3.connect(db_path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute(
            "INSERT INTO api_logs (id, date, url, method, status, remote_ip) "
            "VALUES (11, '2025-01-02 00:00:00', '/new', 'PUT', 201, '10.0.0.9')"
        )
        writer.commit()
        before = _snapshot(db_path)
        with open_source(db_path) as source:
            query = LogQuery(source.log("api"), columns=["id", "url"])
            assert query.count() == 11
            assert query.first(1).rows == [(11, "/new")]
        assert _snapshot(db_path) == before
    finally:
        writer.close()


@pytest.mark.parametrize("wal", [False, True], ids=["journal", "wal"])
def test_sqlite_refuses_writes_even_with_query_only_switched_off(sqlite_db: DbFactory, wal: bool) -> None:
    db_path = Path(sqlite_db.create({"api": ROWS[:3]}))
    if wal:
        writer = sqlite3.connect(db_path)
        writer.execute("PRAGMA journal_mode=WAL")
        writer.close()
    before = _snapshot(db_path)
    with open_source(db_path) as source, source.engine.connect() as conn:
        with pytest.raises(sa.exc.OperationalError, match=r"readonly|read-only|query_only"):
            conn.execute(sa.text("DELETE FROM api_logs"))
        conn.rollback()
        # Even with the first guard off, the file is opened read-only.
        conn.exec_driver_sql("PRAGMA query_only = OFF")
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            conn.execute(sa.text("DELETE FROM api_logs"))
    assert _snapshot(db_path) == before


def test_writes_through_the_viewer_fail_on_every_backend(db: DbFactory) -> None:
    spec = db.create({"api": ROWS[:3]})
    with open_source(spec) as source:
        name = f'"{source.schema}".api_logs' if source.schema else "api_logs"
        statements = [
            f"INSERT INTO {name} (id, date, url, method, status, remote_ip) "
            "VALUES (99, '2025-01-01 00:00:00', '/x', 'GET', 200, '10.0.0.1')",
            f"UPDATE {name} SET status = 0",
            f"DELETE FROM {name}",
        ]
        for statement in statements:
            with source.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match=r"(?i)read.?only"):
                conn.execute(sa.text(statement))
                conn.commit()
        query = LogQuery(source.log("api"), sort=Sort("id", False), columns=["id", "status"])
        assert query.first(10).rows == [(r["id"], r["status"]) for r in ROWS[:3]]


# -- every journal state: every committed row, no uncommitted one, nothing touched beside the file ------------

READER = """
import json, sys
from auditviewer.data.filters import Filter, parse_condition
from auditviewer.data.query import LogQuery
from auditviewer.data.source import open_source

with open_source(sys.argv[1]) as source:
    table = source.log("api")
    def count(text=None):
        return LogQuery(table, Filter((parse_condition(text),)) if text else Filter()).count()
    seen = {"rows": count(), "uncommitted": count("url^=/uncommitted/"), "changed": count("url^=/changed/"),
            "notice": getattr(source, "notice", None)}
    folder = str(source.snapshot.folder) if source.snapshot else None
print(json.dumps({**seen, "snapshot_left": bool(folder) and __import__("os").path.exists(folder)}))
"""

#: state -> (builder, rows every reader must see, how it is opened)
STATES = {
    "plain": (journals.build_plain, 1000, How.READ_ONLY),
    "hot-journal": (journals.build_hot_journal, 1000, How.SNAPSHOT),
    "wal-without-shm": (journals.build_wal, 1050, How.SNAPSHOT),
    "wal-with-shm": (partial(journals.build_wal, keep_shm=True), 1050, How.SNAPSHOT),
    "wal-checkpointed": (journals.build_wal_checkpointed, 1000, How.IMMUTABLE),
}


def _read_in_process(db_path: Path) -> dict:
    with open_source(db_path) as source:
        table = source.log("api")

        def count(text: str | None = None) -> int:
            return LogQuery(table, Filter((parse_condition(text),)) if text else Filter()).count()

        seen = {
            "rows": count(),
            "uncommitted": count("url^=/uncommitted/"),
            "changed": count("url^=/changed/"),
            "notice": source.notice,
        }
        folder = source.snapshot.folder if source.snapshot else None
    return {**seen, "snapshot_left": folder is not None and folder.exists()}


def _read_as_ordinary_user(db_path: Path) -> dict:
    prefix = journals.unprivileged_command()
    if prefix is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be tried (root may write anywhere)")
    done = subprocess.run(
        [*prefix, sys.executable, "-c", READER, str(db_path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("folder_kind", ["writable-folder", "read-only-folder"])
@pytest.mark.parametrize("state", list(STATES))
def test_every_committed_row_and_nothing_changes_beside_the_file(state: str, folder_kind: str) -> None:
    build, rows, how = STATES[state]
    with journals.shared_folder() as folder:
        db_path = build(folder)
        before = journals.fingerprint(folder)
        if folder_kind == "writable-folder":
            seen = _read_in_process(db_path)
        else:
            with journals.read_only_folder(folder):
                seen = _read_as_ordinary_user(db_path)
        assert journals.fingerprint(folder) == before
    assert (seen["rows"], seen["uncommitted"], seen["changed"]) == (rows, 0, 0)
    assert not seen["snapshot_left"]
    if how is How.SNAPSHOT:
        assert "read from a private copy" in seen["notice"]
    else:
        assert seen["notice"] is None


def test_the_states_really_are_what_they_claim(tmp_path: Path) -> None:
    """The hot-journal file alone holds uncommitted rows; the WAL file alone lacks the -wal's rows."""
    hot_dir = tmp_path / "hot"
    hot_dir.mkdir()
    _, uncommitted, changed = journals.committed_state(journals.build_hot_journal(hot_dir))
    assert uncommitted > 0 and changed > 0
    wal_dir = tmp_path / "wal"
    wal_dir.mkdir()
    assert journals.committed_state(journals.build_wal(wal_dir))[0] == 1000


@pytest.mark.parametrize(
    ("state", "how", "copied"),
    [
        ("plain", How.READ_ONLY, ()),
        ("hot-journal", How.SNAPSHOT, ("-journal",)),
        ("persisted-journal", How.READ_ONLY, ()),
        ("wal-without-shm", How.SNAPSHOT, ("-wal",)),
        ("wal-with-shm", How.SNAPSHOT, ("-wal",)),
        ("wal-header-only", How.IMMUTABLE, ()),
        ("wal-checkpointed", How.IMMUTABLE, ()),
    ],
)
def test_the_plan_follows_the_files_beside_the_database(
    tmp_path: Path, state: str, how: How, copied: tuple[str, ...]
) -> None:
    """Decided from the files alone, so it holds whoever runs it (root included)."""
    if state == "persisted-journal":  # journal_mode=PERSIST leaves a journal whose header is zeroed
        db_path = journals.build_plain(tmp_path)
        db_path.with_name(db_path.name + "-journal").write_bytes(b"\0" * 512)
    elif state == "wal-header-only":
        db_path = journals.build_wal_checkpointed(tmp_path)
        db_path.with_name(db_path.name + "-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)
    else:
        db_path = STATES[state][0](tmp_path)
    plan = plan_open(db_path)
    assert (plan.how, plan.copy) == (how, copied)
    assert (plan.reason is not None) == (how is How.SNAPSHOT)


def test_a_hot_journal_that_appears_after_planning_still_gets_a_snapshot(tmp_path: Path) -> None:
    db_path = journals.build_hot_journal(tmp_path)
    # SQLite itself refuses a read-only open of a hot journal; the probe turns that into a snapshot.
    assert probe(db_path, Plan(How.READ_ONLY)).how is How.SNAPSHOT


# -- the private snapshot: private, checked, cleaned up ---------------------------------------------------------


def test_the_snapshot_is_private_and_removed_on_close(tmp_path: Path) -> None:
    db_path = journals.build_wal(tmp_path)
    source = open_source(db_path)
    folder = source.snapshot.folder
    assert folder.parent == Path(tempfile.gettempdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert LogQuery(source.log("api")).count() == 1050
    source.close()
    assert not folder.exists()


def test_the_snapshot_is_removed_at_exit_when_the_source_is_never_closed(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    db_path = journals.build_hot_journal(tmp_path / "db")
    temp = tmp_path / "temp"
    temp.mkdir()
    script = (
        "import sys; from auditviewer.data.source import open_source; "
        "source = open_source(sys.argv[1]); print(source.snapshot.folder)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == temp
    assert list(temp.iterdir()) == []


def test_copies_left_by_a_killed_run_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"auditviewer-snapshot-{dead.stdout.strip()}-abc123"
    stale.mkdir()
    (stale / "logs.db").write_bytes(b"old copy")
    ours_alive = tmp_path / f"auditviewer-snapshot-{os.getppid()}-def456"  # a live process's: kept
    ours_alive.mkdir()
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    with open_source(journals.build_wal(db_dir)) as source:
        assert source.snapshot.folder.parent == tmp_path
        assert not stale.exists()
        assert ours_alive.exists()


def test_no_room_for_the_snapshot_is_refused_with_the_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = journals.build_wal(tmp_path)
    before = journals.fingerprint(tmp_path)
    monkeypatch.setattr(sqlitefile.shutil, "disk_usage", lambda _p: SimpleNamespace(total=10**9, used=10**9, free=5000))
    with pytest.raises(
        SourceError,
        match=r"live\.db needs a private copy to be read correctly .* has only "
        r"4\.9 KB free of the .* MB needed; free some space",
    ):
        open_source(db_path)
    assert journals.fingerprint(tmp_path) == before


def test_a_copy_raced_by_a_writer_is_taken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = journals.build_hot_journal(tmp_path)
    real_copy = shutil.copyfile
    calls: list[str] = []

    def copy_while_a_writer_writes(src: Path, dst: Path) -> Path:
        calls.append(Path(src).name)
        result = real_copy(src, dst)
        if len(calls) == 1:  # the writer touches the database just after it was copied, once
            os.utime(db_path, ns=(journals.OLD_TIME_NS + 1, journals.OLD_TIME_NS + 1))
        return result

    monkeypatch.setattr(sqlitefile.shutil, "copyfile", copy_while_a_writer_writes)
    with open_source(db_path) as source:
        assert LogQuery(source.log("api")).count() == 1000
    assert calls == ["crashed.db", "crashed.db-journal", "crashed.db", "crashed.db-journal"]


def test_a_file_that_keeps_changing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = journals.build_wal(tmp_path)
    real_copy = shutil.copyfile
    tick = iter(range(1, 100))

    def copy_while_a_writer_writes(src: Path, dst: Path) -> Path:
        result = real_copy(src, dst)
        stamp = journals.OLD_TIME_NS + next(tick)
        os.utime(db_path, ns=(stamp, stamp))
        return result

    monkeypatch.setattr(sqlitefile.shutil, "copyfile", copy_while_a_writer_writes)
    with pytest.raises(SourceError, match=r"live\.db kept changing while a private copy was made to read it"):
        open_source(db_path)
    assert [p.name for p in Path(tempfile.gettempdir()).glob(f"auditviewer-snapshot-{os.getpid()}-*")] == []


def test_info_and_exports_say_the_file_was_read_from_a_private_copy(tmp_path: Path, capsys) -> None:
    from auditviewer.cli import main

    db_path = journals.build_hot_journal(tmp_path)
    (tmp_path / "out").mkdir()
    assert main(["info", str(db_path)]) == 0
    out, _err = capsys.readouterr()
    assert "rows:     1,000" in out
    assert (
        "note: crashed.db is read from a private copy, because its writer stopped mid-transaction (see "
        "crashed.db-journal), and only committed rows are shown."
    ) in out
    assert main(["info", str(db_path), "--json"]) == 0
    assert "private copy" in json.loads(capsys.readouterr().out)["notice"]
    assert main(["export", str(db_path), "--log", "api", "--format", "csv", "-o", str(tmp_path / "out" / "x.csv")]) == 0
    assert "note: crashed.db is read from a private copy" in capsys.readouterr().err


def test_a_wal_file_written_to_after_it_was_opened_is_not_read_as_if_unchanged(tmp_path: Path) -> None:
    """Read as immutable (nothing in its -wal), the file must stay so: a writer that starts later is noticed
    by each new connection instead of being read half-way."""
    db_path = journals.build_wal_checkpointed(tmp_path)
    with open_source(db_path) as source:
        assert LogQuery(source.log("api")).count() == 1000
        with closing(sqlite3.connect(db_path)) as writer, writer:
            writer.execute("PRAGMA wal_autocheckpoint=0")
            writer.execute(
                "INSERT INTO api_logs (id, date, url, method, status, remote_ip) "
                "VALUES (5000, '2025-01-02 00:00:00', '/new', 'GET', 200, '10.0.0.1')"
            )
        source.engine.dispose()  # the next query needs a new connection
        with pytest.raises(
            SourceError,
            match=r"exported\.db changed after it was opened \(a program is writing "
            r"to it now\): close it and open it again",
        ):
            LogQuery(source.log("api")).count()
    with open_source(db_path) as source:  # opened again: a snapshot with the new row
        assert LogQuery(source.log("api")).count() == 1001
