"""mod_autoindex: the listing of a directory without an index file, under Options Indexes.

Owns index_directory and output_directories as httpd 2.4 writes them: the HTML 3.2 preamble
(or the HeaderName file), the column links (?C=N;O=D sorting, F= format, V= version sort,
P= pattern), the parent entry and one entry per file not matched by IndexIgnore, sorted by
dsortf (natural order with VersionSort, folders first with FoldersFirst), with icons and alt
texts from AddIcon*/AddAlt*/DefaultIcon, descriptions from AddDescription, sizes as
apr_strfsize and times as "%Y-%m-%d %H:%M" in local time; in an HTML table (HTMLTable), a
<pre> block (FancyIndexing) or a list; then the ReadmeName file. Names are URL-escaped
(ap_os_escape_path) and HTML-escaped. Must not choose whether a directory is listed
(static.py does, from Options).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from functools import cmp_to_key
from typing import TYPE_CHECKING, Optional
from urllib.parse import unquote

from mod_python import apache

from ..config.autoindex import (
    DEFAULT_DESC_WIDTH,
    DEFAULT_NAME_WIDTH,
    AutoindexConf,
    Item,
    fn_match,
    wildcard_match,
)
from . import mime

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

# httpd 2.4.64+ (Debian's 2.4.67) writes the HTML 4.01 doctype (2.4.63 and older: 3.2).
DOCTYPE_HTML = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
                '"http://www.w3.org/TR/html4/strict.dtd">\n')
DOCTYPE_XHTML_1_0T = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
                      '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n')
_PATH_SAFE = frozenset(b"$-_.+!*'(),:;@&=/~")
_KEYS = "NMSD"


@dataclass
class Entry:
    """struct ent: one row of the listing."""

    name: str  # with "/" after a directory; the parent's is its URI
    size: int = -1
    mtime: Optional[float] = None
    icon: Optional[str] = None
    alt: Optional[str] = None
    desc: Optional[str] = None
    is_dir_first: bool = False  # FoldersFirst and a directory


@dataclass
class Query:
    """What the client's query asks for (C=, O=, F=, V=, P=) and the column links' tail."""

    key: str
    direction: str
    options: set[str]
    pattern: Optional[str]
    colargs: str


def serve(req: RequestRec, conf: Optional[AutoindexConf]) -> int:
    """handle_autoindex for a GET (or HEAD) of a directory URL; OK or an HTTP status."""
    conf = conf.resolved() if conf is not None else AutoindexConf()
    req.allowed_mask |= 1 << apache.M_GET
    if req.method not in ("GET", "HEAD"):
        return apache.DECLINED
    dirname = req.filename or ""
    if not dirname.endswith("/"):
        dirname += "/"
    try:
        names = os.listdir(dirname)
    except OSError:
        req.log_error(f"Can't open directory for index: {dirname}")
        return apache.HTTP_FORBIDDEN
    ctype = conf.content_type or "text/html"
    charset = conf.charset if conf.charset is not None else "UTF-8"
    req.content_type = f"{ctype};charset={charset}" if charset else ctype
    options = set(conf.effective_options)
    if "trackmodified" in options:
        _track_modified(req, dirname)
    if req.header_only:
        return apache.OK
    query = _parse_query(req.args, conf, options)
    page = _render(req, conf, dirname, names, query)
    req.write(page.encode("utf-8", "surrogateescape"), 0)
    return apache.OK


def _track_modified(req: RequestRec, dirname: str) -> None:
    from . import conditional

    info = os.stat(dirname)
    req.update_mtime(info.st_mtime)
    conditional.set_last_modified(req)
    req.headers_out["ETag"] = conditional.file_etag(req, info)


def _parse_query(args: Optional[str], conf: AutoindexConf, options: set[str]) -> Query:
    """index_directory's query scan; anything it does not know ends the scan."""
    key = conf.order_key or "N"
    direction = conf.order_direction or "A"
    if "ignoreclient" in options:
        options.add("suppresscolumnsorting")
        return Query(key, direction, options, None, "")
    fval = vval = ppre = epattern = ""
    pattern: Optional[str] = None
    text = args or ""
    while text:
        head, sep = text[:2], text[3:4]
        value = text[2:3]
        ends = sep in ("&", ";", "")
        step = 4 if sep else 3
        if head == "C=" and value and value in _KEYS and ends:
            key = value
        elif head == "O=" and value in ("A", "D") and value and ends:
            direction = value
        elif head == "F=" and value and value in "012" and ends:
            options.discard("fancyindexing")
            options.discard("htmltable")
            if value in "12":
                options.add("fancyindexing")
            if value == "2":
                options.add("htmltable")
            fval = f";F={value}"
        elif head == "V=" and value in ("0", "1") and value and ends:
            (options.add if value == "1" else options.discard)("versionsort")
            vval = f";V={value}"
        elif head == "P=":
            rest = text[2:]
            end = min([i for i in (rest.find("&"), rest.find(";")) if i >= 0] or [len(rest)])
            raw = rest[:end]
            pattern = unquote(raw) if raw else None
            if pattern is not None:
                ppre, epattern = ";P=", _escape_uri(pattern)
            text = rest[end + 1:] if end < len(rest) else ""
            continue
        else:
            break
        text = text[step:]
    return Query(key, direction, options, pattern, fval + vval + ppre + epattern)


