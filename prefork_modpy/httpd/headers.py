"""mod_headers: `Header` and `RequestHeader` applied to a request's tables.

Owns do_headers_fixup as httpd 2.4 runs it: `RequestHeader` on headers_in at the fixup
phase (ap_headers_fixup, after PythonFixupHandler), `Header` (onsuccess) on headers_out and
`Header always` on err_headers_out when the response's first output passes
(ap_headers_output_filter), and only `always` on an error document (ap_headers_error_filter,
into a fresh table that httpd overlays on the page's headers). Value tags %t, %D, %{VAR}e,
the actions set/setifempty/add/append/merge/unset/echo/edit/edit*/note and env=[!]VAR
conditions. Must not send anything.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

from ..config.outputmods import FormatPart, HeaderAction
from ..runtime.table import Table
from .cgienv import server_port
from .forwardedproto import HTTPS, scheme_of

if TYPE_CHECKING:
    from ..runtime.record import RequestRec


def fixup_request(req: RequestRec, actions: tuple[HeaderAction, ...]) -> None:
    """RequestHeader: ap_headers_fixup on headers_in."""
    apply(req, req.headers_in, actions)


def fixup_output(req: RequestRec, actions: tuple[HeaderAction, ...]) -> None:
    """Header: ap_headers_output_filter, both tables, in configuration order per table."""
    apply(req, req.headers_out, [action for action in actions if not action.always])
    apply(req, req.err_headers_out, [action for action in actions if action.always])


def error_headers(req: RequestRec, actions: tuple[HeaderAction, ...]) -> list[tuple[str, str]]:
    """`Header always` on an error document: applied to the fresh table httpd's
    ap_send_error_response leaves in err_headers_out; its items join the page's headers."""
    fresh = Table()
    apply(req, fresh, [action for action in actions if action.always])
    return fresh.items()


def apply(req: RequestRec, table: Table, actions: list[HeaderAction] | tuple[HeaderAction, ...]
          ) -> None:
    for action in actions:
        if action.env is not None and not _env_allows(req, action.env):
            continue
        condition = action.condition
        if condition is not None and not condition.evaluate(lambda name: variable(req, name)):
            continue
        _ACTIONS[action.action](req, table, action)


def _env_allows(req: RequestRec, env: str) -> bool:
    if env.startswith("!"):
        return req.subprocess_env.get(env[1:]) is None
    return req.subprocess_env.get(env) is not None


def variable(req: RequestRec, name: str) -> str:
    """An ap_expr variable of `req` (config/apexpr.py lists the names)."""
    headers_in = req.headers_in
    values = {
        "REQUEST_URI": lambda: req.uri, "REQUEST_METHOD": lambda: req.method,
        "REQUEST_SCHEME": lambda: scheme_of(req.raw), "QUERY_STRING": lambda: req.args or "",
        "REQUEST_FILENAME": lambda: req.filename or "", "REMOTE_ADDR": lambda: req.useragent_ip,
        "HTTP_HOST": lambda: headers_in.get("Host") or "",
        "HTTP_USER_AGENT": lambda: headers_in.get("User-Agent") or "",
        "HTTP_REFERER": lambda: headers_in.get("Referer") or "",
        "HTTP_COOKIE": lambda: headers_in.get("Cookie") or "",
        "HTTP_ACCEPT": lambda: headers_in.get("Accept") or "",
        "CONTENT_TYPE": lambda: req.content_type or "",
        "REQUEST_STATUS": lambda: str(req.status), "HANDLER": lambda: req.handler or "",
        "THE_REQUEST": lambda: req.the_request, "SERVER_NAME": lambda: req.hostname or "",
        "SERVER_PORT": lambda: str(server_port(req)),  # ap_get_server_port
        "SERVER_PROTOCOL": lambda: req.protocol, "DOCUMENT_ROOT": req.document_root,
        "HTTPS": lambda: "on" if scheme_of(req.raw) == HTTPS else "off",
        "IS_SUBREQ": lambda: "false",
    }
    return str(values[name]())


def render(req: RequestRec, parts: tuple[FormatPart, ...]) -> str:
    """process_tags: the value with %t, %D and %{VAR}e filled in."""
    out: list[str] = []
    for part in parts:
        if not part.tag:
            out.append(part.text)
        elif part.tag == "t":
            out.append(f"t={int(req.request_time * 1_000_000)}")
        elif part.tag == "D":
            out.append(f"D={int((time.time() - req.request_time) * 1_000_000)}")
        else:
            value = req.subprocess_env.get(part.text)
            out.append(value if value is not None else "(null)")
    return "".join(out)


