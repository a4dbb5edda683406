"""Importing saved views: a wrong file is refused whole, naming its first wrong view, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from auditviewer import app as app_module
from auditviewer.data.views import MAX_FILE_BYTES, MAX_VIEWS, ConditionState, SavedView, ViewFile
from auditviewer.qt.models.settings import Settings
from auditviewer.qt.widgets import msgbox
from tests.helpers.dbfactory import DbFactory
from tests.unit.logrows import api_row

SOURCE = "/data/acme.db"
GOOD = {
    "name": "Errors",
    "log": "api",
    "conditions": [{"text": "status>=500", "enabled": True}, "method=PUT"],
    "search": "",
    "time_preset": "7d",
    "sort": "date:desc",
    "columns": ["id", "status"],
    "business_unit": 2,
}


def view(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def views_json(*views: Any) -> str:
    return json.dumps({"auditviewer_views": 1, "views": list(views)}, ensure_ascii=False)


BAD_FILES = [
    (
        "a number where a list belongs",
        views_json(view(conditions=5)),
        "view 1 ('Errors'): conditions must be a list of filter conditions, not the number 5",
    ),
    (
        "a condition without text",
        views_json(view(conditions=[{"enabled": True}])),
        "view 1 ('Errors'), condition 1, has no 'text'",
    ),
    (
        "a condition that is not filter text",
        views_json(view(conditions=["status>"])),
        "view 1 ('Errors'), condition 1: 'status>' needs a value after >",
    ),
    (
        "a condition that is a number",
        views_json(view(conditions=[500])),
        "view 1 ('Errors'), condition 1: a condition is filter text such as status>=500, not the number 500",
    ),
    (
        "enabled that is not true or false",
        views_json(view(conditions=[{"text": "status=1", "enabled": "yes"}])),
        "condition 1: enabled must be true or false, not the text 'yes'",
    ),
    (
        "Infinity",
        views_json(view()).replace('"business_unit": 2', '"business_unit": Infinity'),
        "not a views file: it holds Infinity, which is not a JSON number",
    ),
    (
        "NaN",
        views_json(view()).replace('"business_unit": 2', '"business_unit": NaN'),
        "it holds NaN, which is not a JSON number",
    ),
    (
        "deeply nested arrays",
        "[" * 200_000 + "]" * 200_000,
        "not a views file: its lists or objects are nested too deeply",
    ),
    (
        "business_unit 1e308",
        views_json(view(business_unit=1e308)),
        "view 1 ('Errors'): business_unit must be a whole number (a business unit's id), not the number 1e+308",
    ),
    ("business_unit as text", views_json(view(business_unit="2")), "business_unit must be a whole number"),
    ("business_unit past 64 bits", views_json(view(business_unit=2**64)), "business_unit must be a whole number"),
    ("business_unit true", views_json(view(business_unit=True)), "not true"),
    ("a name that is a number", views_json(view(name=5)), "view 1: name must be text, not the number 5"),
    ("an empty name", views_json(view(name="  ")), "view 1 ('  ') has an empty name"),
    ("no log", views_json({"name": "x"}), "view 1 ('x') has no 'log'"),
    (
        "an unknown log type",
        views_json(view(log="emails")),
        "view 1 ('Errors') is for the log 'emails', which is not one of panel, api, sms, logins",
    ),
    (
        "duplicate names",
        views_json(view(), view(name="Other"), view(search="timeout")),
        "view 3 ('Errors') has the same name as view 1; each view in a file needs a name of its own",
    ),
    (
        "a view that is a list",
        views_json(view(), ["Errors", "api"]),
        "view 2 must be an object with a name and a log, not a list",
    ),
    (
        "an unknown time preset",
        views_json(view(time_preset="fortnight")),
        "time_preset 'fortnight' is not one of any, 1h, 24h, 7d, 30d, custom",
    ),
    (
        "a time that is not a time",
        views_json(view(time_preset="custom", time_from="yesterday")),
        "time_from 'yesterday' is not a date and time",
    ),
    ("a sort that is not one", views_json(view(sort="date:up")), "sort direction must be asc or desc"),
    ("columns as text", views_json(view(columns="id,date")), "columns must be a list of column names, not the text"),
    ("a search that is a number", views_json(view(search=5)), "search must be text, not the number 5"),
    (
        "a newer format",
        json.dumps({"auditviewer_views": 2, "views": []}),
        "the file is in views format 2; this version reads format 1",
    ),
    ("not JSON", "{ nope", "not a views file"),
    ("a number", "42", "not a views file: expected a list of views"),
    (
        "the first wrong view among good ones",
        views_json(view(name="a"), view(name="b"), view(name="c", log=3)),
        "view 3 ('c'): log must be text, not the number 3",
    ),
]


@pytest.fixture
def settings() -> Settings:
    settings = Settings(QSettings())
    settings.save_view(SOURCE, SavedView("Mine", "panel", (ConditionState("email~@example.com"),)))
    settings.save_view(SOURCE, SavedView("Errors", "api", (ConditionState("status>=400"),)))
    return settings


@pytest.mark.parametrize(("what", "text", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_wrong_views_file_is_refused_whole_and_changes_nothing(
    settings: Settings, tmp_path: Path, what: str, text: str, message: str
) -> None:
    before, stored = settings.saved_views(SOURCE), settings_text(settings)
    path = tmp_path / "views.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        settings.import_views(SOURCE, path)
    assert message in str(caught.value)
    assert settings.saved_views(SOURCE) == before
    assert settings_text(settings) == stored


def settings_text(settings: Settings) -> str:
    settings.qsettings.sync()
    return Path(settings.qsettings.fileName()).read_text(encoding="utf-8")


def test_files_past_the_caps_are_refused_saying_the_cap(settings: Settings, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(ValueError, match="a views file is at most 10 MB"):
        settings.import_views(SOURCE, big)
    many = tmp_path / "many.json"
    many.write_text(views_json(*(view(name=f"v{i}") for i in range(MAX_VIEWS + 1))), encoding="utf-8")
    with pytest.raises(ValueError, match="the file holds 10,001 views; at most 10,000 can be imported at once"):
        settings.import_views(SOURCE, many)
    assert [v.name for v in settings.saved_views(SOURCE)] == ["Errors", "Mine"]


def test_a_source_keeps_at_most_the_cap(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    path.write_text(views_json(*(view(name=f"v{i}") for i in range(MAX_VIEWS - 1))), encoding="utf-8")
    with pytest.raises(
        ValueError, match="this source has 2 saved views and the file 9,999 new ones; a source keeps at most 10,000"
    ):
        settings.import_views(SOURCE, path)
    assert len(settings.saved_views(SOURCE)) == 2


def test_not_a_file_and_not_utf8_are_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="it is not a file"):
        settings.import_views(SOURCE, tmp_path)
    latin = tmp_path / "latin.json"
    latin.write_bytes(views_json(view(name="Straße")).encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        settings.import_views(SOURCE, latin)


def test_a_good_file_is_added_with_names_kept_apart(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    path.write_text(
        "\ufeff"
        + views_json(
            view(),
            view(name="Mine", log="panel", conditions=[]),
            view(
                name="New",
                business_unit=None,
                time_preset="custom",
                time_from="2025-06-01T00:00:00",
                time_to="2025-06-02T00:00:00",
            ),
        ),
        encoding="utf-8",
    )
    added = settings.import_views(SOURCE, path)
    assert [v.name for v in added] == ["Errors (2)", "Mine (2)", "New"]
    assert added[0].conditions == (ConditionState("status>=500"), ConditionState("method=PUT"))
    assert added[0].business_unit == 2
    assert settings.import_views(SOURCE, path) == []  # the same file again adds nothing
    other = tmp_path / "other.json"
    other.write_text(views_json(view(search="timeout"), view(name="Errors (2)")), encoding="utf-8")
    assert [v.name for v in settings.import_views(SOURCE, other)] == ["Errors (3)"]
    assert [v.name for v in settings.saved_views(SOURCE)] == [
        "Errors",
        "Errors (2)",
        "Errors (3)",
        "Mine",
        "Mine (2)",
        "New",
    ]


def test_an_exported_file_reads_back_the_same(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    settings.export_views(SOURCE, path)
    assert ViewFile.read(path).views == settings.saved_views(SOURCE)


# -- in the window --------------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, sqlite_db: DbFactory):
    window = app_module.create_main_window([sqlite_db.create({"api": [api_row(i) for i in range(1, 6)]})])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def test_the_window_imports_in_the_background_and_lists_the_views(qtbot, window, tmp_path: Path) -> None:
    key = window.sources()[0].key
    path = tmp_path / "views.json"
    path.write_text(views_json(*(view(name=f"View {i}") for i in range(2_000))), encoding="utf-8")
    task = window.import_views(key, path)
    assert task is not None
    qtbot.waitUntil(lambda: window.saved_views.last_imported is not None, timeout=30_000)
    assert len(window.saved_views.last_imported) == 2_000
    assert window.navigation.view_index(key, "View 1999").isValid()
    assert "Imported 2000 saved views from views.json" in window.statusBar().currentMessage()


def test_the_window_names_the_first_wrong_view_and_adds_nothing(qtbot, window, tmp_path: Path) -> None:
    key = window.sources()[0].key
    path = tmp_path / "odd.json"
    path.write_text(views_json(view(name="fine"), view(name="odd", log="emails")), encoding="utf-8")
    shown = len(msgbox.shown)
    window.import_views(key, path)
    qtbot.waitUntil(lambda: len(msgbox.shown) > shown, timeout=10_000)
    message = msgbox.shown[-1].message
    assert message.startswith("odd.json: view 2 ('odd') is for the log 'emails'")
    assert "Nothing was imported" in message
    assert not window.navigation.views_folder_index(key).isValid()
    assert Settings().saved_views(key) == []
