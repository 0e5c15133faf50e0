# Quick start: `make demo` installs and runs the demo pipeline; `make test` installs and runs
# lint, format check, strict types and the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint types unit slow fuzz schemas bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/scot demo --out out/demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -n 2

test: lint types unit

slow: install
	$(BIN)/pytest -n 2 -m slow

# The long fuzz profile: prints its summary line, writes docs/benchmarks/fuzz.md and
# rebuilds docs/benchmarks.md (also when cases fail, so that the page shows them).
fuzz: install
	SCOT_FUZZ_REPORT=docs/benchmarks/fuzz.md $(BIN)/pytest -m fuzz -s tests/fuzz; \
	status=$$?; $(BIN)/python benchmarks/collect.py; exit $$status

schemas: install
	$(BIN)/python -m scot_cli.schema > docs/schemas.md

bench: install
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out build *.egg-info .mypy_cache .pytest_cache .ruff_cache
