"""API keys: hashed at rest, compared in constant time, mapped to namespaces; a checked key file."""

from __future__ import annotations

import hmac
import json
import stat
from pathlib import Path

import pytest

from graphmem.errors import AccessDenied, ConfigError, InputError
from graphmem.keys import KeyRing, create_key, read_keys, revoke_key, token_from_headers


def test_keys_are_stored_hashed_and_authenticate(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token = create_key(path, ["team-a", "shared"], key_id="a", description="ci")
    secret = token.split(".", 2)[2]
    text = path.read_text()
    assert secret not in text and token not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (stored,) = json.loads(text)["keys"]
    assert len(stored["hash"]) == 64 and len(stored["salt"]) == 32

    ring = KeyRing.load(path)
    who = ring.authenticate(token)
    assert who is not None and who.key_id == "a"
    assert who.namespaces == frozenset({"team-a", "shared"}) and who.default_namespace == "team-a"
    for bad in (None, "", token + "x", token[:-1], "gmk.b." + secret, secret, "gmk.a"):
        assert ring.authenticate(bad) is None, bad


def test_same_secret_different_salt(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key(path, ["x"], key_id="one")
    create_key(path, ["x"], key_id="two")
    one, two = read_keys(path)
    assert one.salt != two.salt and one.hash != two.hash


def test_pepper_is_part_of_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token = create_key(path, ["x"], key_id="p", pepper=b"pepper")
    assert KeyRing.load(path, pepper=b"pepper").authenticate(token) is not None
    assert KeyRing.load(path).authenticate(token) is None


def test_comparison_is_constant_time_for_known_and_unknown_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    token = create_key(path, ["x"], key_id="k")
    ring = KeyRing.load(path)
    compared = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    ring.authenticate(token)
    ring.authenticate("gmk.unknown." + token.split(".", 2)[2])
    ring.authenticate("no-shape-at-all")
    assert compared == [(64, 64)] * 3  # one digest comparison whichever way the key is wrong


def test_principals_and_namespaces(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    admin = KeyRing([]).authenticate(None)  # no key file at all: open
    assert admin is not None and admin.namespaces is None and admin.allows("anything")
    assert KeyRing.load(path).authenticate(None) is None  # a key file, even absent, is never open
    ro = create_key(path, ["a"], key_id="ro", read_only=True)
    every = create_key(path, ["*"], key_id="all")
    ring = KeyRing.load(path)
    reader = ring.authenticate(ro)
    assert reader is not None and reader.check("a") == "a"
    with pytest.raises(AccessDenied, match="read-only"):
        reader.check("a", write=True)
    with pytest.raises(AccessDenied, match="'b'"):
        reader.check("b")
    root = ring.authenticate(every)
    assert root is not None and root.namespaces is None and root.check("z", write=True) == "z"
    assert revoke_key(path, "ro") and not revoke_key(path, "ro")
    assert KeyRing.load(path).authenticate(ro) is None


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("{not json", None),
        ('{"keys": {}}', "keys"),
        (
            '{"keys": [{"id": "bad id!", "namespaces": ["a"], "salt": "00", "hash": "00"}]}',
            "keys[0].id",
        ),
        (
            '{"keys": [{"id": "a", "namespaces": [], "salt": "00", "hash": "00"}]}',
            "keys[0].namespaces",
        ),
        (
            '{"keys": [{"id": "a", "namespaces": ["bad ns"], "salt": "00", "hash": "00"}]}',
            "keys[0].namespaces",
        ),
        (
            '{"keys": [{"id": "a", "namespaces": ["a"], "salt": "zz", "hash": "00"}]}',
            "keys[0].salt",
        ),
    ],
)
def test_bad_key_files_name_the_file_and_field(
    tmp_path: Path, content: str, field: str | None
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        KeyRing.load(path)
    assert err.value.path == str(path) and err.value.field == field


def test_create_key_refuses_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key(path, ["a"], key_id="a")
    for namespaces, key_id in (([], None), (["bad ns"], None), (["a"], "a"), (["a"], "bad id")):
        with pytest.raises(ConfigError):
            create_key(path, namespaces, key_id=key_id)
    assert [k.id for k in read_keys(path)] == ["a"]


def test_token_from_headers() -> None:
    assert token_from_headers([(b"authorization", b"Bearer abc")]) == "abc"
    assert token_from_headers([(b"Authorization", b"bearer  abc ")]) == "abc"
    assert token_from_headers([(b"x-api-key", b"xyz")]) == "xyz"
    assert token_from_headers([(b"authorization", b"Basic abc")]) is None
    assert token_from_headers([]) is None
