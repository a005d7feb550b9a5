# `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit snapshots clean tools system-packages

demo: $(STAMP) tools
	$(BIN)/chartgen build datacenter.yaml

test: $(STAMP) tools system-packages lint typecheck unit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

tools: $(STAMP)
	$(BIN)/python scripts/fetch_tools.py $(TOOLS)

system-packages:
	scripts/system_packages.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) tools
	CHARTGEN_HELM=$(CURDIR)/$(TOOLS)/helm $(BIN)/pytest -q

snapshots: $(STAMP) tools
	CHARTGEN_HELM=$(CURDIR)/$(TOOLS)/helm $(BIN)/pytest -q --snapshot-update

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info
