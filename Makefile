# `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit snapshots clean tools system-packages checkov schema install

demo: $(STAMP) tools
	$(BIN)/chartgen build datacenter.yaml
	@echo
	@echo "chartgen is in $(CURDIR)/$(BIN) (with the development tools). Run it as $(BIN)/chartgen,"
	@echo "or put it on PATH for this shell:"
	@echo '    export PATH="$(CURDIR)/$(BIN):$$PATH"'
	@echo "For chartgen alone, usable from anywhere: make install"

# chartgen alone (its runtime dependencies, no development tools) in a virtualenv of its own
# under PREFIX, with helm and kubectl beside it, and the command linked into PREFIX/bin.
PREFIX ?= $(HOME)/.local
INSTALL_VENV ?= $(PREFIX)/share/chartgen/venv

install:
	$(PYTHON) -m venv $(INSTALL_VENV)
	rm -rf build  # setuptools would reuse files of an earlier build, deleted ones included
	$(INSTALL_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade .
	$(INSTALL_VENV)/bin/python scripts/fetch_tools.py $(INSTALL_VENV)/bin
	mkdir -p $(PREFIX)/bin
	ln -sf $(INSTALL_VENV)/bin/chartgen $(PREFIX)/bin/chartgen
	@echo
	@echo "installed $(PREFIX)/bin/chartgen"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) \
		echo "$(PREFIX)/bin is not on PATH: add this line to ~/.profile (or ~/.bashrc), then open a new shell:"; \
		echo '    export PATH="$(PREFIX)/bin:$$PATH"';; esac

test: $(STAMP) tools system-packages checkov lint typecheck unit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# checkov pins old versions of common libraries: it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_STAMP)

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

# The property tests and crash tests at a large budget (not in `test`: it takes a long while).
.PHONY: fuzz
fuzz: $(STAMP) tools
	CHARTGEN_FUZZ_PROFILE=fuzz CHARTGEN_CRASH_KILLS=40 CHARTGEN_HELM=$(CURDIR)/$(TOOLS)/helm \
		$(BIN)/pytest -q tests/test_fuzz.py tests/test_crash_safety.py

# Timings: interleaved whole-process runs, a table, exit 1 on a missed target (not in `test`).
.PHONY: bench
bench: $(STAMP) tools
	CHARTGEN_HELM=$(CURDIR)/$(TOOLS)/helm $(BIN)/python -m benchmarks

snapshots: $(STAMP) tools
	CHARTGEN_HELM=$(CURDIR)/$(TOOLS)/helm $(BIN)/pytest -q --snapshot-update

# The topology picture of the example in the README; tests/test_graph.py fails when it is stale.
.PHONY: docs
docs: $(STAMP) system-packages
	$(BIN)/chartgen graph datacenter.yaml -o docs/topology.svg

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info

# The service part of the JSON Schema, assembled from the kinds' fragments (chartgen/kinds/).
schema: $(STAMP)
	$(BIN)/python -m chartgen.schema_source schemas/datacenter.schema.json
