# Two commands on a fresh machine:  `make demo`  and  `make test`  (each installs what it needs).
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0  # the CPU wheel first: dbsynth[neural]'s range is then met
	$(BIN)/python -m pip install -q -e '.[test,mysql,neural]'
	touch $@

.PHONY: install demo test lint bench
install: $(BIN)/.installed

demo: $(BIN)/.installed
	rm -f dbsynth-demo.sqlite
	$(BIN)/dbsynth demo --out dbsynth-demo.sqlite

lint: $(BIN)/.installed
	$(BIN)/ruff check dbsynth tests benchmarks
	$(BIN)/mypy dbsynth

test: lint
	$(BIN)/pytest -q -n 2
	cd examples/pytest-project && $(CURDIR)/$(BIN)/pytest -q

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/seed_speed.py
