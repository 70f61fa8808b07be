# Concordance — the two commands of the quick start, and a few helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CONCORDANCE_DATABASE_URL ?= sqlite:///concordance.db
PORT ?= 8000

.PHONY: demo test lint bench tx-report notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,notebooks]'
	touch $(STAMP)

## demo: set up .venv, load the bundled code systems into the SQLite database, show them
demo: $(STAMP)
	$(BIN)/concordance db upgrade
	$(BIN)/concordance load data/bundled.toml
	$(BIN)/concordance review-demo --url http://127.0.0.1:$(PORT)
	@echo "Building the large project (CIM-11 FR → CIM-10 FR, 36,044 rows) in the background: see concordance-scale.log"
	$(BIN)/concordance review-demo --scale > concordance-scale.log 2>&1 &
	$(BIN)/uvicorn --factory api.app:create_app --host 127.0.0.1 --port $(PORT)

## test: set up .venv and run every test (SQLite and PostgreSQL), then lint and type-check
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q
	$(BIN)/python -m tests.api.hl7_tx_report
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(BIN)/ruff check terminology api tests benchmarks data/scripts notebooks
	$(BIN)/ruff format --check notebooks
	$(BIN)/mypy

## tx-report: the HL7 terminology ecosystem cases, passed per operation (translate, lookup and
## CodeSystem/$$validate-code must all pass; ValueSet/$$validate-code and $$expand are counted)
tx-report: $(STAMP)
	$(BIN)/python -m tests.api.hl7_tx_report

## notebooks: run every notebook and render it to HTML in notebooks/html (not committed)
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to html --execute --output-dir notebooks/html notebooks/*.ipynb

## bench: import speed and memory against raw loaders (1,000,000 rows)
bench: $(STAMP)
	$(BIN)/python benchmarks/import_bench.py --rows 1000000

clean:
	rm -rf $(VENV) concordance.db concordance.db-wal concordance.db-shm concordance-scale.log
