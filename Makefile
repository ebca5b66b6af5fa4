# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv and install the project into it; nothing else is assumed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := ml,reports,serve
STAMP := $(VENV)/.installed-$(EXTRAS)
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test install install-test clean

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

## Set up and run the main job on the embedded default (no servers needed).
demo: install
	$(BIN)/osteo init

## Set up and run the whole test suite (integration tests need PostgreSQL and Redis).
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