# -- escaping ---------------------------------------------------------------------------------

def escape_html(text: str) -> str:
    """ap_escape_html: < > & and \" only."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def escape_path(name: str) -> str:
    """ap_os_escape_path(name, 0): "./" before a colon that comes before any slash, and
    %xx (lower-case hex) for bytes outside letters, digits and $-_.+!*'(),:;@&=/~."""
    prefix = ""
    colon, slash = name.find(":"), name.find("/")
    if colon >= 0 and (slash < 0 or colon < slash):
        prefix = "./"
    out = []
    for byte in name.encode("utf-8", "surrogateescape"):
        if (48 <= byte <= 57) or (65 <= byte <= 90) or (97 <= byte <= 122) \
                or byte in _PATH_SAFE:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02x}")
    return prefix + "".join(out)


def _escape_uri(text: str) -> str:
    """ap_escape_uri (ap_os_escape_path with partial=1)."""
    return escape_path(text).removeprefix("./") if text[:1] != "." else escape_path(text)


# -- entries ----------------------------------------------------------------------------------

def _find_item(items: tuple[Item, ...], path: str, content_type: Optional[str],
               encoding: Optional[str], path_only: bool) -> Optional[str]:
    """find_item: the first item whose pattern matches the path, type or encoding."""
    for item in items:
        if not (path[:1] == "^" or wildcard_match(path, item.apply_path)):
            continue
        if not item.apply_to:
            return item.data
        if item.kind == "path" or path[:1] == "^":
            if wildcard_match(path, item.apply_to):
                return item.data
        elif not path_only:
            if encoding is None:
                if item.kind == "type" and content_type \
                        and wildcard_match(content_type, item.apply_to, icase=True):
                    return item.data
            elif item.kind == "encoding" and wildcard_match(encoding, item.apply_to,
                                                             icase=True):
                return item.data
    return None


def _find_desc(conf: AutoindexConf, full: str) -> Optional[str]:
    name = full.rpartition("/")[2]
    for desc in conf.descriptions:
        target = full if desc.full_path else name
        if (fn_match(desc.pattern, target) if desc.wildcards else desc.pattern in target):
            return desc.text
    return None


def _ignored(conf: AutoindexConf, path: str) -> bool:
    """ignore_entry: the pattern after its last '/' against the file's name."""
    name = path.rpartition("/")[2]
    for item in conf.ignores:
        pattern = item.apply_to.rpartition("/")[2]
        if wildcard_match(path, item.apply_path) and wildcard_match(name, pattern):
            return True
    return False


