"""The lifecycle of one fact through the CLI (issue 22): stored, superseded by a later move,
archived by ``graphmem forget``, restored by ``graphmem restore``, each step shown by
``graphmem show``; archived episodes leave ``graphmem search`` and come back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphmem import Memory
from graphmem.embed.local import LocalEmbedder

from support.temporal import temporal_episodes

ROOT = Path(__file__).resolve().parents[3]
EPISODES = temporal_episodes()


def run(store: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "graphmem.cli", *args, "--store", store, "-n", "life"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == code, done.stderr
    return done


def cli(store: str, *args: str, code: int = 0) -> str:
    return run(store, *args, code=code).stdout


def refused(store: str, *args: str, code: int) -> str:
    """What a refused command says (an uncaught exception would exit 1 too, with a traceback)."""
    done = run(store, *args, code=code)
    assert "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())


def steps(out: str) -> list[str]:
    """The event names of ``graphmem show``'s history lines."""
    lines = out.split("history:")[1].splitlines()
    return [line.split()[2] for line in lines if line.strip()]


@pytest.fixture
def store(tmp_path: Path, embedder: LocalEmbedder) -> str:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with Memory(url, embedder=embedder, extractor="nlp") as mem:
        mem.add_episodes(EPISODES, namespace="life")
    return url


def test_one_fact_stored_superseded_archived_restored(store: str, embedder: LocalEmbedder) -> None:
    with Memory(store, embedder=embedder, extractor=None, namespace="life") as mem:
        facts = mem.store.get_facts("life", mem.store.list_ids("life", "fact"))
    lisbon = next(f for f in facts.values() if f.text == "Ada lives in Lisbon")
    assert lisbon.expired_at is not None, "Ada moved to Porto after saying she lives in Lisbon"

    shown = cli(store, "show", lisbon.id)
    assert "Ada lives in Lisbon" in shown and "state: superseded" in shown
    assert steps(shown) == ["stored", "superseded"]

    dry = json.loads(cli(store, "forget", "--policy", "quota:4", "--dry-run"))
    assert dry["dry_run"] and dry["archived"]["fact"] == len(facts) - 4
    assert "state: superseded" in cli(store, "show", lisbon.id)  # a dry run changes nothing

    question = "Where does Ada live?"
    before = cli(store, "search", question)
    done = json.loads(cli(store, "forget", "--policy", "quota:4"))
    assert done["archived"]["fact"] == len(facts) - 4
    shown = cli(store, "show", lisbon.id)
    assert "state: archived" in shown and "forget:quota:4" in shown
    assert steps(shown) == ["stored", "superseded", "archived"]
    assert cli(store, "search", question) != before

    restored = json.loads(cli(store, "restore", "--all-archived"))
    assert restored["restored"] == done["archived"]["fact"] + done["archived"]["episode"]
    shown = cli(store, "show", lisbon.id)
    assert "state: superseded" in shown  # back to what its fields say, not "active"
    assert steps(shown) == ["stored", "superseded", "archived", "restored"]
    assert cli(store, "search", question) == before

    life = json.loads(cli(store, "show", lisbon.id, "--json"))
    assert life["state"] == "superseded" and len(life["events"]) == 4


def test_show_and_restore_refuse_what_they_cannot_do(store: str) -> None:
    assert "no node 'f:nothing'" in refused(store, "show", "f:nothing", code=1)
    assert "--all-archived" in refused(store, "restore", code=2)
    assert "age:3" in refused(store, "forget", "--policy", "age:3", code=2)
