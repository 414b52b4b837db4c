# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
# Each builds its own virtual environment (no system site packages) from pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STORE ?= .kg/store

SCALE ?= 10k

.PHONY: demo test test-exhaustive bench mutants venv clean

$(BIN)/kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/kg

venv: $(BIN)/kg

demo: venv
	rm -rf $(STORE) $(STORE)-answers.sqlite
	$(BIN)/kg load --store $(STORE)
	$(BIN)/kg validate
	@echo; echo "The answers in short (each line from a stored query; the details follow):"
	@$(BIN)/kg summary --store $(STORE)
	@echo
	@for q in compare-periods compare-places totals-vs-parts figures-by-place positions; do \
		$(BIN)/kg query $$q --store $(STORE) || exit $$?; done
	$(BIN)/kg query reporting-chain --param text="153 attacks" --store $(STORE)
	$(BIN)/kg stats --store $(STORE)
	@echo
	@echo "The store is in $(STORE). To run kg yourself: . $(VENV)/bin/activate   (or call $(BIN)/kg)"

# The suite on every core (pytest-xdist), a test file per worker at a time: each file's servers and
# stores (module fixtures) are started and filled once, not once per worker.
test: venv
	$(BIN)/python -m pytest -n auto --dist loadfile

# Every case of the combined engine-agreement test on its own (slow; outside CI).
test-exhaustive: venv
	$(BIN)/python -m pytest -m exhaustive

# Benchmarks, outside the test run: make bench SCALE=10k|100k|1m|10m [LIMIT=seconds per step]
LIMIT ?=
bench: venv
	$(BIN)/python benchmarks/bench.py --scale $(SCALE) $(if $(LIMIT),--limit $(LIMIT))

# Named mutations (mutants/mutations.py), each applied to a copy of the project: some test must fail. Outside CI.
mutants: venv
	$(BIN)/python mutants/run.py

clean:
	rm -rf $(VENV) .kg .pytest_cache