def _parent(req: RequestRec, conf: AutoindexConf, dirname: str,
            options: set[str]) -> Optional[Entry]:
    """make_parent_entry: the URI one level up, unless we are at the root."""
    uri = req.uri if req.uri.endswith("/") else req.uri + "/"
    parent = os.path.normpath(uri + "..")
    if uri == "/" or not parent:
        return None
    parent = parent if parent.endswith("/") else parent + "/"
    testpath = dirname + ".."
    if _ignored(conf, testpath):
        return None
    entry = Entry(parent)
    if "fancyindexing" in options:
        entry.icon = _find_item(conf.icons, testpath, None, None, True) or _find_item(
            conf.icons, "^^DIRECTORY^^", None, None, True)
        entry.alt = _find_item(conf.alts, testpath, None, None, True) or _find_item(
            conf.alts, "^^DIRECTORY^^", None, None, True) or "PARENTDIR"
        entry.desc = _find_desc(conf, testpath)
    return entry


def _entry(req: RequestRec, conf: AutoindexConf, dirname: str, name: str,
           options: set[str], pattern: Optional[str]) -> Optional[Entry]:
    """make_autoindex_entry: None for '.', '..', a name outside the P= pattern, an ignored
    one, or anything but a file or directory."""
    if name in (".", ".."):
        return None
    if pattern is not None and not fn_match(pattern, name):
        return None
    full = dirname + name
    if _ignored(conf, full):
        return None
    try:
        info = os.stat(full)
    except OSError:
        return None
    is_dir = stat.S_ISDIR(info.st_mode)
    if not is_dir and not stat.S_ISREG(info.st_mode):
        return None
    entry = Entry(name + "/" if is_dir else name)
    if options & {"fancyindexing", "htmltable"}:
        entry.mtime = info.st_mtime
        if is_dir:
            entry.is_dir_first = "foldersfirst" in options
            entry.icon = _find_item(conf.icons, full, None, None, True) or _find_item(
                conf.icons, "^^DIRECTORY^^", None, None, True)
            entry.alt = _find_item(conf.alts, full, None, None, True) or _find_item(
                conf.alts, "^^DIRECTORY^^", None, None, True) or "DIR"
        else:
            kind, encoding, _ = mime.find_type(full, req.per_dir_config)
            kind = kind.split(";")[0].strip() if kind else None
            entry.icon = _find_item(conf.icons, full, kind, encoding, False)
            entry.alt = _find_item(conf.alts, full, kind, encoding, False)
            entry.size = info.st_size
        entry.desc = _find_desc(conf, full)
    return entry


# -- sorting ----------------------------------------------------------------------------------

def _natcmp(left: str, right: str, icase: bool = False) -> int:
    """apr_strnatcmp: digit runs compare as numbers (with leading zeros as fractions)."""
    a, b = (left.lower(), right.lower()) if icase else (left, right)
    i = j = 0
    while True:
        while i < len(a) and a[i].isspace():
            i += 1
        while j < len(b) and b[j].isspace():
            j += 1
        ca, cb = a[i:i + 1], b[j:j + 1]
        if ca.isdigit() and cb.isdigit():
            ei, ej = i, j
            while ei < len(a) and a[ei].isdigit():
                ei += 1
            while ej < len(b) and b[ej].isdigit():
                ej += 1
            run_a, run_b = a[i:ei], b[j:ej]
            if ca == "0" or cb == "0":  # compare_left: as fractions
                result = _cmp(run_a, run_b) if run_a.ljust(len(run_b), "\0")[:len(run_b)] \
                    != run_b.ljust(len(run_a), "\0")[:len(run_a)] else _cmp(len(run_a),
                                                                             len(run_b))
            else:  # compare_right: the longer run is bigger, else the first difference
                result = _cmp(len(run_a), len(run_b)) or _cmp(run_a, run_b)
            if result:
                return result
            i, j = ei, ej
            continue
        if not ca and not cb:
            return 0
        if ca != cb:
            return _cmp(ca, cb)
        i += 1
        j += 1


def _cmp(left: object, right: object) -> int:
    return (left > right) - (left < right)  # type: ignore[operator]


