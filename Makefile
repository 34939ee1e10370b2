# Two entry points for a fresh machine (see README): `make run` and `make test`.
# Everything is installed into .venv by this file; nothing is expected preinstalled but
# python3 (3.9+) and cargo.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := $(shell find rust -type f) Cargo.toml pyproject.toml

.PHONY: install run test test-rust test-python lint clean deps-redis

$(VENV)/.installed: $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

install: $(VENV)/.installed

## Start the server on the bundled tutorial site (http://127.0.0.1:8080/mywebdir/myscript.py).
run: install
	$(BIN)/prefork-modpy --config examples/tutorial/site.conf --workers 8

## Debian's redis-server for the RedisSession tests (apt-get, as root; a no-op once installed).
## The tests fail without it unless PREFORK_MODPY_NO_REDIS=1 says to skip them.
deps-redis:
	@if [ "$${PREFORK_MODPY_NO_REDIS:-0}" = 1 ]; then echo "deps-redis: skipped (PREFORK_MODPY_NO_REDIS=1)"; \
	else bash tests/support/install_redis.sh; fi

## The whole test suite: Rust unit tests, lint, then pytest against the real server.
test: install deps-redis test-rust lint test-python

test-rust:
	cargo test --quiet

lint:
	$(BIN)/ruff check prefork_modpy mod_python tests bench

test-python:
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) target prefork_modpy/_core*.so
