#!/usr/bin/env bash
# Installs everything the issue-16 suite (bench/bench.py --suite issue16) runs, explicitly and
# once; the benchmark itself never installs anything.
#
#   Debian packages (root, apt-get): wrk, nginx-light (or nginx), apache2 + mod_python
#   (tests/compat/install_apache.sh), python3-venv and python3-dev (uWSGI compiles).
#   bench/.venv-bench: a venv made from /usr/bin/python3 -- Debian's CPython, the one
#   mod_python embeds -- holding prefork-modpy (built here by maturin for that interpreter),
#   the peers (granian, gunicorn, uWSGI), the apps (Flask, Django), py-spy and matplotlib.
#
# Every Python server of the suite then runs on the same CPython build. Idempotent; a peer
# that does not install (uWSGI needs a C compiler) is recorded in bench/.venv-bench/MISSING
# and the suite reports it instead of a figure.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
VENV=bench/.venv-bench

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup.sh: missing ${missing[*]} and not root (cannot apt-get)" >&2
        return 1
    fi
    if ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
        timeout 300 apt-get update -q
    fi
    # policy-rc.d keeps the packages' scripts from starting system services (nginx).
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
    rm -f /usr/sbin/policy-rc.d
}

apt_install wrk python3-venv python3-dev gcc
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx-light \
    || apt_install nginx
bash tests/compat/install_apache.sh

test -x $VENV/bin/python || $PY -m venv $VENV
B=$VENV/bin
timeout 600 $B/python -m pip install --quiet --upgrade pip
timeout 900 $B/python -m pip install --quiet "maturin>=1.5,<2" gunicorn granian flask django \
    py-spy matplotlib
rm -f $VENV/MISSING
# uWSGI is built from source by pip; it may fail on a machine without a compiler.
if ! timeout 900 $B/python -m pip install --quiet uwsgi >$VENV/uwsgi-build.log 2>&1; then
    echo "uwsgi: pip install failed, see $VENV/uwsgi-build.log" | tee -a $VENV/MISSING >&2
fi

# prefork-modpy for this interpreter: a release wheel built by maturin against it (the Rust
# build reuses the checkout's target/), then installed as any site would install it.
rm -rf bench/.wheels
PATH="$PWD/$B:$PATH" timeout 1800 $B/maturin build --release --quiet \
    --interpreter "$PWD/$B/python" --out bench/.wheels
timeout 600 $B/python -m pip install --quiet bench/.wheels/*.whl  # with its dependencies
# A rebuilt wheel of the same version replaces the installed one.
timeout 600 $B/python -m pip install --quiet --force-reinstall --no-deps bench/.wheels/*.whl
$B/python -c "import sys, prefork_modpy._core; print('prefork-modpy installed for', sys.version.split()[0], sys.executable)"
