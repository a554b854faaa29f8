# The project's commands. Every target creates .venv from the pinned requirements on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The case: 2024-02-12..2024-02-13, "women's clothing", recorded responses.
START ?= 2024-02-12
END ?= 2024-02-13
SOURCE ?= recorded

.PHONY: run test lab notebooks bench lock clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (pricing pipeline)" >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run_pipeline.py --start $(START) --end $(END) --source $(SOURCE)

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Re-execute the notebooks in place with their default parameters: the committed outputs.
notebooks: $(STAMP)
	cd notebooks && for nb in 0*.ipynb; do \
		../$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.kernel_name=python3 $$nb || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py

# Re-pin requirements.txt from requirements.in in a throwaway environment.
lock:
	rm -rf /tmp/pricing-lock && $(PYTHON) -m venv /tmp/pricing-lock
	/tmp/pricing-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Pinned environment, generated from requirements.in by \`make lock\`. pip installs from this file only."; \
	  /tmp/pricing-lock/bin/pip freeze --exclude-editable | sort -f; } > requirements.txt

clean:
	rm -rf $(VENV) data/raw data/interim data/runs data/warehouse.duckdb data/warehouse.duckdb.wal
