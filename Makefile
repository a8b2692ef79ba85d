# Two commands on a fresh clone (Python 3.11+ and make):
#   make demo   set up .venv and evaluate the sample data
#   make test   set up .venv and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test sample bench clean

$(BIN)/kpi: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/kpi
	@# exit code 1 means "a target fails": that is the demo working, not make failing
	$(BIN)/kpi evaluate sample_data/monthly.parquet; test $$? -le 1
	$(BIN)/kpi evaluate sample_data/monthly.parquet --format json --output sample_data/report.json; test $$? -le 1
	@echo "JSON report written to sample_data/report.json"

test: $(BIN)/kpi
	$(BIN)/python -m pytest -q

sample: $(BIN)/kpi
	$(BIN)/python -m covidbank_kpi.sample sample_data

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
