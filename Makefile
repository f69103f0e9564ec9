# BitBot: two commands do all set-up on a fresh machine.
#   make backtest   the four POC strategies side by side (real data if found, else synthetic)
#   make test       the full test suite
#   make report     the walk-forward report (PERIOD=validation|test|fresh; QUICK=1: CI variant)
#   make confirm    the designs fixed for the fresh period's one look (DRY=1: only say what runs)
#   make dry-run    the bot in dry-run on Kraken futures (needs network and .env credentials)
#   make replay     the same bot offline, against the recorded market (bitbot replay)
# Both create .venv when it is missing and (re)install only when pyproject.toml changed.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PY := $(VENV)/bin/python
BITBOT := $(VENV)/bin/bitbot
STAMP := $(VENV)/.bitbot-installed

STRATEGY ?= SupertrendStrategy
EPOCHS ?= 30
SPACES ?= buy sell
HYPEROPT_LOSS ?= CalmarDrawdownLoss
APPLY ?=
QUICK ?=
PERIOD ?= validation
JOBS ?= 2
DRY ?=

.PHONY: install test backtest report confirm dry-run replay hyperopt bias-check bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

backtest: install
	$(BITBOT) compare

report: install
	$(BITBOT) report $(if $(QUICK),--quick,--period $(PERIOD)) --jobs $(JOBS)

confirm: install
	$(BITBOT) confirm --jobs $(JOBS) $(if $(DRY),--dry-run)

# Dry-run on Kraken futures with the MetaStrategy (and the promoted model, when there is one).
# Needs the exchange (candles) and the API credentials in the environment (.env.example).
dry-run: install
	$(BITBOT) trade --dry-run -c user_data/config.json -c user_data/config.freqai.json \
		$(if $(wildcard user_data/config.promoted.json),-c user_data/config.promoted.json) \
		--strategy MetaStrategy

# The same bot against the recorded market, offline (bitbot replay): START (default: the day
# after the promoted model's training data, else required) at SPEED x real time; it resumes
# where it stopped unless FRESH=1; RECORDING (default $BITBOT_DATA, else ../shared/data/binance);
# TELEGRAM=1 keeps Telegram on. API credentials as for dry-run.
START ?=
SPEED ?= 60
FRESH ?=
RECORDING ?= $(or $(BITBOT_DATA),../shared/data/binance)
replay: install
	$(BITBOT) replay --recording $(RECORDING) $(if $(START),--start $(START)) --speed $(SPEED) \
		$(if $(FRESH),--fresh) $(if $(TELEGRAM),--telegram) \
		-c user_data/config.json -c user_data/config.freqai.json \
		$(if $(wildcard user_data/config.promoted.json),-c user_data/config.promoted.json) \
		--strategy MetaStrategy

hyperopt: install
	$(BITBOT) tune --strategy $(STRATEGY) --epochs $(EPOCHS) --spaces $(SPACES) \
		--hyperopt-loss $(HYPEROPT_LOSS) $(if $(APPLY),--apply)

bias-check: install
	$(BITBOT) bias-check

bench: install
	$(PY) bench/bench_strategies.py
	$(PY) bench/bench_indicators.py
	$(PY) bench/bench_meta.py
	$(PY) bench/bench_report.py
	$(PY) bench/bench_replay.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
