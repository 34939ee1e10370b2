"""mod_autoindex's directives: what a directory listing looks like.

Owns `AutoindexConf` (one section's IndexOptions, icons, alt texts, descriptions, ignore
patterns, header/readme names) and its merge with the parent's, as mod_autoindex's
add_opts/push_item/add_desc and merge_autoindex_configs build them: a section's lists come
before the inherited ones; absolute IndexOptions replace the inherited options, +/- ones
amend them. Must not read directories (httpd/autoindex.py renders the listing).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from .syntax import ConfigError, Node

# IndexOptions flags (the names mod_autoindex knows, lower-cased).
FLAGS = frozenset({"fancyindexing", "foldersfirst", "htmltable", "iconsarelinks", "ignorecase",
                   "ignoreclient", "suppresscolumnsorting", "suppressdescription",
                   "suppresshtmlpreamble", "suppressicon", "suppresslastmodified",
                   "suppresssize", "suppressrules", "trackmodified", "versionsort", "xhtml",
                   "showforbidden", "addaltclass"})
# Flags refused, with the reason.
_REFUSED_FLAGS = {"scanhtmltitles": "reading each HTML file's <title> for its description"}
DEFAULT_NAME_WIDTH, DEFAULT_DESC_WIDTH = 23, 23
DEFAULT_ICON_WIDTH, DEFAULT_ICON_HEIGHT = 20, 22


@dataclass(frozen=True)
class Item:
    """push_item: an icon or alt text (data) for files whose path matches `apply_to`
    (by path, MIME type or encoding) under the section directory `apply_path`."""

    kind: str  # "path", "type", "encoding", "ignore"
    apply_to: str
    apply_path: str
    data: str


@dataclass(frozen=True)
class Description:
    """add_desc: a description for file names matching `pattern`."""

    pattern: str
    full_path: bool
    wildcards: bool
    text: str


# httpd's OPTION_UNSET bit: set in a fresh config, kept by absolute IndexOptions keywords
# (add_opts ORs them in), so "only +/- keywords here" is opts == {UNSET} exactly.
UNSET = "unset"


@dataclass
class AutoindexConf:
    """One section's mod_autoindex settings (None / empty: inherit). `options`,
    `options_add` and `options_remove` are httpd's opts / incremented_opts /
    decremented_opts, with UNSET and "none" (NO_OPTIONS) as flags among the names."""

    options: frozenset[str] = frozenset({UNSET})
    options_add: frozenset[str] = frozenset()
    options_remove: frozenset[str] = frozenset()
    name_width: Optional[int] = None  # None: inherit; 0 for `*` (adjust)
    desc_width: Optional[int] = None
    icon_width: int = 0
    icon_height: int = 0
    content_type: Optional[str] = None  # IndexOptions Type=
    charset: Optional[str] = None  # IndexOptions Charset=
    datetime_format: Optional[str] = None
    icons: tuple[Item, ...] = ()
    alts: tuple[Item, ...] = ()
    descriptions: tuple[Description, ...] = ()
    ignores: tuple[Item, ...] = ()
    ignore_reset: bool = False
    default_icon: Optional[str] = None
    header: Optional[str] = None
    readme: Optional[str] = None
    style_sheet: Optional[str] = None
    head_insert: Optional[str] = None
    order_key: Optional[str] = None  # IndexOrderDefault: N, M, S, D
    order_direction: Optional[str] = None  # A, D
    server_level: bool = False  # given in the server or virtual host body
    # The server's settings under a chain of sections (see `merge`).
    server_base: Optional[AutoindexConf] = None

    @property
    def effective_options(self) -> frozenset[str]:
        """The IndexOptions in effect (lower-case names), once resolved."""
        return self.resolved().options - {UNSET, "none"}

    def resolved(self) -> AutoindexConf:
        """The server's settings merged with the sections' (see `merge`)."""
        if self.server_base is None:
            return self
        return httpd_merge(self.server_base, replace(self, server_base=None))


def httpd_merge(base: AutoindexConf, add: AutoindexConf) -> AutoindexConf:
    """merge_autoindex_configs, including its option rules: None clears everything; a
    config whose opts are exactly UNSET (only +/- here) amends the inherited options; any
    other replaces them and drops the inherited increments."""
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    if add.options == frozenset({"none"}):
        options = frozenset({"none"})
    else:
        if add.options == frozenset({UNSET}):
            added = (base.options_add | add.options_add) - add.options_remove
            removed = base.options_remove | add.options_remove
            options = base.options - {"none"}
        else:
            options = add.options
        options = (options | added) - removed
    return AutoindexConf(
        options=options, options_add=added, options_remove=removed,
        name_width=_pick(add.name_width, base.name_width),
        desc_width=_pick(add.desc_width, base.desc_width),
        icon_width=add.icon_width or base.icon_width,
        icon_height=add.icon_height or base.icon_height,
        content_type=_pick(add.content_type, base.content_type),
        charset=_pick(add.charset, base.charset),
        datetime_format=_pick(add.datetime_format, base.datetime_format),
        icons=add.icons + base.icons, alts=add.alts + base.alts,
        descriptions=add.descriptions + base.descriptions,
        ignores=add.ignores if add.ignore_reset else add.ignores + base.ignores,
        default_icon=_pick(add.default_icon, base.default_icon),
        header=_pick(add.header, base.header), readme=_pick(add.readme, base.readme),
        style_sheet=_pick(add.style_sheet, base.style_sheet),
        head_insert=_pick(add.head_insert, base.head_insert),
        order_key=_pick(add.order_key, base.order_key),
        order_direction=_pick(add.order_direction, base.order_direction),
        server_level=base.server_level and add.server_level,
    )


def _pick(child: Any, parent: Any) -> Any:
    return child if child is not None else parent


def merge(parent: Optional[AutoindexConf], child: Optional[AutoindexConf]
          ) -> Optional[AutoindexConf]:
    """The per-request merge in httpd's order: a walk merges its matching sections with
    each other first and the result onto the server's settings (ap_directory_walk's
    now_merged), which differs from merging them one by one onto the server's when a
    section has only +/- IndexOptions. A section without any mod_autoindex directive has
    no config and leaves the merge as it is."""
    if child is None:
        return parent
    if parent is None:
        return child
    if parent.server_level and not child.server_level:
        return replace(child, server_base=parent)
    if parent.server_base is not None:
        sections = httpd_merge(replace(parent, server_base=None), child)
        return replace(sections, server_base=parent.server_base)
    return httpd_merge(parent, child)


def _conf(settings: Any) -> AutoindexConf:
    if settings.autoindex is None:
        settings.autoindex = AutoindexConf()
    conf: AutoindexConf = settings.autoindex
    return conf


def _section_path(settings: Any) -> str:
    """cmd->path, the section's directory: every section merged for a request applies to
    its file, so the prefix always matches (a <Location>'s URL never does in httpd; its
    items are kept here, a documented difference)."""
    return ""


# -- IndexOptions -------------------------------------------------------------------------------

def _index_options(settings: Any, node: Node) -> None:
    """add_opts: `[+|-]Option ...`, keyword=value forms, None."""
    conf = _conf(settings)
    options = set(conf.options)
    add, remove = set(conf.options_add), set(conf.options_remove)
    if not node.args:
        raise ConfigError.at(node, "IndexOptions needs at least one option")
    for word in node.args:
        action = word[0] if word[:1] in ("+", "-") else ""
        name = word[1:] if action else word
        lower = name.lower()
        if lower == "none":
            if action:
                raise ConfigError.at(node, "Cannot combine '+' or '-' with 'None' keyword")
            options, add, remove = {"none"}, set(), set()
            continue
        if lower in _REFUSED_FLAGS:
            raise ConfigError.at(node, f"IndexOptions {name}: {_REFUSED_FLAGS[lower]} is not "
                                       "supported by prefork-modpy (refused rather than "
                                       "ignored)")
        if lower not in FLAGS:
            _keyword_option(conf, node, action, name)
            continue
        if not action:
            options.add(lower)
            add, remove = set(), set()
        elif action == "+":
            add.add(lower)
            remove.discard(lower)
        else:
            remove.add(lower)
            add.discard(lower)
    if "none" in options and len(options) > 1:
        raise ConfigError.at(node, "Cannot combine other IndexOptions keywords with 'None'")
    settings.autoindex = replace(conf, options=frozenset(options), options_add=frozenset(add),
                                 options_remove=frozenset(remove))


def _keyword_option(conf: AutoindexConf, node: Node, action: str, name: str) -> None:
    """The IndexOptions that carry a value (or reset one)."""
    lower = name.lower()
    key, _, value = lower.partition("=")
    raw_value = name.partition("=")[2]
    if key in ("namewidth", "descriptionwidth"):
        label = "NameWidth" if key == "namewidth" else "DescriptionWidth"
        attr, minimum = ("name_width", 5) if key == "namewidth" else ("desc_width", 12)
        if not _:
            if action != "-":
                raise ConfigError.at(node, f"{label} with no value may only appear as "
                                           f"'-{label}'")
            setattr(conf, attr, DEFAULT_NAME_WIDTH if key == "namewidth" else DEFAULT_DESC_WIDTH)
            return
        if action == "-":
            raise ConfigError.at(node, f"Cannot combine '-' with {label}=n")
        if value.startswith("*"):
            setattr(conf, attr, 0)
            return
        width = _atoi(value)
        if width and width < minimum:
            raise ConfigError.at(node, f"{label} value must be greater than {minimum}")
        setattr(conf, attr, width)
    elif key in ("iconwidth", "iconheight"):
        attr = "icon_width" if key == "iconwidth" else "icon_height"
        default = DEFAULT_ICON_WIDTH if key == "iconwidth" else DEFAULT_ICON_HEIGHT
        if _ and action == "-":
            raise ConfigError.at(node, f"Cannot combine '-' with {name.partition('=')[0]}=n")
        setattr(conf, attr, _atoi(value) if _ else (0 if action == "-" else default))
    elif key == "type" and _:
        conf.content_type = raw_value
    elif key == "charset" and _:
        conf.charset = raw_value
    elif key == "useolddateformat" and not _:
        conf.datetime_format = "%d-%b-%Y %H:%M"
    else:
        raise ConfigError.at(node, "Invalid directory indexing option")


def _atoi(text: str) -> int:
    digits = ""
    for char in text:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else 0


# -- icons, alt texts, descriptions, ignores ---------------------------------------------------

def _is_matchexp(text: str) -> bool:
    return "*" in text or "?" in text


def _item(kind: str, to: str, path: str, data: str) -> Item:
    """push_item: a path pattern without wildcards matches as a suffix."""
    if kind == "path" and to == "**DIRECTORY**":
        to = "^^DIRECTORY^^"
    if kind == "encoding":
        to = to.lower()
    if kind == "path" and not _is_matchexp(to):
        to = "*" + to
    return Item(kind, to, path + "*", data)


def _add_icon(kind: str) -> Callable[[Any, Node], None]:
    def apply(settings: Any, node: Node) -> None:
        if len(node.args) < 2:
            raise ConfigError.at(node, f"{node.name} takes an icon and one or more names")
        conf = _conf(settings)
        icon = node.args[0]
        alt = None
        if icon.startswith("("):
            if ")" not in icon:
                raise ConfigError.at(node, "missing closing paren")
            inner = icon[1:icon.index(")")]
            alt, _, icon = inner.partition(",")
        path = _section_path(settings)
        for to in node.args[1:]:
            if alt is not None:
                conf.alts = conf.alts + (_item(kind, to, path, alt),)
            conf.icons = conf.icons + (_item(kind, to, path, icon),)
    return apply


def _add_alt(kind: str) -> Callable[[Any, Node], None]:
    def apply(settings: Any, node: Node) -> None:
        if len(node.args) < 2:
            raise ConfigError.at(node, f"{node.name} takes a text and one or more names")
        conf = _conf(settings)
        path = _section_path(settings)
        conf.alts = conf.alts + tuple(_item(kind, to, path, node.args[0])
                                      for to in node.args[1:])
    return apply


def _add_description(settings: Any, node: Node) -> None:
    if len(node.args) < 2:
        raise ConfigError.at(node, "AddDescription takes a text and one or more file names")
    conf = _conf(settings)
    for to in node.args[1:]:
        full_path = "/" in to
        wildcards = full_path or any(char in to for char in "*?[")
        pattern = (("*/" if full_path else "*") + to + "*") if wildcards else to
        conf.descriptions = conf.descriptions + (
            Description(pattern, full_path, wildcards, node.args[0]),)


def _index_ignore(settings: Any, node: Node) -> None:
    if not node.args:
        raise ConfigError.at(node, "IndexIgnore needs at least one pattern")
    conf = _conf(settings)
    path = _section_path(settings)
    conf.ignores = conf.ignores + tuple(Item("ignore", to, path + "*", "")
                                        for to in node.args)


def _index_ignore_reset(settings: Any, node: Node) -> None:
    if len(node.args) != 1 or node.args[0].lower() not in ("on", "off"):
        raise ConfigError.at(node, "IndexIgnoreReset must be On or Off")
    _conf(settings).ignore_reset = node.args[0].lower() == "on"


def _string(attr: str) -> Callable[[Any, Node], None]:
    def apply(settings: Any, node: Node) -> None:
        if len(node.args) != 1:
            raise ConfigError.at(node, f"{node.name} takes one argument")
        setattr(_conf(settings), attr, node.args[0])
    return apply


def _order_default(settings: Any, node: Node) -> None:
    """IndexOrderDefault Ascending|Descending Name|Date|Size|Description."""
    if len(node.args) != 2:
        raise ConfigError.at(node, "IndexOrderDefault takes a direction and a key")
    direction = {"ascending": "A", "descending": "D"}.get(node.args[0].lower())
    if direction is None:
        raise ConfigError.at(node, "First keyword must be 'Ascending' or 'Descending'")
    key = {"name": "N", "date": "M", "size": "S", "description": "D"}.get(node.args[1].lower())
    if key is None:
        raise ConfigError.at(node, "Second keyword must be 'Name', 'Date', 'Size', or "
                                   "'Description'")
    conf = _conf(settings)
    conf.order_key, conf.order_direction = key, direction


DIRECTIVES: dict[str, Callable[[Any, Node], None]] = {
    "indexoptions": _index_options,
    "addicon": _add_icon("path"),
    "addiconbytype": _add_icon("type"),
    "addiconbyencoding": _add_icon("encoding"),
    "addalt": _add_alt("path"),
    "addaltbytype": _add_alt("type"),
    "addaltbyencoding": _add_alt("encoding"),
    "adddescription": _add_description,
    "indexignore": _index_ignore,
    "indexignorereset": _index_ignore_reset,
    "defaulticon": _string("default_icon"),
    "headername": _string("header"),
    "readmename": _string("readme"),
    "indexstylesheet": _string("style_sheet"),
    "indexheadinsert": _string("head_insert"),
    "indexorderdefault": _order_default,
}


def wildcard_match(text: str, pattern: str, icase: bool = False) -> bool:
    """ap_strcmp_match / ap_strcasecmp_match: `*` and `?` only (no classes)."""
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.match(regex, text, re.S | (re.I if icase else 0)) is not None


def fn_match(pattern: str, text: str) -> bool:
    """apr_fnmatch without flags: *, ? and [...] classes; `*` crosses `/`."""
    return re.match(fnmatch.translate(pattern), text, re.S) is not None

