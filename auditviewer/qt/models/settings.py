"""What the window remembers between runs, in QSettings, and where user files live.

One place knows the keys, so nothing else spells them. Passwords never get
here: every source is stored through :func:`auditviewer.data.secrets.source_key`,
and the source keys saved views are filed under come from ``Source.key``
(masked by the same function).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings, QStandardPaths

from auditviewer import APP_NAME, ORG_NAME, __version__
from auditviewer.data.outfile import atomic_output
from auditviewer.data.secrets import source_key
from auditviewer.data.views import MAX_VIEWS, SavedView, ViewFile

log = logging.getLogger(__name__)

MAX_RECENT = 10
_RECENT = "sources/recent"
_LAST_FOLDER = "sources/lastFolder"
_UTC = "view/utc"
_VIEWS = "views/bySource"
_GEOMETRY = "window/geometry"
_TIMELINE_COLLAPSED = "view/timelineCollapsed"
_OVERVIEW_RULES = "overview/rules"
_STATE = "window/state"
#: Shared with the log tab, which saves its header state under this key.
COLUMN_STATE_KEY = "columns/{log}"
#: The saved views as last read or written: the setting's text, and the views parsed from it by source.
_views_read: dict[str, Any] = {}


def _unsuffixed(name: str) -> str:
    """A view's name without the " (2)" an import added to keep it apart from another."""
    match = re.fullmatch(r"(.+) \((\d+)\)", name)
    return match.group(1) if match else name


def set_application_names() -> None:
    """Name the program so settings and data folders land in its own place (unless already named)."""
    if not QCoreApplication.organizationName():
        QCoreApplication.setOrganizationName(ORG_NAME)
    if not QCoreApplication.applicationName():
        QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)


def user_data_dir() -> Path:
    """The per-user folder for the demo database and the logs (created on demand)."""
    path = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
    path.mkdir(parents=True, exist_ok=True)
    return path


def demo_path() -> Path:
    return user_data_dir() / "demo.db"


def log_dir() -> Path:
    path = user_data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _to_bytes(value: Any) -> bytes | None:
    if isinstance(value, QByteArray):
        return bytes(value.data()) or None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value) or None
    return None


