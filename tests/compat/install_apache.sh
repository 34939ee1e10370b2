#!/usr/bin/env bash
# Installs Debian's Apache httpd and mod_python, used by tests/compat (through `make apache`,
# a step of `make test`) and bench/ to run the same handlers under the real thing. Idempotent: does nothing when both are already there.
# Exits 0 when installed; otherwise prints why on stderr and exits non-zero.
set -uo pipefail

APACHE=/usr/sbin/apache2
MOD_PYTHON=/usr/lib/apache2/modules/mod_python.so
# apache2-utils' htpasswd writes the password files of tests/compat/test_access_auth_compat.py.
HTPASSWD=/usr/bin/htpasswd

installed() { [[ -x $APACHE && -f $MOD_PYTHON && -x $HTPASSWD ]]; }

if installed; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "install_apache.sh: $APACHE or $MOD_PYTHON missing and not root (cannot apt-get)" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null; then
    echo "install_apache.sh: $APACHE or $MOD_PYTHON missing and no apt-get (not Debian?)" >&2
    exit 3
fi

export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; an update is cheap compared to a failure.
if ! apt-cache show libapache2-mod-python >/dev/null 2>&1; then
    timeout 300 apt-get update -q >&2 || echo "install_apache.sh: apt-get update failed" >&2
fi
# policy-rc.d exit 101 keeps the package scripts from starting the system-wide Apache
# (we run our own instances on loopback ports, never the distribution's service).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
fi
# Another apt-get may hold the dpkg lock (unattended upgrades, a parallel install): wait for
# it rather than fail at once.
timeout 600 apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
    apache2 apache2-utils libapache2-mod-python >&2
status=$?
if [[ $created_policy -eq 1 ]]; then
    rm -f "$policy"
fi

if installed; then
    exit 0
fi
echo "install_apache.sh: apt-get install apache2 apache2-utils libapache2-mod-python failed" \
    "(exit $status)" >&2
exit 4
