"""Names renamed in the room/name redesign: the old ones still work for one release, with a
DeprecationWarning, and mean the same thing as the new ones."""

from __future__ import annotations

import importlib

import pytest

from graphmem.ingest.episodes import EpisodeIngestSettings
from graphmem.memory import Memory
from graphmem.retrieve.episodes import EpisodeSearchSettings
from graphmem.retrieve.passages import PassageSearchSettings


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("graphmem.retrieve.hippo", "HippoSettings", PassageSearchSettings),
        ("graphmem.retrieve.episodic", "EpisodicSettings", EpisodeSearchSettings),
        ("graphmem.ingest.episodes", "EpisodeSettings", EpisodeIngestSettings),
    ],
)
def test_old_class_names_are_deprecated_aliases(module: str, old: str, new: type) -> None:
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=new.__name__):
        assert getattr(mod, old) is new
    with pytest.raises(AttributeError):
        _ = mod.NoSuchName


def test_old_memory_keywords_warn_and_configure_the_same_settings() -> None:
    passage = PassageSearchSettings(fact_top_k=3)
    ingest = EpisodeIngestSettings()
    search = EpisodeSearchSettings(w_ppr=0.0)
    with pytest.warns(DeprecationWarning, match="passage_search"):
        mem = Memory(
            ":memory:", extractor=None, retrieval=passage, episodes=ingest, episodic=search
        )
    assert mem.passage_search is passage
    assert mem.episode_ingest is ingest
    assert mem.episode_search is search
    mem.close()


def test_old_and_new_keyword_together_is_refused() -> None:
    from graphmem.errors import ConfigError

    with pytest.raises(ConfigError, match="not both"):
        Memory(
            ":memory:",
            extractor=None,
            retrieval=PassageSearchSettings(),
            passage_search=PassageSearchSettings(),
        )
