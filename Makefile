# One command each on a fresh machine: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.installed
OUT    ?= demo-output

.PHONY: demo test lint format bench venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Reinstall only when the project's dependency declaration changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(UV) pip install --python $(BIN)/python --quiet -e '.[osm,bim,energy,dist]' --group dev
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cim demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check cim geometry scenarios tests benchmarks notebooks tools
	$(BIN)/ruff format --check cim geometry scenarios tests benchmarks notebooks tools
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format cim geometry scenarios tests benchmarks notebooks
	$(BIN)/ruff check --fix cim geometry scenarios tests benchmarks notebooks

test: lint
	$(BIN)/pytest -q
	$(BIN)/pytest -q --nbmake --nbmake-timeout=600 -p no:cacheprovider notebooks

bench: $(STAMP)
	$(UV) pip install --python $(BIN)/python --quiet pandana
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) $(OUT) dist build .pytest_cache .mypy_cache .ruff_cache
