#!/usr/bin/env bash
# Installs Debian's haproxy, used by tests/cluster/test_cluster.py, which starts its own
# instance on loopback ports in front of prefork-modpy nodes.  Idempotent: does nothing when
# haproxy is already there.  The distribution's own service is never started (apt_install.sh).
# Exits 0 when haproxy is installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

HAPROXY=/usr/sbin/haproxy

installed() { [[ -x $HAPROXY ]]; }

apt_ensure install_haproxy.sh "$HAPROXY" installed haproxy
