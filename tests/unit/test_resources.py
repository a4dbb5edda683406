"""The resources helper finds icons and styles from a checkout and from an installed copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditviewer.resources import resource_path, resources_dir

ROOT = Path(__file__).resolve().parents[2]


def test_checkout_finds_the_app_icon() -> None:
    icon = resource_path("icons", "app.svg")
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert resources_dir().name in ("resources", "_resources")


def test_a_missing_resource_is_named() -> None:
    with pytest.raises(FileNotFoundError, match=r"icons/nothing\.svg"):
        resource_path("icons", "nothing.svg")


@pytest.mark.slow
def test_a_plain_pip_install_carries_the_resources(tmp_path: Path) -> None:
    """A non-editable install (what users and the bundle get) finds resources inside the package."""
    tree = tmp_path / "tree"  # a copy, so building leaves nothing in the checkout
    for name in ("pyproject.toml", "README.md"):
        tree.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    for folder in ("auditviewer", "resources"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import auditviewer.resources as r; "
        "print(r.resource_path('icons', 'app.svg'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()).is_relative_to(target)


def test_time_zones_are_a_declared_dependency() -> None:
    """zoneinfo finds no zone on Windows without the tzdata package: an install must pull it in."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}
    assert "tzdata" in names
