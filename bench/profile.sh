#!/usr/bin/env bash
# Profiles one prefork-modpy worker under one of issue 16's workloads (bench/profile16.py):
# CPU per request (user/kernel), py-spy collapsed stacks with native frames -> top-N by
# bucket (engine, crossing, dispatch, handler, log...), a flame graph SVG, and perf's split
# by shared object (kernel, _core, libpython). Output in bench/results/profile-<stamp>/.
#   bench/profile.sh hello-keepalive [-d 10] [-c 50] [--rate 499] [--top 25]
#   workloads: hello-keepalive hello-close flask-json django-template static-64k post-read post-form
# Needs bench/setup.sh run once (root: py-spy and perf attach to the worker).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 ]]; then
    sed -n '2,8p' "$0" >&2
    exit 2
fi
test -x bench/.venv-bench/bin/py-spy || bash bench/setup.sh
exec timeout 900 bench/.venv-bench/bin/python bench/profile16.py "$@"
