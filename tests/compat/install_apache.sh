#!/usr/bin/env bash
# Installs Debian's Apache httpd and mod_python, used by tests/compat (through `make apache`,
# a step of `make test`) and bench/ to run the same handlers under the real thing.
# Idempotent: does nothing when both are already there.  The distribution's own service is
# never started (tests/support/apt_install.sh).
# Exits 0 when installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../support/apt_install.sh"

APACHE=/usr/sbin/apache2
MOD_PYTHON=/usr/lib/apache2/modules/mod_python.so
# apache2-utils' htpasswd writes the password files of tests/compat/test_access_auth_compat.py.
HTPASSWD=/usr/bin/htpasswd

installed() { [[ -x $APACHE && -f $MOD_PYTHON && -x $HTPASSWD ]]; }

# The probe for the package lists is the package most likely missing from them.
apt_ensure install_apache.sh "$APACHE or $MOD_PYTHON" installed \
    libapache2-mod-python apache2 apache2-utils
