# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test test-slow test-all lint install-check bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# An editable install leaves the package's own modules uncompiled (pip compiles only what it
	# copies); compiled once here, no process has to compile them again, even where the
	# environment tells Python not to write bytecode (PYTHONDONTWRITEBYTECODE).
	$(BIN)/python -m compileall -q src
	touch $@

## the offline main job: answer a question from the bundled knowledge base (no Discord token)
demo: $(BIN)/.installed
	$(BIN)/armsbot ask country azerbajan

## the fast stage of the tests: in process, SQLite only, over every core
test: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow and not postgres" -n auto --dist worksteal $(PYTEST_ARGS)

## the second stage: render-everything, multi-process, packaging, PostgreSQL (needs a server)
test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -m "slow or postgres" $(PYTEST_ARGS)

## every test, both stages in one run
test-all: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## linters and the type checker
lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## speed and memory against the baselines (full run: several minutes; SMOKE=1 only checks it works)
bench: $(BIN)/.installed
	$(BIN)/python -m bench $(if $(SMOKE),--smoke,)
	$(BIN)/python -m bench.claims $(if $(SMOKE),--smoke,)
	$(BIN)/python -m bench.shards $(if $(SMOKE),--smoke,)
	$(BIN)/python -m bench.backends $(if $(SMOKE),--smoke,)

## install the package (not editable) into a fresh venv and answer from another folder
install-check:
	bash .ci/install-check

clean:
	rm -rf $(VENV) build dist
