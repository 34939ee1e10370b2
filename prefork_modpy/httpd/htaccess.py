"""The .htaccess files (AccessFileName) of httpd's directory walk, cached by modification.

Owns the per-request settings when some section allows overrides: like ap_directory_walk,
from / down to the file's directory, each level merges the <Directory> sections written for
it, then, when AllowOverride (or AllowOverrideList) in effect there is not None, that
level's .htaccess, parsed as httpd's ap_parse_htaccess does: every directive must belong to
an override class that is allowed (config/overrides.py), else the request fails with 500 and
the error log says "<file>: <directive> not allowed here". Then regex <Directory>s, <Files>
and <Location> as always. Each file is stat'ed per request and parsed again only when its
modification time, size or inode change; the merged result is cached by the files' stamps.
Must not know phases or handlers.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Optional

from ..config import catalog, httpdmods
from ..config.directives import DirSettings, SectionContext, apply_dir_directive, is_dir_directive
from ..config.overrides import OVERRIDE_CLASSES, Overrides
from ..config.regex import RegexError, compile_regex
from ..config.server import Section
from ..config.syntax import ConfigError, ConfigReader, Node

if TYPE_CHECKING:
    from ..config.server import ServerConfig, VirtualHost

# Bounds of the caches (a worker serves a bounded set of directories in practice).
_MAX_PLANS = 16384
_MAX_MERGED = 4096


class HtaccessError(Exception):
    """A .htaccess file httpd would refuse: the request gets 500, the log this line."""


class Parsed:
    """One .htaccess file: its directives, and its <Files>/<FilesMatch> sections (merged
    after the config's <Files>, as they come later in httpd's sec_file list)."""

    __slots__ = ("settings", "files")

    def __init__(self, settings: DirSettings, files: tuple[Section, ...]) -> None:
        self.settings = settings
        self.files = files


class _Plan:
    """For one (filename, uri): the directory levels and, per level, the config sections
    to merge and the .htaccess paths to read with what they may contain."""

    __slots__ = ("levels", "rest", "locations", "basename", "paths")

    def __init__(self, levels: list[tuple[tuple[int, ...], tuple[str, ...], Overrides]],
                 rest: tuple[int, ...], locations: tuple[int, ...], basename: str) -> None:
        self.levels = levels
        self.rest = rest  # regex <Directory> and <Files> sections of the config
        self.locations = locations
        self.basename = basename
        self.paths = tuple(path for _, paths, _ in levels for path in paths)


class Walker:
    """The .htaccess walk of one virtual host, with its caches."""

    def __init__(self, config: ServerConfig, vhost: VirtualHost) -> None:
        self.config = config
        self.vhost = vhost
        self.names = config.access_file_name
        self.plans: dict[tuple[Optional[str], str], _Plan] = {}
        self.merged: dict[tuple, DirSettings] = {}
        self.parsed: dict[tuple[str, tuple, Overrides], Parsed | HtaccessError] = {}

    def settings(self, filename: Optional[str], uri: str) -> DirSettings:
        """The merged settings for a request (raises HtaccessError)."""
        if filename is None:
            return self.vhost.effective_settings(filename, uri)
        route = (filename, uri)
        plan = self.plans.get(route)
        if plan is None:
            plan = self._plan(filename, uri)
            if len(self.plans) < _MAX_PLANS:
                self.plans[route] = plan
        stamps = tuple(_stamp(path) for path in plan.paths)
        key = (route, stamps)
        merged = self.merged.get(key)
        if merged is None:
            merged = self._merge(plan, stamps)
            if len(self.merged) >= _MAX_MERGED:
                self.merged.clear()
            self.merged[key] = merged
        return merged

    def _plan(self, filename: str, uri: str) -> _Plan:
        vhost = self.vhost
        matched = vhost.matching_sections(filename, uri)
        plain = [index for index in matched if vhost.sections[index].kind == "directory"
                 and vhost.sections[index].regex is None]
        rest = tuple(index for index in matched if index not in plain
                     and vhost.sections[index].kind != "location")
        locations = tuple(index for index in matched
                          if vhost.sections[index].kind == "location")
        directory = filename if filename.endswith("/") else filename.rpartition("/")[0] + "/"
        levels = []
        settings = vhost.settings
        parts = directory.strip("/").split("/") if directory != "/" else []
        for depth in range(len(parts) + 1):
            level = "/" + "".join(part + "/" for part in parts[:depth])
            here = tuple(index for index in plain if vhost.sections[index].pattern == level)
            for index in here:
                settings = settings.merged_with(vhost.sections[index].settings)
            allowed = settings.htaccess_overrides
            paths = tuple(level + name for name in self.names) if allowed.any else ()
            levels.append((here, paths, allowed))
        return _Plan(levels, rest, locations, filename.rpartition("/")[2])

    def _merge(self, plan: _Plan, stamps: tuple) -> DirSettings:
        vhost = self.vhost
        settings = vhost.settings
        position = 0
        files: list[Section] = []
        for here, paths, allowed in plan.levels:
            for index in here:
                settings = settings.merged_with(vhost.sections[index].settings)
            for path in paths:
                stamp = stamps[position]
                position += 1
                if stamp is not None:
                    parsed = self._parsed(path, stamp, allowed)
                    settings = settings.merged_with(parsed.settings)
                    files.extend(parsed.files)
        for index in plan.rest:
            settings = settings.merged_with(vhost.sections[index].settings)
        for section in files:
            if plan.basename and section.matches_file(plan.basename):
                settings = settings.merged_with(section.settings)
        for index in plan.locations:
            settings = settings.merged_with(vhost.sections[index].settings)
        return settings

    def _parsed(self, path: str, stamp: tuple, allowed: Overrides) -> Parsed:
        key = (path, stamp, allowed)
        result = self.parsed.get(key)
        if result is None:
            try:
                result = parse(path, allowed, self.config)
            except HtaccessError as exc:
                result = exc
            self.parsed = {k: v for k, v in self.parsed.items() if k[0] != path}
            self.parsed[key] = result
        if isinstance(result, HtaccessError):
            raise result
        return result


def _stamp(path: str) -> Optional[tuple]:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


# Directives the config reader executes while reading; httpd allows none in a .htaccess.
_READ_TIME = re.compile(r"^\s*(Include|IncludeOptional|Define|UnDefine|LoadModule)\s",
                        re.IGNORECASE | re.MULTILINE)


def parse(path: str, allowed: Overrides, config: ServerConfig) -> Parsed:
    """ap_parse_htaccess: the file's directives as a <Directory> of its directory."""
    reader = ConfigReader(config.defines, server_root=config.server_root)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            refused = _READ_TIME.search(handle.read())
        if refused is not None:
            raise HtaccessError(f"{path}: {refused.group(1)} not allowed here")
        nodes = reader.read(path)
    except OSError as exc:  # httpd: "Permission denied: ... unable to check htaccess file"
        raise HtaccessError(f"{path}: unable to read the .htaccess file: {exc.strerror}") \
            from None
    except ConfigError as exc:
        raise HtaccessError(str(exc)) from None
    directory = os.path.dirname(path) + "/"
    ctx = SectionContext(directory=directory, is_location=False, is_server=False)
    settings = _apply(nodes, path, allowed, ctx)
    files = tuple(_files_section(node, path, allowed, ctx) for node in nodes
                  if node.is_section and not httpdmods.is_directive(node.key))
    return Parsed(settings, files)