def _strcmp(left: str, right: str) -> int:
    return _cmp(left.encode("utf-8", "surrogateescape"), right.encode("utf-8", "surrogateescape"))


def _sorter(query: Query):  # noqa: ANN202 - a comparison function for sorted()
    options = query.options
    version_sort, icase = "versionsort" in options, "ignorecase" in options

    def compare(e1: Entry, e2: Entry) -> int:
        """dsortf."""
        if e1.name.startswith("/"):
            return -1
        if e2.name.startswith("/"):
            return 1
        if e1.is_dir_first != e2.is_dir_first:
            return -1 if e1.is_dir_first else 1
        c1, c2 = (e1, e2) if query.direction == "A" else (e2, e1)
        result = 0
        if query.key == "M":
            result = _cmp(c1.mtime or 0, c2.mtime or 0)
        elif query.key == "S":
            result = _cmp(c1.size, c2.size)
        elif query.key == "D":
            d1, d2 = c1.desc or "", c2.desc or ""
            result = _natcmp(d1, d2) if version_sort else _strcmp(d1, d2)
        if result:
            return result
        if version_sort:
            if icase:
                result = _natcmp(c1.name, c2.name, icase=True)
            if not result:
                result = _natcmp(c1.name, c2.name)
        if not result and icase:
            result = _cmp(c1.name.lower(), c2.name.lower())
        return result or _strcmp(c1.name, c2.name)

    return cmp_to_key(compare)


# -- output -----------------------------------------------------------------------------------

def strfsize(size: int) -> str:
    """apr_strfsize: 4 characters ("  - ", "123 ", "1.2K", " 12M")."""
    if size < 0:
        return "  - "
    if size < 973:
        return f"{size:3d} "
    units = "KMGTPE"
    unit = 0
    while True:
        remain = size & 1023
        size >>= 10
        if size >= 973:
            unit += 1
            continue
        if size < 9 or (size == 9 and remain < 973):
            remain = ((remain * 5) + 256) // 512
            if remain >= 10:
                size, remain = size + 1, 0
            return f"{size}.{remain}{units[unit]}"
        if remain >= 512:
            size += 1
        return f"{size:3d}{units[unit]}"


def _render(req: RequestRec, conf: AutoindexConf, dirname: str, names: list[str],
            query: Query) -> str:
    options = query.options
    title = escape_html(req.uri).rstrip("/") or "/"
    out: list[str] = []
    _emit_head(req, conf, dirname, title, options, out)
    entries = [entry for entry in ([_parent(req, conf, dirname, options)]
                                   + [_entry(req, conf, dirname, name, options, query.pattern)
                                      for name in names]) if entry is not None]
    entries.sort(key=_sorter(query))
    _output(conf, entries, query, out)
    _emit_tail(req, conf, dirname, options, out)
    return "".join(out)


def _preamble(conf: AutoindexConf, title: str, xhtml: bool) -> str:
    """emit_preamble."""
    if xhtml:
        text = (DOCTYPE_XHTML_1_0T + '<html xmlns="http://www.w3.org/1999/xhtml">\n'
                f" <head>\n  <title>Index of {title}</title>\n")
    else:
        text = f"{DOCTYPE_HTML}<html>\n <head>\n  <title>Index of {title}</title>\n"
    if conf.style_sheet is not None:
        text += (f'  <link rel="stylesheet" href="{conf.style_sheet}" type="text/css"'
                 + (" />\n" if xhtml else ">\n"))
    if conf.head_insert is not None:
        text += conf.head_insert
    return text + " </head>\n <body>\n"


def _side_file(req: RequestRec, dirname: str, name: Optional[str]
               ) -> Optional[tuple[str, bytes]]:
    """The HeaderName/ReadmeName file: (kind "html" or "text", its bytes), if it is a
    regular file of a text type (the subrequest's checks)."""
    if not name:
        return None
    path = (req.document_root().rstrip("/") + name) if name.startswith("/") else dirname + name
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    kind, _, _ = mime.find_type(path, req.per_dir_config)
    base = (kind or "").split(";")[0].strip().lower()
    if base in ("text/html", "application/xhtml+xml"):
        return "html", data
    if base.startswith("text/"):
        return "text", data
    return None