def _set(req: RequestRec, table: Table, action: HeaderAction) -> None:
    value = render(req, action.value)
    if action.header.lower() == "content-type":
        req.content_type = value
    table[action.header] = value


def _set_if_empty(req: RequestRec, table: Table, action: HeaderAction) -> None:
    if table.get(action.header) is None:
        _set(req, table, action)


def _add(req: RequestRec, table: Table, action: HeaderAction) -> None:
    table.add(action.header, render(req, action.value))


def _append(req: RequestRec, table: Table, action: HeaderAction) -> None:
    merge_value(table, action.header, render(req, action.value))


def merge_value(table: Table, name: str, value: str) -> None:
    """apr_table_mergen: ", value" onto the first such header, else a new one."""
    current = table.get(name)
    if current is None:
        table.add(name, value)
        return
    cells = table.getall(name)
    del table[name]
    table.add(name, f"{current}, {value}")
    for other in cells[1:]:
        table.add(name, other)


def _merge(req: RequestRec, table: Table, action: HeaderAction) -> None:
    value = render(req, action.value)
    current = table.get(action.header)
    if current is None:
        table.add(action.header, value)
    elif value not in _tokens(current):
        merge_value(table, action.header, value)


def _tokens(value: str) -> list[str]:
    """The comma-separated items of `value` as hdr_merge compares them: leading spaces
    skipped, quoted strings kept whole (commas inside them do not split)."""
    items: list[str] = []
    index, size = 0, len(value)
    while index < size:
        while index < size and value[index].isspace():
            index += 1
        start = index
        while index < size and value[index] != ",":
            if value[index] == '"':
                close = value.find('"', index + 1)
                index = size if close < 0 else close + 1
            else:
                index += 1
        items.append(value[start:index])
        index += 1
    return items


def _unset(req: RequestRec, table: Table, action: HeaderAction) -> None:
    if action.header in table:
        del table[action.header]


def _echo(req: RequestRec, table: Table, action: HeaderAction) -> None:
    """echo_header: every request header whose name matches goes to headers_out."""
    regex = action.regex
    assert regex is not None
    for name, value in req.headers_in.items():
        if regex.search(name) is not None:
            req.headers_out.add(name, value)


def _edit(req: RequestRec, table: Table, action: HeaderAction) -> None:
    replacement = render(req, action.value)
    if action.header.lower() == "content-type" and req.content_type:
        req.content_type = edit_value(action, req.content_type, replacement)
    values = table.getall(action.header)
    if not values:
        return
    del table[action.header]
    for value in values:
        table.add(action.header, edit_value(action, value, replacement))


def edit_value(action: HeaderAction, value: str, replacement: str) -> str:
    """process_regexp: the first match replaced (edit), or each match (edit*), with $N/&
    substitutions (ap_pregsub)."""
    regex = action.regex
    assert regex is not None
    out: list[str] = []
    position = 0
    while position <= len(value):
        match = regex.search(value[position:]) if position else regex.search(value)
        if match is None:
            break
        start, end = match.start() + position, match.end() + position
        out.append(value[position:start])
        out.append(_substitute(replacement, match))
        if action.action == "edit" or end == len(value):
            position = end
            break
        if end == start:  # an empty match: keep one character and go on
            out.append(value[end])
            end += 1
        position = end
    out.append(value[position:])
    return "".join(out)


def _substitute(template: str, match: object) -> str:
    """ap_pregsub: & and $0 the whole match, $1..$9 the groups, \\x the character x."""
    out: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        group: Optional[int] = None
        if char == "&":
            group = 0
        elif char == "$" and index + 1 < len(template) and template[index + 1].isdigit():
            group = int(template[index + 1])
            index += 1
        elif char == "\\" and index + 1 < len(template) and template[index + 1] in "\\$&":
            index += 1
            char = template[index]
        if group is None:
            out.append(char)
        else:
            try:
                out.append(match.group(group) or "")  # type: ignore[attr-defined]
            except (IndexError, ValueError):
                pass
        index += 1
    return "".join(out)


def _note(req: RequestRec, table: Table, action: HeaderAction) -> None:
    value = table.get(action.header)
    if value is not None:
        req.notes[render(req, action.value)] = value


_ACTIONS = {"set": _set, "setifempty": _set_if_empty, "add": _add, "append": _append,
            "merge": _merge, "unset": _unset, "echo": _echo, "edit": _edit, "edit*": _edit,
            "note": _note}