class Settings:
    """Typed access to the user's settings. Cheap to make; reads QSettings each time."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings

    @property
    def qsettings(self) -> QSettings:
        return self._settings if self._settings is not None else QSettings()

    def _json(self, key: str, default: Any) -> Any:
        text = self.qsettings.value(key)
        if not text:
            return default
        try:
            return json.loads(str(text))
        except json.JSONDecodeError:
            log.warning("setting %s is not valid JSON; ignoring it", key)
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, json.dumps(value, ensure_ascii=False))

    # -- recent sources ------------------------------------------------------------------

    def recent_sources(self) -> list[str]:
        items = self._json(_RECENT, [])
        return [str(i) for i in items if isinstance(i, str)][:MAX_RECENT] if isinstance(items, list) else []

    def add_recent_source(self, spec: str) -> str:
        """Put the source first in the list; returns the form it was stored in."""
        stored = source_key(spec)
        recent = [s for s in self.recent_sources() if s != stored]
        self._set_json(_RECENT, [stored, *recent][:MAX_RECENT])
        return stored

    def remove_recent_source(self, spec: str) -> None:
        stored = source_key(spec)
        self._set_json(_RECENT, [s for s in self.recent_sources() if s != stored])

    def clear_recent_sources(self) -> None:
        self.qsettings.remove(_RECENT)

    def last_folder(self) -> str:
        value = self.qsettings.value(_LAST_FOLDER, "")
        return str(value) if value and os.path.isdir(str(value)) else ""

    def set_last_folder(self, folder: str) -> None:
        self.qsettings.setValue(_LAST_FOLDER, folder)

    # -- display -------------------------------------------------------------------------------

    def utc(self) -> bool:
        return bool(self.qsettings.value(_UTC, True, type=bool))

    def set_utc(self, utc: bool) -> None:
        self.qsettings.setValue(_UTC, bool(utc))

    def timeline_collapsed(self) -> bool:
        """Whether log tabs show their events-over-time chart folded away."""
        return bool(self.qsettings.value(_TIMELINE_COLLAPSED, False, type=bool))

    def set_timeline_collapsed(self, collapsed: bool) -> None:
        self.qsettings.setValue(_TIMELINE_COLLAPSED, bool(collapsed))

    def overview_rules(self) -> dict[str, Any]:
        """The overview's adjustable rules (burst size and window, business hours), as last set."""
        rules = self._json(_OVERVIEW_RULES, {})
        return rules if isinstance(rules, dict) else {}

    def set_overview_rules(self, rules: dict[str, Any]) -> None:
        self._set_json(_OVERVIEW_RULES, rules)

    def window_geometry(self) -> bytes | None:
        return _to_bytes(self.qsettings.value(_GEOMETRY))

    def set_window_geometry(self, geometry: bytes) -> None:
        self.qsettings.setValue(_GEOMETRY, QByteArray(bytes(geometry)))

    def window_state(self) -> bytes | None:
        return _to_bytes(self.qsettings.value(_STATE))

    def set_window_state(self, state: bytes) -> None:
        self.qsettings.setValue(_STATE, QByteArray(bytes(state)))

    def column_state(self, log_key: str) -> bytes | None:
        """A log type's header layout (the QHeaderView state), shared by every tab of that log."""
        return _to_bytes(self.qsettings.value(COLUMN_STATE_KEY.format(log=log_key)))

    def set_column_state(self, log_key: str, state: bytes) -> None:
        self.qsettings.setValue(COLUMN_STATE_KEY.format(log=log_key), QByteArray(bytes(state)))

    # -- saved views -----------------------------------------------------------------------------

    def _all_views(self) -> dict[str, list[Any]]:
        data = self._json(_VIEWS, {})
        return data if isinstance(data, dict) else {}

    def saved_views(self, source_key: str) -> list[SavedView]:
        """The views saved for a source, by name; a view that no longer reads is skipped.

        Read once per content of the setting: with thousands of views, opening one would
        otherwise parse and check all of them again.
        """
        text = str(self.qsettings.value(_VIEWS) or "")
        if _views_read.get("text") != text:
            _views_read.clear()
            _views_read.update(text=text, sources={})
        sources: dict[str, list[SavedView]] = _views_read["sources"]
        if source_key not in sources:
            views = []
            for item in self._all_views().get(source_key, []):
                try:
                    views.append(SavedView.from_dict(item))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("skipping an unreadable saved view of %s: %s", source_key, exc)
            sources[source_key] = sorted(views, key=lambda v: v.name.casefold())
        return list(sources[source_key])

    def set_saved_views(self, source_key: str, views: list[SavedView]) -> None:
        data = self._all_views()
        if views:
            data[source_key] = [v.to_dict() for v in views]
        else:
            data.pop(source_key, None)
        text = json.dumps(data, ensure_ascii=False)
        self.qsettings.setValue(_VIEWS, text)
        _views_read.clear()
        _views_read.update(text=text, sources={source_key: sorted(views, key=lambda v: v.name.casefold())})

    def saved_view(self, source_key: str, name: str) -> SavedView | None:
        for view in self.saved_views(source_key):
            if view.name == name:
                return view
        return None

    def save_view(self, source_key: str, view: SavedView) -> None:
        """Store a view, replacing one of the same name."""
        views = [v for v in self.saved_views(source_key) if v.name != view.name]
        self.set_saved_views(source_key, [*views, view])

    def rename_view(self, source_key: str, old: str, new: str) -> SavedView:
        new = new.strip()
        if not new:
            raise ValueError("a saved view needs a name")
        views = self.saved_views(source_key)
        if new != old and any(v.name == new for v in views):
            raise ValueError(f"there is already a saved view named {new!r}; choose another name")
        for i, view in enumerate(views):
            if view.name == old:
                views[i] = view.renamed(new)
                self.set_saved_views(source_key, views)
                return views[i]
        raise KeyError(f"no saved view named {old!r}")

    def delete_view(self, source_key: str, name: str) -> None:
        self.set_saved_views(source_key, [v for v in self.saved_views(source_key) if v.name != name])

    def export_views(
        self, source_key: str, path: str | os.PathLike[str], protect: Iterable[str | os.PathLike[str] | None] = ()
    ) -> int:
        """Write the source's saved views to a JSON file; returns how many. Never over a file of ``protect``."""
        views = self.saved_views(source_key)
        with atomic_output(path, encoding="utf-8", protect=protect) as out:
            out.write(ViewFile(views).dumps() + "\n")
        return len(views)

    def import_views(self, source_key: str, path: str | os.PathLike[str]) -> list[SavedView]:
        """Add the views of a JSON file (see :meth:`add_views`).

        The whole file is read and checked first: ValueError (with the reason, naming the first
        wrong view) leaves the saved views as they were.
        """
        return self.add_views(source_key, ViewFile.read(path).views)

    def add_views(self, source_key: str, incoming: list[SavedView]) -> list[SavedView]:
        """Add views to a source's, in one settings write; returns those added, as named.

        A view the source already has is skipped (same content under the same name, or under
        that name with a suffix from an earlier import), so importing a file twice adds nothing;
        a name taken by a different view gets a suffix, "Errors (2)". ValueError, changing
        nothing, when the source would hold more than MAX_VIEWS.
        """
        views = self.saved_views(source_key)
        by_name = {v.name: v for v in views}
        held = {(_unsuffixed(v.name), v.content) for v in views}
        added: list[SavedView] = []
        for view in incoming:
            if by_name.get(view.name) == view or (view.name, view.content) in held:
                continue
            name, n = view.name, 2
            while name in by_name:
                name, n = f"{view.name} ({n})", n + 1
            held.add((view.name, view.content))
            view = view.renamed(name) if name != view.name else view
            by_name[name] = view
            added.append(view)
        if len(views) + len(added) > MAX_VIEWS:
            raise ValueError(
                f"this source has {len(views):,} saved views and the file {len(added):,} new ones; "
                f"a source keeps at most {MAX_VIEWS:,}"
            )
        if added:
            self.set_saved_views(source_key, views + added)
        return added