def _plain(data: bytes) -> str:
    """do_emit_plain: the file in <pre>, with < > & escaped."""
    text = data.decode("utf-8", "surrogateescape")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<pre>\n{text}</pre>\n"


def _emit_head(req: RequestRec, conf: AutoindexConf, dirname: str, title: str,
               options: set[str], out: list[str]) -> None:
    xhtml = "xhtml" in options
    suppress = "suppresshtmlpreamble" in options
    header = _side_file(req, dirname, conf.header)
    emit_h1 = True
    if header is not None and header[0] == "html":
        if not suppress:
            out.append(_preamble(conf, title, xhtml))
        out.append(header[1].decode("utf-8", "surrogateescape"))
        emit_h1 = False
    elif header is not None:
        out.append(_preamble(conf, title, xhtml))
        out.append(_plain(header[1]))
        emit_h1 = False
    else:
        out.append(_preamble(conf, title, xhtml))
    if emit_h1:
        if conf.style_sheet is not None:
            out.append(f'  <h1 id="indextitle">Index of {title}</h1>\n')
        else:
            out.append(f"<h1>Index of {title}</h1>\n")


def _emit_tail(req: RequestRec, conf: AutoindexConf, dirname: str, options: set[str],
               out: list[str]) -> None:
    readme = _side_file(req, dirname, conf.readme)
    suppress_post = False
    if readme is not None and readme[0] == "html":
        out.append(readme[1].decode("utf-8", "surrogateescape"))
        suppress_post = "suppresshtmlpreamble" in options
    elif readme is not None:
        out.append(_plain(readme[1]))
    # ap_psignature: prefork-modpy's ServerSignature is Off (catalog.py), so nothing.
    if not suppress_post:
        out.append("</body></html>\n")


def _link(anchor: str, column: str, query: Query, nosort: bool) -> str:
    """emit_link: the column heading, reversing the order of the current key."""
    if nosort:
        return anchor
    order = "D" if query.key == column and query.direction == "A" else "A"
    return f'<a href="?C={column};O={order}{query.colargs}">{anchor}</a>'


def _icon_tag(conf: AutoindexConf, src: str, alt: str, xhtml: bool) -> str:
    tag = f'<img src="{escape_html(src)}" alt="{alt}"'
    if conf.icon_width:
        tag += f' width="{conf.icon_width}"'
    if conf.icon_height:
        tag += f' height="{conf.icon_height}"'
    return tag + (" />" if xhtml else ">")


def _output(conf: AutoindexConf, entries: list[Entry], query: Query, out: list[str]) -> None:
    """output_directories."""
    options = query.options
    if "htmltable" in options:
        _output_table(conf, entries, query, out)
    elif "fancyindexing" in options:
        _output_pre(conf, entries, query, out)
    else:
        out.append("<ul>")
        for index, entry in enumerate(entries):
            name = "Parent Directory" if not index and entry.name.startswith("/") else entry.name
            out.append(f'<li><a href="{escape_html(escape_path(entry.name))}"> '
                       f"{escape_html(name)}</a></li>\n")
        out.append("</ul>\n")


def _time(conf: AutoindexConf, mtime: float) -> str:
    return time.strftime(conf.datetime_format or "%Y-%m-%d %H:%M", time.localtime(mtime))


