"""API key files: hashed at rest, compared in constant time, each mapped to the namespaces it may use.

A key looks like ``gmk.<id>.<secret>``. The key file keeps, per key, its id, namespaces, a random
salt and ``HMAC-SHA256(pepper, salt + secret)``; never the secret. Keys are random 256-bit
tokens, so a fast keyed hash is the right tool (a slow password hash would only slow every
request). The optional pepper (``GRAPHMEM_API_PEPPER``, read by ``serve``) is kept out of the
file, so a leaked key file alone cannot even be checked against guesses.

Key file (JSON)::

    {"version": 1, "keys": [{"id": "team-a", "namespaces": ["team-a"], "read_only": false,
      "salt": "<hex>", "hash": "<hex>", "created_at": "2025-01-01T00:00:00+00:00",
      "description": "..."}]}

``"namespaces": ["*"]`` grants every namespace. Create keys with
``graphmem keys create --file keys.json --namespace team-a`` (prints the key once).

With no key file the server is open (every namespace, no key needed) and ``serve`` refuses to
listen on anything but a loopback address unless told ``allow_open=True``. A key file always
means authentication: one that holds no keys (the last one revoked) refuses every request.
``serve`` watches the file (:class:`KeyFile`), so a key revoked while it runs stops working
within a second, on HTTP and on open websockets alike (MCP over HTTP also ends the key's
streams). A file others than its owner may write is warned about when a server loads it.

The GraphQL server (``graphmem-api``) and MCP over HTTP share this module, and the ``graphmem
keys`` commands write the file, so it lives in graphmem itself and needs nothing beyond the
standard library.

>>> KeyRing([]).open, KeyRing([], required=True).open
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphmem.errors import AccessDenied, ConfigError, InputError
from graphmem.ids import check_namespace

log = logging.getLogger("graphmem.keys")

#: the environment variable holding the key pepper (read only by the entry points)
PEPPER_ENV = "GRAPHMEM_API_PEPPER"
TOKEN_PREFIX = "gmk"
ALL_NAMESPACES = "*"
_KEY_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{32,128}$")


def _digest(pepper: bytes, salt: bytes, secret: str) -> str:
    return hmac.new(pepper, salt + secret.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """One key as stored: no secret, only its salted hash."""

    id: str
    namespaces: tuple[str, ...]
    salt: str
    hash: str
    read_only: bool = False
    created_at: str = ""
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "namespaces": list(self.namespaces),
            "read_only": self.read_only,
            "salt": self.salt,
            "hash": self.hash,
            "created_at": self.created_at,
            "description": self.description,
        }


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id (``None`` on an open server) and what it may touch."""

    key_id: str | None
    #: ``None``: every namespace
    namespaces: frozenset[str] | None
    read_only: bool = False
    default_namespace: str = "default"
    #: the stored key it authenticated with: a websocket session lasts only while it is unchanged
    key: ApiKey | None = field(default=None, repr=False, compare=False)

    def allows(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def check(self, namespace: str, *, write: bool = False) -> str:
        """``namespace`` if this caller may read (or ``write``) it; else :class:`AccessDenied`."""
        if not self.allows(namespace):
            raise AccessDenied(f"this API key has no access to namespace {namespace!r}")
        if write and self.read_only:
            raise AccessDenied("this API key is read-only")
        return namespace


OPEN = Principal(key_id=None, namespaces=None)


@dataclass
class KeyRing:
    """The keys a server accepts. Empty and not ``required``: the server is open."""

    keys: Sequence[ApiKey]
    pepper: bytes = b""
    default_namespace: str = "default"
    #: a key file was given: authenticate even when it holds no keys (then refuse everything)
    required: bool = False
    _by_id: dict[str, ApiKey] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {k.id: k for k in self.keys}
        # Compared against when the id is unknown, so both paths cost one HMAC and one compare.
        self._decoy = ApiKey("decoy", (), secrets.token_hex(16), "0" * 64)

    @property
    def open(self) -> bool:
        return not self._by_id and not self.required

    @property
    def empty(self) -> bool:
        """No key can pass (a key file holding none): every request is refused."""
        return not self._by_id and self.required

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        pepper: bytes = b"",
        default_namespace: str = "default",
    ) -> KeyRing:
        """Read a key file (it always means authentication); a bad file is an
        :class:`InputError` naming the file and field."""
        return cls(
            read_keys(path), pepper=pepper, default_namespace=default_namespace, required=True
        )

    def ring(self) -> KeyRing:
        """The keys in force now (a :class:`KeyFile` re-reads its file; a ring is fixed)."""
        return self

    def current(self, principal: Principal) -> bool:
        """Whether ``principal`` still holds: its key is still in the ring, unchanged."""
        if principal.key is None:
            return self.open
        return self._by_id.get(principal.key.id) == principal.key

    def authenticate(self, token: str | None) -> Principal | None:
        """The caller a key belongs to; ``None`` when the key is missing or wrong."""
        if self.open:
            return Principal(None, None, default_namespace=self.default_namespace)
        if not token:
            return None
        parts = token.strip().split(".", 2)
        ok_shape = len(parts) == 3 and parts[0] == TOKEN_PREFIX
        key = self._by_id.get(parts[1]) if ok_shape else None
        stored = key or self._decoy
        secret = parts[2] if ok_shape else token
        try:
            salt = bytes.fromhex(stored.salt)
        except ValueError:
            return None
        candidate = _digest(self.pepper, salt, secret)
        if not hmac.compare_digest(candidate, stored.hash) or key is None:
            return None
        names = None if ALL_NAMESPACES in key.namespaces else frozenset(key.namespaces)
        default = key.namespaces[0] if names else self.default_namespace
        return Principal(key.id, names, read_only=key.read_only, default_namespace=default, key=key)


