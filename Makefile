# Quick start: `make demo` installs and runs the demo pipeline; `make test` installs and runs
# lint, format check, strict types and the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint types unit slow fuzz schemas docs docs-test bench clean docs-pictures

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

# Generated docs: the schema reference, docs/conventions.md and each command page's synopsis.
docs: schemas
	$(BIN)/python -m scot_cli.commands.docgen

# Every sh example of docs/*.md and docs/commands/*.md, page by page on a copy of fixtures/
# (slow: each page runs its pipeline).
docs-test: install
	$(BIN)/pytest -n 2 -m slow tests/cli/test_docs_examples.py

# The pictures of docs/commands/plot.md, from a fresh demo run (the report's screenshot needs
# Debian's chromium).
PICS := docs/pictures
docs-pictures: install
	rm -rf out/pictures out/pictures-sim
	$(BIN)/scot --quiet demo --out out/pictures > /dev/null
	$(BIN)/scot plot forecast out/pictures/forecast.parquet --top 2 -o $(PICS)/forecast.png
	$(BIN)/scot plot placement out/pictures/placement.parquet out/pictures/coverage.parquet -o $(PICS)/placement.png
	$(BIN)/scot plot promise out/pictures/promises.parquet -o $(PICS)/promise.png
	$(BIN)/scot plot route out/pictures/trucks.parquet out/pictures/routes.parquet -o $(PICS)/route.png
	$(BIN)/scot plot explain out/pictures/scenario/explain.parquet -o $(PICS)/explain.png
	$(BIN)/scot --quiet simulate --sales fixtures/sales.parquet --items fixtures/items.parquet \
		--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet \
		--inventory fixtures/inventory.parquet --days 28 --replications 3 \
		--policy scot --policy baseline -o out/pictures-sim
	$(BIN)/scot plot simulate out/pictures-sim/sim_daily.parquet \
		out/pictures-sim/sim_summary.parquet -o $(PICS)/simulate.png
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir=out/pictures/.chromium --window-size=1200,1800 \
		--force-device-scale-factor=0.5 --screenshot=$(PICS)/report.png \
		file://$(CURDIR)/out/pictures/report.html

bench: install
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out build *.egg-info .mypy_cache .pytest_cache .ruff_cache
