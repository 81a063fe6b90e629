# The two commands of the README's quick start, and a few more for developers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run demo test lint bench clean

$(BIN)/callcenter: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-extras: $(BIN)/callcenter
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

## make run: install and serve the demo hotline on embedded defaults (SQLite + in-process Redis)
run: $(BIN)/callcenter
	$(BIN)/callcenter serve

## make demo: the same, with simulated callers and operators at work (the README's living-demo chapter; DEMO_ARGS='--demo-rate 2')
demo: $(BIN)/callcenter
	$(BIN)/callcenter serve --demo $(DEMO_ARGS)

## make test: install the test extras and run the whole suite (real PostgreSQL/Redis parts skip if absent)
test: $(VENV)/.test-extras
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-extras
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy callcenter ivr webhooks queueing

bench: $(VENV)/.test-extras
	for b in bench/*.py; do case $$b in */common.py|*/__init__.py) ;; *) $(BIN)/python -m bench.$$(basename $$b .py) ;; esac; done

clean:
	rm -rf $(VENV) *.egg-info callcenter.db*
