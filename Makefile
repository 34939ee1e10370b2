# Two entry points for a fresh machine (see README): `make run` and `make test`.
# Everything is installed into .venv by this file; nothing is expected preinstalled but
# python3 (3.9+) and cargo.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := $(shell find rust -type f) Cargo.toml pyproject.toml

.PHONY: install run test test-rust test-python test-upstream lint clean

$(VENV)/.installed: $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

install: $(VENV)/.installed

## Start the server on the bundled tutorial site (http://127.0.0.1:8080/mywebdir/myscript.py).
run: install
	$(BIN)/prefork-modpy --config examples/tutorial/site.conf --workers 8

## The whole test suite: Rust unit tests, lint, then pytest against the real server.
test: install test-rust lint test-python test-upstream

test-rust:
	cargo test --quiet

lint:
	$(BIN)/ruff check prefork_modpy mod_python tests bench

test-python:
	$(BIN)/python -m pytest -q --ignore=tests/upstream

## mod_python's own regression suite on prefork-modpy and (when installed) Apache; the last
## line gives both servers' counts (tests/upstream/report.txt has the per-test table).
test-upstream:
	$(BIN)/python -m pytest -q tests/upstream; status=$$?; \
	tail -n 1 tests/upstream/report.txt 2>/dev/null; exit $$status

clean:
	rm -rf $(VENV) target prefork_modpy/_core*.so
