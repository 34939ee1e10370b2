#!/usr/bin/env bash
# The built wheel, installed as a user installs it, on every supported CPython (issue 18).
#
# For each of Python 3.9 .. 3.13 (pyenv's interpreters on this machine, or PREFORK_MODPY_PY3X):
# a fresh virtual environment gets dist/*.whl and pytest from the package index, then a copy
# of tests/ runs in a directory outside the source tree, with a PATH that has no cargo, so
# the installed package (its abi3 extension, its mod_python/) is the one under test.
# Exits non-zero if a version is missing or any run fails.
set -uo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
versions=${PREFORK_MODPY_WHEEL_PYTHONS:-"3.9 3.10 3.11 3.12 3.13"}
wheel=$(ls "$here"/dist/prefork_modpy-*-abi3-*.whl 2>/dev/null | head -n 1)
[[ -n $wheel ]] || { echo "matrix: no abi3 wheel in dist/ (run make dist)" >&2; exit 2; }

# Tutorial, phases, the mod_python library, reload and the config: what a user's site needs.
TESTS=(tests/integration/test_tutorial.py tests/integration/test_dispatch.py
       tests/integration/test_modules.py tests/integration/test_process.py
       tests/process/test_reload.py tests/unit/test_dispatcher.py tests/unit/test_config.py
       tests/unit/test_util.py tests/unit/test_cookie.py tests/unit/test_psp.py
       tests/unit/test_table.py tests/unit/test_apache_module.py tests/unit/test_session.py)

work=$(mktemp -d /tmp/prefork-modpy-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$here/tests" "$work/tests"
cp -r "$here/examples" "$work/examples"   # the site `make run` serves (test_tutorial loads it)
cp "$here/Makefile" "$work/Makefile"
find "$work/tests" -name __pycache__ -prune -exec rm -rf {} +
cat > "$work/pytest.ini" <<'INI'
[pytest]
pythonpath = .
addopts = -ra -p no:cacheprovider
xfail_strict = true
timeout = 120
INI

interpreter() {  # $1 = 3.X: PREFORK_MODPY_PY3X, else pyenv's newest 3.X.*
    local var="PREFORK_MODPY_PY${1/./}"
    if [[ -n ${!var:-} ]]; then echo "${!var}"; return; fi
    ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python3 2>/dev/null | sort -V | tail -n 1
}

failed=()
summary=()
for version in $versions; do
    python=$(interpreter "$version")
    if [[ -z $python || ! -x $python ]]; then
        echo "matrix: no Python $version (pyenv install $version, or set PREFORK_MODPY_PY${version/./})" >&2
        failed+=("$version"); summary+=("$version: missing"); continue
    fi
    venv="$work/venv-$version"
    echo "== Python $version ($python): wheel $(basename "$wheel")"
    if ! "$python" -m venv "$venv" || ! "$venv/bin/python" -m pip install --quiet --upgrade pip \
        || ! "$venv/bin/python" -m pip install --quiet "$wheel" "pytest>=7" "pytest-timeout>=2.1"; then
        failed+=("$version"); summary+=("$version: install failed"); continue
    fi
    # No cargo and no source tree: only the venv and the system's tools.
    log="$work/pytest-$version.log"
    (cd "$work" && env -u PYTHONPATH PATH="$venv/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
        python -c 'import prefork_modpy, sys; assert prefork_modpy.__file__.startswith(sys.prefix), prefork_modpy.__file__' \
        && env PATH="$venv/bin:/usr/bin:/bin" prefork-modpy --version \
        && ! env PATH="$venv/bin:/usr/bin:/bin" sh -c 'command -v cargo' \
        && cd "$work" && env -u PYTHONPATH PATH="$venv/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
        python -m pytest -q "${TESTS[@]}") > "$log" 2>&1
    status=$?
    tail -n 1 "$log"
    if [[ $status -ne 0 ]]; then
        tail -n 40 "$log"
        failed+=("$version"); summary+=("$version: failed ($(tail -n 1 "$log"))")
    else
        summary+=("$version: $(tail -n 1 "$log")")
    fi
done

# The sdist builds where a Rust toolchain exists (here: this machine's cargo).
sdist=$(ls "$here"/dist/prefork_modpy-*.tar.gz 2>/dev/null | head -n 1)
if [[ -z $sdist ]]; then
    failed+=("sdist"); summary+=("sdist: missing from dist/")
elif python3 -m pip wheel --quiet --no-deps --wheel-dir "$work/from-sdist" "$sdist" > "$work/sdist.log" 2>&1; then
    summary+=("sdist: builds ($(basename "$(ls "$work"/from-sdist/*.whl)"))")
else
    tail -n 30 "$work/sdist.log"; failed+=("sdist"); summary+=("sdist: build failed")
fi

echo "== wheel matrix"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "wheel matrix: failed on ${failed[*]}" >&2
    exit 1
fi