def _apply(nodes: list[Node], path: str, allowed: Overrides,
           ctx: SectionContext) -> DirSettings:
    settings = DirSettings()
    for node in nodes:
        if node.is_section and not httpdmods.is_directive(node.key):
            continue  # <Files>: _files_section
        _check_tree(node, path, allowed)
        try:
            apply_dir_directive(settings, node, ctx, [])
        except ConfigError as exc:
            raise HtaccessError(str(exc)) from None
    if settings.rewrite is not None and settings.rewrite.pending:
        raise HtaccessError(f"{settings.rewrite.pending[-1].where}: RewriteCond without a "
                            "RewriteRule after it")
    return settings


def _files_section(node: Node, path: str, allowed: Overrides, ctx: SectionContext) -> Section:
    """`<Files name>` (wildcards), `<Files ~ regex>` or `<FilesMatch regex>` in a .htaccess;
    any other section is refused, as httpd refuses <Directory> and <Location> there."""
    key = node.key
    if key not in ("files", "filesmatch"):
        raise HtaccessError(f"{path}: <{node.name}> not allowed here")
    args = node.args
    if not args or len(args) > 2 or (len(args) == 2 and args[0] != "~"):
        raise HtaccessError(f"{path}:{node.line}: <{node.name}> takes one name or pattern")
    regex = None
    if key == "filesmatch" or len(args) == 2:
        try:
            regex = compile_regex(args[-1])
        except RegexError as exc:
            raise HtaccessError(f"{path}:{node.line}: <{node.name}>: {exc}") from None
    for child in node.children or []:
        if child.is_section:
            raise HtaccessError(f"{path}:{child.line}: <{child.name}> not allowed inside "
                                f"<{node.name}>")
    settings = _apply(node.children or [], path, allowed, ctx)
    return Section("files", args[-1], regex, settings, path, node.line)


def _check_tree(node: Node, path: str, allowed: Overrides) -> None:
    """_check for a directive and, in <Limit>/<Require*> (httpdmods.py), its contents."""
    _check(node, path, allowed)
    for child in node.children or []:
        _check_tree(child, path, allowed)


def _check(node: Node, path: str, allowed: Overrides) -> None:
    """What httpd's ap_walk_config refuses in a .htaccess file."""
    key = node.key
    if key not in OVERRIDE_CLASSES and not is_dir_directive(key):
        info = catalog.directive_info(node.name)
        if info is None:
            raise HtaccessError(f"{path}: Invalid command '{node.name}', perhaps misspelled "
                                "or defined by a module not included in the server "
                                "configuration")
        raise HtaccessError(f"{path}: {info.message()} (refused rather than ignored)")
    if not allowed.allows(key):
        raise HtaccessError(f"{path}: {node.name} not allowed here")
    if key == "options" and allowed.options is not None and key not in allowed.directives:
        for word in node.args:
            name = word.lstrip("+-").lower()
            if name not in allowed.options and name != "none":
                raise HtaccessError(f"{path}: Option {word.lstrip('+-')} not allowed here")


_WALKERS: dict[int, Walker] = {}


def effective_settings(config: ServerConfig, vhost: VirtualHost, filename: Optional[str],
                       uri: str) -> DirSettings:
    """The settings for a request of `vhost` with its .htaccess files (raises
    HtaccessError)."""
    walker = _WALKERS.get(id(vhost))
    if walker is None or walker.vhost is not vhost:
        walker = _WALKERS[id(vhost)] = Walker(config, vhost)
    return walker.settings(filename, uri)
