# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv and install the project into it; nothing else is assumed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := ml,reports,serve
STAMP := $(VENV)/.installed-$(EXTRAS)
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint install install-test demo-model gate-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing osteo-ai with [$(EXTRAS)] into $(VENV) (first time: a few minutes, TensorFlow is large)..."
	$(BIN)/python -m pip install --progress-bar on -e ".[$(EXTRAS)]"
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),test]"
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP)

## Set up, screen a sample batch on the embedded default (no servers) and serve the dashboard.
## ARGS="--archive my.zip" screens your own archive instead; ARGS="--no-serve" exits after screening.
demo: install
	$(BIN)/osteo demo $(ARGS)

## Retrain the shipped demo model on synthetic phantoms (10-25 minutes on 2 CPU cores).
demo-model: install
	$(BIN)/python -m training.demo --force

## Retrain the hand/wrist gate (models/gate) on ../shared FracAtlas + xray-samples + phantoms
## (about 20 minutes on 2 CPU cores), then print its figures on the hold-out set.
gate-model: install
	$(BIN)/python -m training.gate --shared ../shared --out models/gate
	$(BIN)/python -m training.gate_eval --shared ../shared

## Lint (ruff) and type-check (mypy) with the settings in pyproject.toml.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

## Set up, lint, and run the whole test suite (integration tests need PostgreSQL and Redis).
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