class KeyFile:
    """A key file watched while a server runs: re-read when it changes, so revoking a key (or
    adding one) takes effect without a restart.

    Each use looks at the file's status at most every ``interval`` seconds (one ``stat``) and
    re-reads it when its inode, size or modification time moved (``write_keys`` replaces it
    atomically, so a reader never sees half a file). A file that disappears or turns invalid
    refuses every key until it is fixed: failing closed, never open.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        pepper: bytes = b"",
        default_namespace: str = "default",
        interval: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.pepper, self.default_namespace, self.interval = pepper, default_namespace, interval
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._stamp = self._status()
        self._ring = KeyRing.load(self.path, pepper=pepper, default_namespace=default_namespace)

    def _status(self) -> tuple[int, int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def ring(self) -> KeyRing:
        """The keys in the file now (re-read when it changed since the last look)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._ring
        with self._lock:
            self._checked = now
            stamp = self._status()
            if stamp == self._stamp:
                return self._ring
            self._stamp = stamp
            try:
                ring = KeyRing.load(
                    self.path, pepper=self.pepper, default_namespace=self.default_namespace
                )
                if stamp is None:
                    raise InputError("the key file is gone", path=str(self.path))
            except (InputError, OSError) as exc:
                log.error("key file unusable, refusing every key until it is fixed: %s", exc)
                ring = KeyRing([], pepper=self.pepper, required=True)
            else:
                log.info(
                    "key file reloaded",
                    extra={"fields": {"keys_file": str(self.path), "keys": len(ring.keys)}},
                )
            self._ring = ring
            return ring

    @property
    def open(self) -> bool:
        return False  # a key file always means authentication

    @property
    def empty(self) -> bool:
        return self.ring().empty

    def authenticate(self, token: str | None) -> Principal | None:
        """As :meth:`KeyRing.authenticate`, against the file as it is now."""
        return self.ring().authenticate(token)

    def current(self, principal: Principal) -> bool:
        """As :meth:`KeyRing.current`, against the file as it is now."""
        return self.ring().current(principal)


# ------------------------------------------------------------------------------- the key file


def read_keys(path: str | os.PathLike[str]) -> list[ApiKey]:
    """The keys in a key file (an absent file holds none)."""
    p = Path(path)
    if not p.exists():
        return []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a JSON key file: {exc}", path=str(p)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise InputError('expected {"version": 1, "keys": [...]}', path=str(p), field="keys")
    keys: list[ApiKey] = []
    seen: set[str] = set()
    for i, item in enumerate(data["keys"]):
        where = f"keys[{i}]"
        if not isinstance(item, dict):
            raise InputError("each key must be an object", path=str(p), field=where)
        key_id = item.get("id")
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise InputError("id must be 1-64 of A-Z a-z 0-9 -", path=str(p), field=f"{where}.id")
        if key_id in seen:
            raise InputError(f"duplicate key id {key_id!r}", path=str(p), field=f"{where}.id")
        seen.add(key_id)
        namespaces = item.get("namespaces")
        if not isinstance(namespaces, list) or not namespaces:
            raise InputError(
                "namespaces must be a non-empty list", path=str(p), field=f"{where}.namespaces"
            )
        for ns in namespaces:
            if ns != ALL_NAMESPACES:
                try:
                    check_namespace(ns if isinstance(ns, str) else "")
                except ValueError as exc:
                    raise InputError(str(exc), path=str(p), field=f"{where}.namespaces") from exc
        for name in ("salt", "hash"):
            value = item.get(name)
            if not isinstance(value, str) or not _HEX.match(value):
                raise InputError("must be lowercase hex", path=str(p), field=f"{where}.{name}")
        keys.append(
            ApiKey(
                id=key_id,
                namespaces=tuple(namespaces),
                salt=item["salt"],
                hash=item["hash"],
                read_only=bool(item.get("read_only", False)),
                created_at=str(item.get("created_at", "")),
                description=item.get("description"),
            )
        )
    return keys


