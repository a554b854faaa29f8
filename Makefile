# The project's commands. Every target creates .venv from the locked requirements on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The case: 2024-02-12..2024-02-13, "women's clothing", recorded responses.
START ?= 2024-02-12
END ?= 2024-02-13
SOURCE ?= recorded
# The sales of the recorded carts (data/recorded/fakestore/carts.json), every category, priced with
# the ECB history file: their CSVs are published beside the case's.
SALES_START ?= 2020-01-01
SALES_END ?= 2020-03-02

.PHONY: run test test-fast lint format lab notebooks bench lock clean

# requirements.txt pins every package with its hashes: pip refuses anything else.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (pricing pipeline)" >/dev/null
	touch $(STAMP)

# The case's run, then the recorded carts' run; their CSVs (written to data/runs/<run id>/output/) are published to the committed
# data/output/. Scheduled runs never publish: they leave tracked files alone.
run: $(STAMP)
	$(BIN)/pricing-pipeline run --start $(START) --end $(END) --source $(SOURCE) --publish-outputs data/output
	$(BIN)/pricing-pipeline run --start $(SALES_START) --end $(SALES_END) --category all --source offline \
		--publish-sales-outputs data/output

# The full suite, as CI runs it: unit tests, end-to-end runs, faults, Airflow, nbval on the notebooks.
test: $(STAMP)
	$(BIN)/python -m pytest

# The unit tests only (no pipeline run, no notebook), on every core: under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n auto tests/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint src/pricing_pipeline/warehouse/sql

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix src/pricing_pipeline/warehouse/sql

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Re-execute the notebooks in place with their default parameters: the committed outputs.
notebooks: $(STAMP)
	cd notebooks && for nb in 0*.ipynb; do \
		../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python benchmarks/benchmark.py

# Re-lock requirements.txt (every package, with hashes) from pyproject.toml's dependencies and its
# dev extra. Pins already in requirements.txt are kept unless pyproject.toml needs another version.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links \
		-o requirements.txt pyproject.toml

clean:
	rm -rf $(VENV) data/raw data/interim data/runs data/warehouse.duckdb data/warehouse.duckdb.wal data/.pipeline.lock
