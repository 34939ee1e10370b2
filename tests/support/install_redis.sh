#!/usr/bin/env bash
# Installs Debian's redis-server (and valkey-server where the release has it), used by
# tests/integration/test_redis_session.py, which starts its own instances on loopback ports.
# Idempotent: does nothing when redis-server is already there.  The distribution's own
# service is never started (policy-rc.d keeps the package scripts from starting it).
# Exits 0 when redis-server is installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail

REDIS=/usr/bin/redis-server
VALKEY=/usr/bin/valkey-server

have_valkey_candidate() {
    local candidate
    candidate=$(apt-cache policy valkey-server 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ -n $candidate && $candidate != "(none)" ]]
}

if [[ -x $REDIS ]] && { [[ -x $VALKEY ]] || ! have_valkey_candidate; }; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "install_redis.sh: $REDIS missing and not root (cannot apt-get)" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null; then
    echo "install_redis.sh: $REDIS missing and no apt-get (not Debian?)" >&2
    exit 3
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show redis-server >/dev/null 2>&1; then
    timeout 300 apt-get update -q >&2 || echo "install_redis.sh: apt-get update failed" >&2
fi
packages=(redis-server)
# Valkey is packaged from Debian 13 (trixie) on; on older releases only Redis is tested.
if have_valkey_candidate; then
    packages+=(valkey-server)
fi
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
fi
timeout 600 apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
status=$?
if [[ $created_policy -eq 1 ]]; then
    rm -f "$policy"
fi

if [[ -x $REDIS ]]; then
    exit 0
fi
echo "install_redis.sh: apt-get install ${packages[*]} failed (exit $status)" >&2
exit 4
