# 枫桥助手 — every task in one place. `make run` and `make test` do their own set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
# Local settings (copy .env.example to .env); every variable has a default.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' .env)
endif

VENV  := .venv
RVENV := .venv-rasa
PY    := $(VENV)/bin/python
RASA  := $(RVENV)/bin/rasa
MODEL := models/fengqiao.tar.gz
RASA_DATA := --domain bot/domain --data nlu_data bot/rules bot/stories
DIALOGUE_SOURCES := config.yml $(shell find bot nlu_data -type f -not -name '*.pyc' 2>/dev/null)
CLASSIFIER_SOURCES := $(shell find classifier_data/scenarios routing/data/complaints routing/understanding/classifier -type f -not -name '*.pyc' 2>/dev/null)
SAFETY_SOURCES := $(shell find classifier_data/scenarios routing/understanding/safety nlu_data -type f -not -name '*.pyc' -not -name corpus.jsonl -not -name '*.tmp' 2>/dev/null)

.PHONY: help setup run test test-fast lint format train bench bench-rates bench-chaos bench-scaling bench-chaos-rasa db clean browser-deps

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

EMULATOR := tests/e2e/emulator/node_modules/.installed
# Browser libraries the app serves itself (Apache ECharts for the report and /public; gitignored node_modules)
VENDOR := vendor/node_modules/.installed

# The set-up's parts, built in parallel where they do not depend on each other: the Rasa venv and
# the Rasa training run alongside the app venv, the classifier, the danger check's model, ECharts
# and the database (each rule below names what it needs, so make orders the rest). SETUP_JOBS=1
# builds them one after another.
SETUP_PARTS := $(VENV)/.installed $(RVENV)/.installed $(MODEL) models/classifier/.trained models/safety/model.pickle $(VENDOR) db
SETUP_JOBS ?= 4

setup: ## both venvs, trained models, ECharts, migrated and seeded database (independent parts in parallel)
	@$(MAKE) --no-print-directory -j$(SETUP_JOBS) --output-sync=line $(SETUP_PARTS)

$(VENDOR): vendor/package.json
	cd vendor && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	@touch $@

# The Telegram Bot API emulator for the end-to-end tests (npm telegram-test-api, gitignored node_modules)
$(EMULATOR): tests/e2e/emulator/package.json
	cd tests/e2e/emulator && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	@touch $@

# Headless browser tests: Debian's chromium and a CJK font (Playwright never downloads browsers here)
browser-deps:
	@command -v chromium >/dev/null && dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium fonts-wqy-microhei)

$(VENV)/.installed: pyproject.toml
	scripts/make-app-venv $(VENV)
	@touch $@

$(RVENV)/.installed: requirements-rasa.lock
	scripts/make-rasa-venv $(RVENV)
	@touch $@

$(MODEL): $(RVENV)/.installed $(DIALOGUE_SOURCES)
	@mkdir -p models
	$(RASA) train --config config.yml $(RASA_DATA) --out models --fixed-model-name fengqiao
	@touch $@

models/classifier/.trained: $(VENV)/.installed $(CLASSIFIER_SOURCES)
	$(PY) -m fengqiao.cli train-classifier --out models/classifier
	@touch $@

# The danger check's model (routing/understanding/safety): also trained on first use when missing or stale
models/safety/model.pickle: $(VENV)/.installed $(SAFETY_SOURCES)
	$(PY) -m fengqiao.cli train-safety

db: $(VENV)/.installed ## create / migrate the database and load demo data
	$(PY) -m fengqiao.cli db upgrade
	$(PY) -m fengqiao.cli db seed

run: setup ## start Rasa, the action server and the web chat (SQLite)
	$(PY) -m fengqiao.cli run

train: $(RVENV)/.installed ## retrain the dialogue model and the classifier
	$(RASA) train --force --config config.yml $(RASA_DATA) --out models --fixed-model-name fengqiao
	$(PY) -m fengqiao.cli train-classifier --out models/classifier && touch models/classifier/.trained
	$(PY) -m fengqiao.cli train-safety

test: ## data validation, conversation tests, then every pytest layer (SQLite and PostgreSQL)
	@$(MAKE) --no-print-directory -j$(SETUP_JOBS) --output-sync=line $(SETUP_PARTS) $(EMULATOR) browser-deps
	$(RASA) data validate --fail-on-warnings --config config.yml $(RASA_DATA)
	$(RASA) test core --model $(MODEL) --stories tests/conversations --fail-on-prediction-errors --out results/core
	$(PY) -m pytest -q -p no:cacheprovider --durations=25

test-fast: $(VENV)/.installed ## unit and action tests only
	$(PY) -m pytest -q -m "not e2e" tests/unit tests/actions

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .

bench: setup ## reproducible benchmarks (figures in bench/README.md)
	$(PY) bench/run_all.py

# The public page and the report's rates at a million cases (PostgreSQL; bench/rates/README.md)
RATES_BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/fq_rates_bench
bench-rates: setup ## /public at 1,000,000 cases beside a reference query (creates the database if missing)
	createdb -U postgres -h 127.0.0.1 $(notdir $(RATES_BENCH_URL)) 2>/dev/null || true
	DATABASE_URL=$(RATES_BENCH_URL) $(PY) -m fengqiao.cli db upgrade
	$(PY) bench/rates/bench_public.py --url $(RATES_BENCH_URL) --base 50000 --cases 1000000 --out bench/results/rates.json

bench-chaos: setup ## the gateway chaos test at full size: 200 conversations x 8 turns under kill -9 and cut connections
	CHAOS_CONVERSATIONS=200 CHAOS_TURNS=8 CHAOS_TURN_TIMEOUT=300 $(PY) -m pytest -q -p no:cacheprovider tests/e2e/test_gateway_chaos.py

bench-scaling: setup ## 1 vs 2 Rasa processes side by side (PostgreSQL tracker store, Redis lock store)
	$(PY) bench/cluster/scaling.py

bench-chaos-rasa: setup ## full intakes on the cluster profile with the real Rasa: kill -9 of a Rasa, an action server and a gateway
	$(PY) bench/cluster/chaos_rasa.py

clean:
	rm -rf results var/*.db var/*.db-* models
