"""mod_setenvif and mod_env: the request's environment variables from the config.

Owns `SetEnvIf`/`SetEnvIfNoCase`/`BrowserMatch*` (setenvif.c's match_headers: server-level
lines at post-read-request, section lines at header-parser) and `SetEnv`/`UnsetEnv`/
`PassEnv` (mod_env's fixup_env_module: the merged variables overlaid on
`req.subprocess_env` in the fixups phase, before PythonFixupHandler, as a Debian httpd
that loads mod_env before mod_python runs them). Must not parse config text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from ..config.httpdmods import EnvCondition, HttpdMods
    from ..runtime.record import RequestRec


def apply_conditions(req: RequestRec, conditions: tuple[EnvCondition, ...]) -> None:
    """setenvif.c's match_headers over `conditions`, in order."""
    env = req.subprocess_env
    for condition in conditions:
        value = _attribute(req, condition)
        if value is None:
            continue
        match = condition.pattern.search(value)
        if match is None:
            continue
        for name, text in condition.actions:
            if text is None:
                if name in env:
                    del env[name]
            else:
                env[name] = substitute(text, match) if "$" in text else text


def _attribute(req: RequestRec, condition: EnvCondition) -> Optional[str]:
    special = condition.special
    if special is not None:
        return _special(req, special)
    if condition.name_regex is not None:
        # every header whose name matches; the last one's value is tested (setenvif.c)
        found = None
        for name, value in req.headers_in.items():
            if condition.name_regex.search(name) is not None:
                found = value
        return found
    value = req.headers_in.get(condition.name)
    if value is None:  # an earlier SetEnvIf's variable
        value = req.subprocess_env.get(condition.name)
    if value is None:  # neither: matched as the empty string (what httpd 2.4 does)
        return ""
    return value if isinstance(value, str) else value[0]


def _special(req: RequestRec, special: str) -> str:
    if special in ("remote_addr", "remote_host"):
        # ap_get_useragent_host(REMOTE_NAME) is the address with HostnameLookups Off,
        # the only value prefork-modpy accepts
        return req.useragent_ip
    if special == "server_addr":
        return req.raw.local_addr[0]
    if special == "request_method":
        return req.method
    if special == "request_protocol":
        return req.protocol
    return req.uri


def substitute(text: str, match: Any) -> str:
    """ap_pregsub: `$0`-`$9` and `&` are the groups, `\\` escapes the next character."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == "&" or (char == "$" and index + 1 < len(text) and text[index + 1].isdigit()):
            group = 0 if char == "&" else int(text[index + 1])
            index += 1 if char == "&" else 2
            try:
                out.append(match.group(group) or "")
            except (IndexError, ValueError):
                pass
            continue
        out.append(char)
        index += 1
    return "".join(out)


def fixup_env(req: RequestRec, mods: HttpdMods) -> None:
    """mod_env's fixup: apr_table_overlay of the merged SetEnv/PassEnv variables (UnsetEnv
    already removed at merge time)."""
    if not mods.env_set:
        return
    env = req.subprocess_env
    for name, value in mods.env_set.items():
        env.add(name, value)
