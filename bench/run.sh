#!/usr/bin/env bash
# Installs what the benchmark needs, then runs bench/bench.py (arguments are passed on).
#   bench/run.sh                         # defaults: workers = cores, C=50, D=10
#   C=100 D=20 bench/run.sh --workers 4  # or -c/-d/--servers/--variants, see --help
#   bench/run.sh --suite issue16         # issue 16's workloads and peers (bench/suite16.py)
# Needs root for apt-get (wrk, apache2, libapache2-mod-python); everything else is local:
# the project in .venv (make install), gunicorn and granian in bench/.venv-peers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Issue 16's suite (bench/suite16.py): its own setup (bench/setup.sh: nginx, uWSGI, the
# /usr/bin/python3 venv), then every workload; bounded like the rest.
#   bench/run.sh --suite issue16 [-d 10] [--rounds 3] [--workloads ...] [--servers ...]
if [[ ${1:-} == --suite* ]]; then
    bash bench/setup.sh
    ulimit -n "$(ulimit -Hn)"  # 10,000 connections: the client and the servers inherit it
    exec timeout 5400 bench/.venv-bench/bin/python bench/bench.py "$@"
fi

apt_install() {
    # Update the package lists only when the package is unknown (fresh machine).
    if ! apt-cache show "$1" >/dev/null 2>&1; then
        timeout 300 apt-get update -q
    fi
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$@"
}

command -v wrk >/dev/null || apt_install wrk
bash tests/compat/install_apache.sh

# Builds the Rust extension; fails (and stops here) while the Rust part does not build.
timeout 1200 make install

PEERS=bench/.venv-peers
if ! [[ -x $PEERS/bin/gunicorn && -x $PEERS/bin/granian ]]; then
    test -x $PEERS/bin/python || python3 -m venv $PEERS
    timeout 600 $PEERS/bin/python -m pip install --quiet --upgrade pip
    timeout 600 $PEERS/bin/python -m pip install --quiet gunicorn granian
fi

# The whole run is bounded: 2 variants x 5 servers x (warm-up + D + start/stop) is ~3 min
# at the defaults; the cap leaves room for larger D.
exec timeout 3600 .venv/bin/python bench/bench.py "$@"