def _output_table(conf: AutoindexConf, entries: list[Entry], query: Query,
                  out: list[str]) -> None:
    options = query.options
    styled = conf.style_sheet is not None
    xhtml = "xhtml" in options
    nosort = "suppresscolumnsorting" in options
    name_adjust = conf.name_width == 0
    name_width = conf.name_width or DEFAULT_NAME_WIDTH
    desc_adjust = conf.desc_width == 0
    desc_width = conf.desc_width or DEFAULT_DESC_WIDTH
    cols = 1
    out.append('  <table id="indexlist">\n   <tr class="indexhead">' if styled
               else "  <table>\n   <tr>")
    if "suppressicon" not in options:
        out.append("<th" + (' class="indexcolicon">' if styled else ' valign="top">'))
        blank = _find_item(conf.icons, "^^BLANKICON^^", None, None, True)
        out.append(_icon_tag(conf, blank, "[ICO]", xhtml) + "</th>" if blank
                   else "&nbsp;</th>")
        cols += 1
    out.append("<th" + (' class="indexcolname">' if styled else ">"))
    out.append(_link("Name", "N", query, nosort))
    for flag, label, column, css in (("suppresslastmodified", "Last modified", "M",
                                      "indexcollastmod"),
                                     ("suppresssize", "Size", "S", "indexcolsize"),
                                     ("suppressdescription", "Description", "D",
                                      "indexcoldesc")):
        if flag not in options:
            out.append("</th><th" + (f' class="{css}">' if styled else ">"))
            out.append(_link(label, column, query, nosort))
            cols += 1
    breakrow = ""
    if "suppressrules" not in options:
        row_class = ' class="indexbreakrow"' if styled else ""
        rule = "<hr />" if xhtml else "<hr>"
        breakrow = f'   <tr{row_class}><th colspan="{cols}">{rule}</th></tr>\n'
    out.append("</th></tr>\n" + breakrow)
    for index, entry in enumerate(entries):
        out.append(_table_row(conf, entry, index, options, name_adjust, name_width,
                              desc_adjust, desc_width))
    out.append(breakrow + "</table>\n")


def _display_name(entry: Entry, index: int) -> str:
    return "Parent Directory" if not index and entry.name.startswith("/") else entry.name


def _truncate(name: str, width: int) -> str:
    return name[:width - 3] + "..>" if len(name) > width else name


def _table_row(conf: AutoindexConf, entry: Entry, index: int, options: set[str],
               name_adjust: bool, name_width: int, desc_adjust: bool, desc_width: int) -> str:
    styled = conf.style_sheet is not None
    xhtml = "xhtml" in options
    anchor = escape_html(escape_path(entry.name))
    row: list[str] = []
    if styled:
        parity = "odd" if index & 1 else "even"
        if entry.alt and "addaltclass" in options:
            row.append(f'   <tr class="{parity}-{entry.alt.lower()}">')
        else:
            row.append(f'   <tr class="{parity}">')
    else:
        row.append("<tr>")
    if "suppressicon" not in options:
        row.append("<td" + (' class="indexcolicon">' if styled else ' valign="top">'))
        links = "iconsarelinks" in options
        if links:
            row.append(f'<a href="{anchor}">')
        src = entry.icon or conf.default_icon
        row.append(_icon_tag(conf, src, f"[{entry.alt or '   '}]", xhtml) if src else "&nbsp;")
        row.append("</a></td>" if links else "</td>")
    name = _display_name(entry, index)
    cell = "<td" + (' class="indexcolname">' if styled else ">")
    if name_adjust:
        row.append(f'{cell}<a href="{anchor}">{escape_html(name)}</a>')
    else:
        shown = _truncate(name, name_width)
        row.append(f'{cell}<a href="{anchor}">{escape_html(shown)}</a>'
                   + " " * (name_width - len(shown)))
    if "suppresslastmodified" not in options:
        if entry.mtime is not None:
            row.append("</td><td" + (' class="indexcollastmod">' if styled else
                                     ' align="right">') + _time(conf, entry.mtime) + "  ")
        else:
            row.append("</td><td" + (' class="indexcollastmod">&nbsp;' if styled else
                                     ">&nbsp;"))
    if "suppresssize" not in options:
        row.append("</td><td" + (' class="indexcolsize">' if styled else ' align="right">')
                   + strfsize(entry.size))
    if "suppressdescription" not in options:
        css = ' class="indexcoldesc">' if styled else ">"
        if entry.desc:
            text = entry.desc if desc_adjust else _terminate(conf, entry.desc, options,
                                                             desc_width)
            row.append(f"</td><td{css}{text}")
        else:
            row.append(f"</td><td{css}&nbsp;")
    row.append("</td></tr>\n")
    return "".join(row)


