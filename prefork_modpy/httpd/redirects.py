"""mod_alias's `Redirect`/`RedirectMatch`/`RedirectPermanent`/`RedirectTemp` and `AliasMatch`.

Owns translate_alias_redir's redirects and AliasMatch (server and virtual-host lines, in the
translate-name phase, before PythonTransHandler: modpy/httpdhooks.py) and fixup_redir (redirects
written in <Directory>/<Location>, in the fixups phase). A redirect answers its status
with `Location` (the request's query string appended unless the target has its own, as
translate_alias_redir does).
Must not parse config text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from . import cgienv
from .envvars import substitute

if TYPE_CHECKING:
    from ..config.httpdmods import AliasMatchRule, RedirectRule
    from ..runtime.record import RequestRec


def redirect(req: RequestRec, rules: tuple[RedirectRule, ...]) -> Optional[int]:
    """The status of the first matching rule (Location set), or None."""
    uri = req.uri
    for rule in rules:
        target = _target(rule, uri)
        if target is None:
            continue
        if rule.target is None:
            return rule.status  # gone (410) and other non-3xx statuses carry no URL
        target = _absolute(req, target)
        if req.args and "?" not in target:  # the request's query unless the config gave one
            target += "?" + req.args
        req.err_headers_out["Location"] = target
        return rule.status
    return None


def _target(rule: RedirectRule, uri: str) -> Optional[str]:
    if rule.regex is not None:
        match = rule.regex.search(uri)
        if match is None:
            return None
        return substitute(rule.target, match) if rule.target else ""
    prefix = rule.prefix or ""
    # mod_alias's alias_matches: the prefix ends at a path-segment boundary
    if not _prefix_matches(uri, prefix):
        return None
    return (rule.target or "") + uri[len(prefix):]


def _prefix_matches(uri: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return uri.startswith(prefix)
    return uri == prefix or uri.startswith(prefix + "/")


def _absolute(req: RequestRec, target: str) -> str:
    """A target without scheme becomes a URL on this server (ap_construct_url)."""
    if target.startswith("/"):
        port = cgienv.server_port(req)
        return f"http://{cgienv.server_name(req)}{'' if port == 80 else f':{port}'}{target}"
    return target


def alias_match(rules: tuple[AliasMatchRule, ...], uri: str) -> Optional[tuple[str, str]]:
    """(the file an AliasMatch maps `uri` to (ap_pregsub on the target), the directory the
    target fixes before its first substitution: the root symbolic links must stay in), or
    None."""
    for rule in rules:
        match = rule.regex.search(uri)
        if match is not None:
            fixed = rule.target.split("$", 1)[0].split("&", 1)[0]
            return substitute(rule.target, match), fixed.rpartition("/")[0] or "/"
    return None
