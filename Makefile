# Two entry points for a fresh machine (see README): `make run` and `make test`.
# Everything Python is installed into .venv by this file; nothing is expected preinstalled but
# python3 (3.9+) and cargo. `make test` also installs the Debian packages tests/compat runs
# (apache2, libapache2-mod-python: root and apt-get) in its own step, `make apache`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SOURCES := $(shell find rust -type f) Cargo.toml pyproject.toml

.PHONY: install dist test-wheels deps apache deps-redis deps-haproxy deps-testssl run test test-rust test-python test-upstream lint lint-rust lint-stubs clean bench profile

$(VENV)/.installed: $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

install: $(VENV)/.installed

## Start the server on the bundled tutorial site (http://127.0.0.1:8080/mywebdir/myscript.py).
run: install
	$(BIN)/prefork-modpy --config examples/tutorial/site.conf --workers 8

## Apache httpd + mod_python for tests/compat (Debian packages; needs root and apt-get).
## PREFORK_MODPY_NO_APACHE=1 skips it, and the compat tests then skip instead of failing:
## an opt-out for a local run on a machine without them, never set by CI (.ci/run).
apache:
ifeq ($(PREFORK_MODPY_NO_APACHE),1)
	@echo "PREFORK_MODPY_NO_APACHE=1: not installing Apache; tests/compat will be skipped"
else
	bash tests/compat/install_apache.sh
endif

## Debian's redis-server for the RedisSession tests (apt-get, as root; a no-op once installed).
## The tests fail without it unless PREFORK_MODPY_NO_REDIS=1 says to skip them.
deps-redis:
	@if [ "$${PREFORK_MODPY_NO_REDIS:-0}" = 1 ]; then echo "deps-redis: skipped (PREFORK_MODPY_NO_REDIS=1)"; \
	else bash tests/support/install_redis.sh; fi

## Debian's haproxy for the several-nodes test (tests/cluster; apt-get, as root; a no-op once
## installed). The test fails without it unless PREFORK_MODPY_NO_HAPROXY=1 says to skip it.
deps-haproxy:
	@if [ "$${PREFORK_MODPY_NO_HAPROXY:-0}" = 1 ]; then echo "deps-haproxy: skipped (PREFORK_MODPY_NO_HAPROXY=1)"; \
	else bash tests/support/install_haproxy.sh; fi

## Debian's testssl.sh for the TLS scan (tests/tls/test_scan.py; apt-get, as root; a no-op once
## installed). The test fails without it unless PREFORK_MODPY_NO_TESTSSL=1 says to skip it.
deps-testssl:
	@if [ "$${PREFORK_MODPY_NO_TESTSSL:-0}" = 1 ]; then echo "deps-testssl: skipped (PREFORK_MODPY_NO_TESTSSL=1)"; \
	else bash tests/support/install_testssl.sh; fi

## Every Debian package the tests need (Apache + mod_python, redis-server, haproxy, testssl.sh).
deps: apache deps-redis deps-haproxy deps-testssl

## The whole test suite: Rust unit tests, lint, then pytest against the real server and
## against Apache httpd + mod_python.
test: install deps test-rust lint test-python test-upstream test-wheels

## One abi3 wheel (every CPython >= 3.9; manylinux2014 through maturin's zig linker) and an
## sdist, into dist/. The tools go into .venv; the wheel needs no Rust where it is installed.
$(VENV)/.dist-tools: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet "maturin>=1.5,<2" "ziglang>=0.11" "auditwheel>=6"
	touch $@

dist: $(VENV)/.dist-tools
	rm -rf dist
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/maturin build --release --features abi3 --zig \
		--compatibility manylinux2014 --out dist
	$(BIN)/maturin sdist --out dist
	$(BIN)/auditwheel show dist/*.whl

## The wheel installed into fresh venvs of Python 3.9 .. 3.13 (pyenv's), with no cargo on PATH
## and no source tree on sys.path, running the integration tests against the installed package.
test-wheels: dist
	bash tests/wheel/matrix.sh

test-rust:
	cargo test --quiet

lint: lint-rust lint-stubs
	$(BIN)/ruff check .
	$(BIN)/mypy prefork_modpy mod_python

## Rust: formatted, and clippy-clean with warnings as errors (Cargo.toml's [lints] also
## denies an unsafe block without a `// SAFETY:` comment).
lint-rust:
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo check --quiet --lib --features abi3  # the wheel's stable-ABI build compiles too

## The hand-written stub of the extension against the built module (commented allow-list).
lint-stubs: install
	$(BIN)/python -m mypy.stubtest prefork_modpy._core --allowlist .mypy-stubtest-allowlist

test-python:
	$(BIN)/python -m pytest -q --ignore=tests/upstream

## mod_python's own regression suite on prefork-modpy and (when installed) Apache; the last
## line gives both servers' counts (tests/upstream/report.txt has the per-test table).
test-upstream:
	$(BIN)/python -m pytest -q tests/upstream; status=$$?; \
	tail -n 1 tests/upstream/report.txt 2>/dev/null; exit $$status

clean:
	rm -rf $(VENV) target dist prefork_modpy/_core*.so

# -- bench (issue 16) --
## Issue 16's benchmark table and chart (installs its peers first: bench/setup.sh; root).
## Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="-d 3 --rounds 1".
bench:
	bash bench/run.sh --suite issue16 $(BENCH_ARGS)

## A profile of one prefork-modpy worker under a workload: make profile WORKLOAD=hello-keepalive
profile:
	bash bench/profile.sh $(or $(WORKLOAD),hello-keepalive)