def _terminate(conf: AutoindexConf, desc: str, options: set[str], width: int) -> str:
    """terminate_description: cut to the width, tags and entities counting as nothing and
    one character, the last kept character replaced by '>'."""
    maxsize = width
    if conf.desc_width is None:
        maxsize += (6 if "suppressicon" in options else 0) + \
            (19 if "suppresslastmodified" in options else 0) + \
            (7 if "suppresssize" in options else 0)
    index = 0
    while index < len(desc) and (maxsize > 0 or desc[index] == "<"):
        if desc[index] == "<":
            close = desc.find(">", index)
            if close < 0:
                maxsize, index = 0, len(desc)
                break
            index = close
        elif desc[index] == "&":
            maxsize -= 1
            close = desc.find(";", index)
            if close < 0:
                maxsize, index = 0, len(desc)
                break
            index = close
        else:
            maxsize -= 1
        index += 1
    if not maxsize and index < len(desc):
        return desc[:index - 1] + ">"
    return desc


def _output_pre(conf: AutoindexConf, entries: list[Entry], query: Query,
                out: list[str]) -> None:
    """FancyIndexing without HTMLTable: the <pre> listing with padded columns."""
    options = query.options
    xhtml = "xhtml" in options
    nosort = "suppresscolumnsorting" in options
    name_width = conf.name_width or DEFAULT_NAME_WIDTH
    if conf.name_width == 0:
        name_width = max([DEFAULT_NAME_WIDTH] + [len(entry.name) for entry in entries])
    desc_width = conf.desc_width or DEFAULT_DESC_WIDTH
    if conf.desc_width == 0:
        desc_width = max([DEFAULT_DESC_WIDTH] + [len(entry.desc) for entry in entries
                                                 if entry.desc])
    pad = " " * name_width
    out.append("<pre>")
    if "suppressicon" not in options:
        blank = _find_item(conf.icons, "^^BLANKICON^^", None, None, True)
        out.append(_icon_tag(conf, blank, "Icon ", xhtml) + " " if blank else "      ")
    out.append(_link("Name", "N", query, nosort) + pad[4:] + " ")
    if "suppresslastmodified" not in options:
        out.append(_link("Last modified", "M", query, nosort) + "      ")
    if "suppresssize" not in options:
        out.append(_link("Size", "S", query, nosort) + "  ")
    if "suppressdescription" not in options:
        out.append(_link("Description", "D", query, nosort))
    out.append(("<hr" + (" /" if xhtml else "") + ">") if "suppressrules" not in options
               else "\n")
    for index, entry in enumerate(entries):
        anchor = escape_html(escape_path(entry.name))
        if "suppressicon" not in options:
            links = "iconsarelinks" in options
            if links:
                out.append(f'<a href="{anchor}">')
            src = entry.icon or conf.default_icon
            out.append(_icon_tag(conf, src, f"[{entry.alt or '   '}]", xhtml) if src
                       else "     ")
            out.append("</a> " if links else " ")
        shown = _truncate(_display_name(entry, index), name_width)
        out.append(f'<a href="{anchor}">{escape_html(shown)}</a>' + pad[len(shown):] + " ")
        if "suppresslastmodified" not in options:
            out.append(_time(conf, entry.mtime) + "  " if entry.mtime is not None
                       else " " * 19)
        if "suppresssize" not in options:
            out.append(strfsize(entry.size) + "  ")
        if "suppressdescription" not in options and entry.desc:
            out.append(_terminate(conf, entry.desc, options, desc_width))
        out.append("\n")
    if "suppressrules" not in options:
        out.append("<hr" + (" /" if xhtml else "") + "></pre>\n")
    else:
        out.append("</pre>\n")

