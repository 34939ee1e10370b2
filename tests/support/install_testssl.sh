#!/usr/bin/env bash
# Installs Debian's testssl.sh, used by tests/tls/test_scan.py to scan the server's TLS
# protocols and cipher suites on a loopback port.  Idempotent: does nothing when `testssl` is
# already there.
# Exits 0 when testssl is installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

TESTSSL=/usr/bin/testssl

installed() { [[ -x $TESTSSL ]]; }

apt_ensure install_testssl.sh "$TESTSSL" installed testssl.sh
