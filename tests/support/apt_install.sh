# Sourced by the tests' install scripts (tests/compat/install_apache.sh,
# tests/support/install_{redis,haproxy,testssl}.sh): the apt-get steps they share.
#
# Owns: the root and apt-get checks, one `apt-get update` when the package lists lack the
# package, keeping the distribution's service from starting (policy-rc.d exit 101), and the
# bounded `apt-get install`.  Must not decide what "installed" means: each script checks its
# own files.
#
# Exit codes the scripts share: 0 installed, 2 not root, 3 no apt-get, 4 the install failed.

# apt_prepare WHO WHAT PROBE: exits 2/3 (with WHO's message on stderr) when apt-get cannot
# run; otherwise refreshes the package lists if PROBE is not in them.
apt_prepare() {
    local who=$1 what=$2 probe=$3
    if [[ $(id -u) -ne 0 ]]; then
        echo "$who: $what missing and not root (cannot apt-get)" >&2
        exit 2
    fi
    if ! command -v apt-get >/dev/null; then
        echo "$who: $what missing and no apt-get (not Debian?)" >&2
        exit 3
    fi
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be absent on a fresh machine; an update is cheap compared to a
    # failure.
    if ! apt-cache show "$probe" >/dev/null 2>&1; then
        timeout 300 apt-get update -q >&2 || echo "$who: apt-get update failed" >&2
    fi
}

# apt_install PACKAGE...: installs them without recommends; returns apt-get's status.
apt_install() {
    # policy-rc.d exit 101 keeps the package scripts from starting the system-wide service
    # (the tests run their own instances on loopback ports, never the distribution's).
    local policy=/usr/sbin/policy-rc.d created_policy=0 status
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
    fi
    # Another apt-get may hold the dpkg lock (unattended upgrades, a parallel install): wait
    # for it rather than fail at once.
    timeout 600 apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
        "$@" >&2
    status=$?
    if [[ $created_policy -eq 1 ]]; then
        rm -f "$policy"
    fi
    return "$status"
}

# apt_ensure WHO WHAT CHECK PACKAGE...: exits 0 at once when the command CHECK succeeds;
# otherwise installs the packages and exits 0 if CHECK then succeeds, else 2, 3 or 4.
apt_ensure() {
    local who=$1 what=$2 check=$3 status
    shift 3
    if "$check"; then
        exit 0
    fi
    apt_prepare "$who" "$what" "$1"
    apt_install "$@"
    status=$?
    if "$check"; then
        exit 0
    fi
    echo "$who: apt-get install $* failed (exit $status)" >&2
    exit 4
}