def write_keys(path: str | os.PathLike[str], keys: Iterable[ApiKey]) -> None:
    """Replace the key file atomically, readable by its owner only."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"version": 1, "keys": [k.to_json() for k in keys]}, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_key(
    path: str | os.PathLike[str],
    namespaces: Sequence[str],
    *,
    key_id: str | None = None,
    read_only: bool = False,
    description: str | None = None,
    pepper: bytes = b"",
) -> str:
    """Add a key to the key file and return its token (shown once; only its hash is kept).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "keys.json")
    >>> token = create_key(path, ["team-a"], key_id="a")
    >>> KeyRing.load(path).authenticate(token).namespaces
    frozenset({'team-a'})
    """
    if not namespaces:
        raise ConfigError("a key needs at least one namespace ('*' for all)")
    for ns in namespaces:
        if ns != ALL_NAMESPACES:
            try:
                check_namespace(ns)
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
    keys = read_keys(path)
    key_id = key_id or secrets.token_hex(4)
    if not _KEY_ID.match(key_id):
        raise ConfigError(f"invalid key id {key_id!r}: use 1-64 of A-Z a-z 0-9 -")
    if any(k.id == key_id for k in keys):
        raise ConfigError(f"key id {key_id!r} already exists in {path}")
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    keys.append(
        ApiKey(
            id=key_id,
            namespaces=tuple(namespaces),
            salt=salt.hex(),
            hash=_digest(pepper, salt, secret),
            read_only=read_only,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            description=description,
        )
    )
    write_keys(path, keys)
    return f"{TOKEN_PREFIX}.{key_id}.{secret}"


def revoke_key(path: str | os.PathLike[str], key_id: str) -> bool:
    """Remove a key; ``False`` if there was none with that id."""
    keys = read_keys(path)
    kept = [k for k in keys if k.id != key_id]
    if len(kept) == len(keys):
        return False
    write_keys(path, kept)
    return True


def token_from_headers(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (raw ASGI headers)."""
    for name, value in headers:
        lname = name.lower()
        if lname == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                return rest.strip()
        elif lname == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
    return None


def is_loopback(host: str) -> bool:
    """``True`` for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def writable_by_others(path: str | os.PathLike[str]) -> str | None:
    """A warning when others than the key file's owner may write it (they could add a key
    of their own), else ``None``. ``write_keys`` makes files readable by their owner only."""
    mode = Path(path).stat().st_mode
    if not mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    who = "every user" if mode & stat.S_IWOTH else "its group"
    return (
        f"key file {path} is writable by {who} (mode {stat.S_IMODE(mode):o}): whoever can "
        f"write it can add a key of their own and read every namespace; run chmod 600 {path}"
    )


def load_keys(
    path: str | os.PathLike[str] | None,
    *,
    default_namespace: str = "default",
    interval: float = 1.0,
) -> KeyRing | KeyFile:
    """The keys of a key file, watched for changes every ``interval`` seconds (``None``: no
    keys, an open server). A key file always means authentication, even an empty one. The pepper
    is read from ``GRAPHMEM_API_PEPPER`` now, at the entry point that calls this."""
    pepper = os.environ.get(PEPPER_ENV, "").encode()
    if path is None:
        return KeyRing([], pepper=pepper, default_namespace=default_namespace)
    if not Path(path).is_file():
        raise ConfigError(
            f"key file {path} not found; create one with "
            f"`graphmem keys create --file {path} --namespace NAME`"
        )
    if (warning := writable_by_others(path)) is not None:
        log.warning(warning)
    return KeyFile(path, pepper=pepper, default_namespace=default_namespace, interval=interval)
