# Two entry points for a fresh machine (see README): `make run` and `make test`.
# Everything is installed into .venv by this file; nothing is expected preinstalled but
# python3 (3.9+) and cargo.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := $(shell find rust -type f) Cargo.toml pyproject.toml

.PHONY: install run test test-rust test-python lint clean

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
test: install test-rust lint test-python

test-rust:
	cargo test --quiet

lint:
	$(BIN)/ruff check prefork_modpy mod_python tests bench
	$(BIN)/mypy prefork_modpy mod_python

test-python:
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) target prefork_modpy/_core*.so
