# Deskbridge — the two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test install bench docs lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## make run: the hub with the sandbox, demo config and seed data (Ctrl-C stops it)
run: $(STAMP)
	$(BIN)/deskbridge demo

## make test: the whole suite (unit, contract, e2e, browser, slow, scale-out)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: benchmarks; prints a table and writes bench/results/
bench: $(STAMP)
	$(BIN)/python -m bench

## make docs: regenerate docs/hooks.md from the hookspecs' docstrings
docs: $(STAMP)
	$(BIN)/python -m hub.docs > docs/hooks.md

clean:
	rm -rf $(VENV) var .pytest_cache
