#!/usr/bin/env bash
# Installs Debian's haproxy, used by tests/cluster/test_cluster.py, which starts its own
# instance on loopback ports in front of prefork-modpy nodes.  Idempotent: does nothing when
# haproxy is already there.  The distribution's own service is never started (policy-rc.d
# keeps the package scripts from starting it).
# Exits 0 when haproxy is installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail

HAPROXY=/usr/sbin/haproxy

if [[ -x $HAPROXY ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "install_haproxy.sh: $HAPROXY missing and not root (cannot apt-get)" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null; then
    echo "install_haproxy.sh: $HAPROXY missing and no apt-get (not Debian?)" >&2
    exit 3
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show haproxy >/dev/null 2>&1; then
    timeout 300 apt-get update -q >&2 || echo "install_haproxy.sh: apt-get update failed" >&2
fi
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
fi
timeout 600 apt-get install -y -q --no-install-recommends haproxy >&2
status=$?
if [[ $created_policy -eq 1 ]]; then
    rm -f "$policy"
fi

if [[ -x $HAPROXY ]]; then
    exit 0
fi
echo "install_haproxy.sh: apt-get install haproxy failed (exit $status)" >&2
exit 4
