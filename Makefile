# Concordance — the two commands of the quick start, and a few helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CONCORDANCE_DATABASE_URL ?= sqlite:///concordance.db
PORT ?= 8000

.PHONY: demo test lock lint bench tx-report notebooks clean

# uv installs exactly what uv.lock pins (hashes checked); uv itself comes pinned by hash
# from .ci/uv-requirements.txt into a small venv of its own, so `uv sync` never removes it.
UV := .uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
RUNTIME := $(VENV)/.runtime

$(UV): .ci/uv-requirements.txt
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --require-hashes --no-deps -r .ci/uv-requirements.txt
	touch $(UV)

# demo: the runtime packages only (--inexact keeps test packages a `make test` installed)
$(RUNTIME): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --python $(PYTHON)
	touch $(RUNTIME)

# test: the same lock, with the test and notebook extras
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $(STAMP) $(RUNTIME)

## lock: re-resolve uv.lock after changing pyproject.toml's dependencies
lock: | $(UV)
	$(UV) lock --python $(PYTHON)

## demo: set up .venv, load the bundled code systems into the SQLite database, show them
demo: $(RUNTIME)
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
	$(BIN)/lint-imports --no-cache

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
	rm -rf $(VENV) .uv concordance.db concordance.db-wal concordance.db-shm concordance-scale.log
