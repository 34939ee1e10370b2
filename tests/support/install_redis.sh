#!/usr/bin/env bash
# Installs Debian's redis-server (and valkey-server where the release has it), used by
# tests/integration/test_redis_session.py, which starts its own instances on loopback ports.
# Idempotent: does nothing when redis-server is already there.  The distribution's own
# service is never started (apt_install.sh).
# Exits 0 when redis-server is installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

REDIS=/usr/bin/redis-server
VALKEY=/usr/bin/valkey-server

have_valkey_candidate() {
    local candidate
    candidate=$(apt-cache policy valkey-server 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ -n $candidate && $candidate != "(none)" ]]
}

redis_installed() { [[ -x $REDIS ]]; }

if redis_installed && { [[ -x $VALKEY ]] || ! have_valkey_candidate; }; then
    exit 0
fi
apt_prepare install_redis.sh "$REDIS" redis-server
packages=(redis-server)
# Valkey is packaged from Debian 13 (trixie) on; on older releases only Redis is tested.
if have_valkey_candidate; then
    packages+=(valkey-server)
fi
apt_install "${packages[@]}"
status=$?
if redis_installed; then
    exit 0
fi
echo "install_redis.sh: apt-get install ${packages[*]} failed (exit $status)" >&2
exit 4
