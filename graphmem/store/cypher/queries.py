"""Cypher statements, loaded by name from the repository's ``cypher/`` folder (installed as
the package data ``graphmem.cypher``).

Each statement is one file, ``cypher/<dialect>/<name>.cypher``. Its header comment declares the
parameters it takes and the names it is a template over::

    // Upsert passages.
    // @param ns
    // @param rows
    // @template KIND
    UNWIND $rows AS row ...

Values reach the server only as ``$parameters``. Labels, relationship types, property and index
names cannot be parameters in Cypher, so a template names them with placeholders written
``__KIND__`` (a valid identifier, so the file still lints) and :meth:`Statement.render` fills them
only with names that match :data:`NAME_PATTERN`. A dialect other than ``neo4j`` keeps only the
files that differ; the others fall back to ``cypher/neo4j/``.

>>> stmt = Statement("demo", "MATCH (n:__KIND__ {id: $id}) RETURN n", frozenset({"id"}), ("KIND",))
>>> stmt.render(KIND="Passage").text
'MATCH (n:Passage {id: $id}) RETURN n'
>>> stmt.render(KIND="Passage) DETACH DELETE (n")
Traceback (most recent call last):
...
graphmem.errors.InputError: field 'KIND': invalid Cypher name 'Passage) DETACH DELETE (n': use letters, digits and _ (not first)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from graphmem.errors import ConfigError, InputError

#: what a label, relationship type, property or index name may look like
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: the dialect whose files every other dialect falls back to
BASE_DIALECT = "neo4j"
#: dialects with a folder under cypher/
DIALECTS = ("neo4j", "falkordb")

_PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*?)__")
_PARAM_DECL = re.compile(r"^//\s*@param\s+([A-Za-z_][A-Za-z0-9_]*)\b")
_TEMPLATE_DECL = re.compile(r"^//\s*@template\s+([A-Z][A-Z0-9_]*)\b")
_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a safe Cypher identifier, else raise :class:`InputError`."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InputError(
            f"invalid Cypher name {name!r}: use letters, digits and _ (not first)", field=what
        )
    return name


@dataclass(frozen=True)
class Statement:
    """One Cypher statement: its name, text, declared parameters and open template names."""

    name: str
    text: str
    params: frozenset[str]
    templates: tuple[str, ...] = ()

    def render(self, **names: str) -> Statement:
        """Fill the template placeholders with checked names; every placeholder must be given."""
        missing = set(self.templates) - set(names)
        extra = set(names) - set(self.templates)
        if missing or extra:
            raise ConfigError(
                f"statement {self.name}: placeholders {sorted(self.templates)} need values, "
                f"got {sorted(names)}"
            )
        text = self.text
        for key, value in names.items():
            text = text.replace(f"__{key}__", check_name(value, key))
        suffix = ",".join(f"{k}={names[k]}" for k in sorted(names))
        return replace(self, name=f"{self.name}[{suffix}]", text=text, templates=())

    def check_params(self, params: Mapping[str, object]) -> None:
        """Raise :class:`ConfigError` unless ``params`` are exactly the declared ones."""
        if self.templates:
            raise ConfigError(f"statement {self.name} is a template: render it first")
        given = set(params)
        if given != self.params:
            raise ConfigError(
                f"statement {self.name} declares parameters {sorted(self.params)}, "
                f"got {sorted(given)}"
            )


def parse(name: str, source: str) -> Statement:
    """Build a :class:`Statement` from a file's text, checking its header against its body."""
    params: set[str] = set()
    templates: list[str] = []
    body: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if m := _PARAM_DECL.match(stripped):
            params.add(m.group(1))
        elif m := _TEMPLATE_DECL.match(stripped):
            templates.append(m.group(1))
        if not stripped.startswith("//"):
            body.append(line)
    text = "\n".join(body).strip()
    if not text:
        raise ConfigError(f"statement {name} is empty")
    used = set(_PARAM_USE.findall(text))
    if used != params:
        raise ConfigError(
            f"statement {name}: parameters used {sorted(used)} but declared {sorted(params)}"
        )
    placeholders = set(_PLACEHOLDER.findall(text))
    if placeholders != set(templates):
        raise ConfigError(
            f"statement {name}: placeholders used {sorted(placeholders)} "
            f"but declared {sorted(templates)}"
        )
    return Statement(name=name, text=text, params=frozenset(params), templates=tuple(templates))


def _folder() -> Traversable:
    # A source checkout reads cypher/ beside the package (so a worktree reads its own files); an
    # installed wheel reads the same folder shipped as the package data graphmem.cypher.
    checkout = Path(__file__).resolve().parents[3] / "cypher"
    if (checkout / BASE_DIALECT).is_dir():
        return checkout
    return resources.files("graphmem.cypher")


def _read(dialect: str, name: str) -> str | None:
    path = _folder().joinpath(dialect, f"{name}.cypher")
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


@functools.cache
def load(dialect: str, name: str) -> Statement:
    """The statement ``name`` of ``dialect`` (falling back to the neo4j file).

    >>> load("neo4j", "get_nodes").params == frozenset({"ns", "ids"})
    True
    """
    check_name(dialect, "dialect")
    check_name(name, "statement")
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown Cypher dialect {dialect!r}: use one of {DIALECTS}")
    for folder in (dialect, BASE_DIALECT):
        source = _read(folder, name)
        if source is not None:
            return parse(f"{folder}/{name}", source)
    raise ConfigError(f"no Cypher statement named {name!r} in cypher/{dialect}/ or cypher/neo4j/")


def names(dialect: str) -> list[str]:
    """Names of the statement files a dialect has of its own."""
    folder = _folder().joinpath(dialect)
    return sorted(
        p.name.removesuffix(".cypher") for p in folder.iterdir() if p.name.endswith(".cypher")
    )
