# graphmem: `make demo` and `make test` do all the set-up on a fresh machine (via `make install`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint typecheck pytest schema bench clean

install: $(STAMP)

# Idempotent: re-runs only when the project's dependency files change.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: pip takes the CPU build that lies on this machine's disk.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

demo: install
	$(BIN)/graphmem demo

lint: install
	$(BIN)/ruff check graphmem api tests benchmarks
	$(BIN)/ruff format --check graphmem api tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

schema: install
	$(BIN)/python -m graphmem.api.schema > schema/schema.graphql

bench: install
	$(BIN)/graphmem bench ../shared/bench/musique_train --json artifacts/bench-musique.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
