"""mod_access_compat's `Order`/`Allow`/`Deny`, and the host-name test it shares with
`Require host`.

Owns check_dir_access (the access-checker hook: OK or 403) and the double-reverse DNS
lookup httpd does for host names (REMOTE_DOUBLE_REV): the client's address is resolved to
a name, and the name must resolve back to that address, or no host rule matches. That
costs a DNS round trip per request that reaches such a rule, as in httpd, whose
documentation warns about it; address rules need no lookup. Must not parse config text.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Optional

from mod_python import apache

from ..config.httpdmods import ALLOW_THEN_DENY, DENY_THEN_ALLOW, applies

if TYPE_CHECKING:
    from ..config.httpdmods import AccessCompat, HostRule
    from ..runtime.record import RequestRec


def check(req: RequestRec, access: AccessCompat) -> int:
    """mod_access_compat's check_dir_access for the request's method."""
    method = req.method
    order = access.order_for(method)
    lookup = _HostLookup(req)
    if order == ALLOW_THEN_DENY:
        result = apache.HTTP_FORBIDDEN
        if _find(req, access.allows, method, lookup):
            result = apache.OK
        if _find(req, access.denies, method, lookup):
            result = apache.HTTP_FORBIDDEN
    elif order == DENY_THEN_ALLOW:
        result = apache.OK
        if _find(req, access.denies, method, lookup):
            result = apache.HTTP_FORBIDDEN
        if _find(req, access.allows, method, lookup):
            result = apache.OK
    else:  # mutual-failure
        allowed = _find(req, access.allows, method, lookup)
        result = apache.OK if allowed and not _find(req, access.denies, method, lookup) \
            else apache.HTTP_FORBIDDEN
    if result == apache.HTTP_FORBIDDEN:
        req.log_error(f"client denied by server configuration: {req.filename or req.uri}")
    return result


def _find(req: RequestRec, rules: list[HostRule], method: str, lookup: _HostLookup) -> bool:
    """find_allowdeny: whether one rule for this method matches the client."""
    for rule in rules:
        if not applies(rule.limited, method):
            continue
        kind = rule.kind
        if kind == "all":
            return True
        if kind == "env" and req.subprocess_env.get(rule.text) is not None:
            return True
        if kind == "nenv" and req.subprocess_env.get(rule.text) is None:
            return True
        if kind == "ip" and lookup.address in rule.network:
            return True
        if kind == "host":
            name = lookup.double_reverse()
            if name is not None and in_domain(rule.text, name):
                return True
    return False


class _HostLookup:
    """The client's address, and its name once asked for (one lookup per request)."""

    def __init__(self, req: RequestRec) -> None:
        self.address = ipaddress.ip_address(req.useragent_ip.partition("%")[0])
        self._name: Optional[str] = None
        self._done = False

    def double_reverse(self) -> Optional[str]:
        if not self._done:
            self._done = True
            self._name = double_reverse(str(self.address))
        return self._name


def double_reverse(address: str) -> Optional[str]:
    """The host name of `address` if it resolves back to `address` (REMOTE_DOUBLE_REV)."""
    try:
        name = socket.gethostbyaddr(address)[0]
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return None
    return name.lower() if address in addresses else None


def in_domain(domain: str, host: str) -> bool:
    """mod_access_compat's in_domain: `host` is `domain` or lies under it (a whole label)."""
    if not host.endswith(domain):
        return False
    if len(host) == len(domain):
        return True
    return domain.startswith(".") or host[len(host) - len(domain) - 1] == "."
