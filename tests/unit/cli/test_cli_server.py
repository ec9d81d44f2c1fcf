"""``graphmem serve`` / ``schema`` load the separate graphmem-api distribution, or say how to."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.cli.server import INSTALL_HINT, graphmem_api
from graphmem.errors import ConfigError


def test_the_server_package_loads_with_its_modules() -> None:
    api = graphmem_api("serve")
    assert api.__name__ == "graphmem_api"
    assert callable(api.server.serve) and "type Query" in api.schema.schema.as_str()


def test_a_missing_server_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "graphmem_api" or m.startswith("graphmem_api.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "graphmem_api", None)  # as if not installed
    with pytest.raises(ConfigError) as err:
        graphmem_api("serve")
    assert "graphmem serve" in str(err.value) and INSTALL_HINT in str(err.value)
    # --help needs nothing of the server
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--graphiql" in result.output


def test_keys_need_only_graphmem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphmem_api", None)
    path = tmp_path / "keys.json"
    made = CliRunner().invoke(app, ["keys", "create", "--file", str(path), "-n", "team-a"])
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(app, ["keys", "list", "--file", str(path)])
    assert "team-a" in listed.output
