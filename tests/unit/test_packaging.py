"""What a wheel carries: every subpackage of graphmem/ and the Cypher statements of cypher/.

The statements live at the repository's top and ship as the package data ``graphmem.cypher``
(pyproject.toml maps the package onto the folder), so the package list is written out, not
discovered; the first test catches a subpackage missing from it without building anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _source_statements() -> set[str]:
    return {p.relative_to(ROOT / "cypher").as_posix() for p in (ROOT / "cypher").rglob("*.cypher")}


def test_every_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "graphmem").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert config["tool"]["setuptools"]["package-dir"]["graphmem.cypher"] == "cypher"
    assert {"neo4j", "falkordb"} <= {p.split("/")[0] for p in _source_statements()}


@pytest.mark.slow
def test_the_wheel_carries_the_statements(tmp_path: Path) -> None:
    # Built from a copy of what the wheel is made of: no build/ left in the checkout, and no stale
    # file of an earlier build can slip into the wheel.
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("graphmem", "cypher"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path),
            str(src),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("graphmem-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        shipped = {
            n.removeprefix("graphmem/cypher/") for n in names if n.startswith("graphmem/cypher/")
        }
        zf.extractall(tmp_path / "site")
    assert {n for n in shipped if n.endswith(".cypher")} == _source_statements()
    assert not any(n.startswith("cypher/") for n in names), "no top-level cypher package"
    modules = {n for n in names if n.endswith(".py")}
    assert modules == {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "graphmem").rglob("*.py")
    } | {"graphmem/cypher/__init__.py"}
    # The installed copy finds its statements with no checkout beside it.
    probe = (
        "from graphmem.store.cypher import queries\n"
        "print(len(queries.names('neo4j')), queries.load('falkordb', 'get_nodes').name)\n"
        "print(queries._folder())"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout.split("\n")
    count, name = out[0].split()
    assert int(count) == len([s for s in _source_statements() if s.startswith("neo4j/")])
    assert name.endswith("/get_nodes")
    assert str(tmp_path / "site") in out[1]
