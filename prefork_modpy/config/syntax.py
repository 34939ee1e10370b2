"""Apache-syntax reader: lines, continuations, quoting, `${VAR}`, `<Section>` nesting, and the
directives httpd executes while reading (`Include`, `Define`, `LoadModule`, `<If*>`).

Owns turning config files into a tree of `Node`s that remember file and line, as httpd's
`ap_build_config` does: a line ending in `\\` continues (also a comment line), `${NAME}` is a
`Define`d value or an environment variable (`ap_resolve_env`), `<IfDefine>`, `<IfModule>`,
`<IfVersion>` and `<IfFile>` are decided when they open and a false one is skipped unread.
`<IfModule>` of a module the config loads but prefork-modpy lacks keeps its body for a verdict
(catalog.py): metadata is accepted with one warning, anything else refused. Knows no other
directive meanings; server.py gives the nodes their meaning.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional

from . import catalog
from .regex import RegexError, compile_regex


class ConfigError(Exception):
    """A config problem, already formatted as `file:line: message`."""

    @classmethod
    def at(cls, where: Node | tuple[str, int], message: str) -> ConfigError:
        file, line = (where.file, where.line) if isinstance(where, Node) else where
        return cls(f"{file}:{line}: {message}")


@dataclass
class Node:
    """One directive (children is None) or one section (children is a list)."""

    name: str
    args: list[str]
    file: str
    line: int
    children: Optional[list[Node]] = None
    raw_args: str = ""

    @property
    def is_section(self) -> bool:
        return self.children is not None

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class LoadedModule:
    """One `LoadModule name path` line: remembered; prefork-modpy loads no shared objects."""

    key: str  # catalog.module_key form: "ssl", "python"
    name: str
    path: str
    file: str
    line: int


# The httpd version `<IfVersion>` compares with: the 2.4 line tests/compat checks against.
HTTPD_COMPAT_VERSION = (2, 4, 62)
MAX_INCLUDE_DEPTH = 16
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")
_CONDITIONALS = ("ifdefine", "ifmodule", "ifversion", "iffile")
# Directives executed while reading (EXEC_ON_READ in httpd): never left in the tree.
_READ_TIME = ("define", "undefine", "loadmodule", "include", "includeoptional")
# Directives that decide who gets in: a skipped body holding one of them gets a warning.
_ACCESS_RULES = frozenset({
    "require", "order", "allow", "deny", "satisfy", "authtype", "authuserfile",
    "rewriterule", "rewritecond", "sslrequiressl", "sslrequire", "sslverifyclient",
    "requireall", "requireany", "limit", "limitexcept",
})


@dataclass
class _Frame:
    node: Node
    body: list[Node] = field(default_factory=list)
    # A conditional whose module is loaded but missing: judged at its end.
    verdict_module: Optional[LoadedModule] = None


def split_args(text: str, where: tuple[str, int]) -> list[str]:
    """Split a directive's argument text like Apache's ap_getword_conf: whitespace
    separates words, "double" or 'single' quotes group them, backslash escapes a quote."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in "\"'":
            quote, i, word = text[i], i + 1, []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n and text[i + 1] == quote:
                    i += 1
                word.append(text[i])
                i += 1
            if i >= n:
                raise ConfigError.at(where, f"unterminated {quote} quote")
            words.append("".join(word))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            words.append(text[start:i])
    return words


def _logical_lines(path: str, text: str) -> Iterator[tuple[int, str]]:
    """Yield (first line number, text): `\\` continuations joined first and only then
    comments and blank lines dropped, as httpd's ap_cfg_getline does (so a comment line
    ending in `\\` swallows the next line)."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part).strip()
        pending = []
        if joined and not joined.startswith("#"):
            yield start, joined
    if pending:
        raise ConfigError.at((path, start), "line continuation at end of file")


class ConfigReader:
    """Reads one config file (and what it includes) into a list of top-level nodes."""

    def __init__(self, defines: frozenset[str] | Mapping[str, Optional[str]] = frozenset(),
                 environ: Optional[Mapping[str, str]] = None,
                 server_root: Optional[str] = None) -> None:
        self.defines: dict[str, Optional[str]] = (
            dict(defines) if isinstance(defines, Mapping) else dict.fromkeys(defines))
        self.environ = os.environ if environ is None else environ
        self.files_read: list[str] = []
        self.loaded_modules: dict[str, LoadedModule] = {}
        self.warnings: list[str] = []
        self.server_root = server_root

    def read(self, path: str) -> list[Node]:
        path = os.path.abspath(path)
        if self.server_root is None:
            self.server_root = os.path.dirname(path)
        return self._read_file(path, depth=0, where=None)

    def _read_file(self, path: str, depth: int, where: Optional[Node]) -> list[Node]:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfigError.at(where, "Include nested too deeply (a loop?)")  # type: ignore[arg-type]
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
        except OSError as exc:
            if where is None:
                raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
            raise ConfigError.at(where, f"cannot read {path}: {exc.strerror}") from None
        self.files_read.append(path)
        return self._build_tree(path, text, depth)

    # -- the tree --------------------------------------------------------------------------

    def _build_tree(self, path: str, text: str, depth: int) -> list[Node]:
        stack = [_Frame(Node("<root>", [], path, 0, []))]
        lines = _logical_lines(path, text)
        for line_no, raw in lines:
            where = (path, line_no)
            line = self._expand_variables(raw, where)
            if line.startswith("</"):
                self._close_section(stack, line, where)
            elif line.startswith("<"):
                node = self._open_section(line, where)
                if node.key in _CONDITIONALS:
                    self._conditional(stack, node, lines, path)
                else:
                    stack.append(_Frame(node))
            else:
                name, _, rest = line.partition(" ")
                node = Node(name, split_args(rest, where), path, line_no, None, rest.strip())
                stack[-1].body.extend(self._read_time(node, depth, stack))
        if len(stack) > 1:
            open_node = stack[-1].node
            raise ConfigError.at(open_node, f"<{open_node.name}> was not closed")
        return stack[0].body

    def _expand_variables(self, line: str, where: tuple[str, int]) -> str:
        """`${NAME}`: a Define'd value, else the environment (httpd's ap_resolve_env)."""
        if "${" not in line:
            return line

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.defines.get(name) is not None:
                return str(self.defines[name])
            if name in self.environ:
                return self.environ[name]
            raise ConfigError.at(where, f"${{{name}}} is not defined: Define it, export it "
                                        "in the environment, or pass --envvars FILE (for "
                                        "Debian: --envvars /etc/apache2/envvars)")
        return _VARIABLE.sub(value, line)

    @staticmethod
    def _open_section(line: str, where: tuple[str, int]) -> Node:
        if not line.endswith(">"):
            raise ConfigError.at(where, f"section line does not end with '>': {line}")
        name, _, rest = line[1:-1].strip().partition(" ")
        if not name:
            raise ConfigError.at(where, "empty section name")
        return Node(name, split_args(rest, where), where[0], where[1], [], rest.strip())

    def _close_section(self, stack: list[_Frame], line: str, where: tuple[str, int]) -> None:
        name = line[2:].rstrip(">").strip()
        if len(stack) == 1:
            raise ConfigError.at(where, f"</{name}> without matching <{name}> section")
        frame = stack.pop()
        if frame.node.name.lower() != name.lower():
            raise ConfigError.at(
                where, f"</{name}> closes <{frame.node.name}> opened at line {frame.node.line}")
        frame.node.children = frame.body
        if frame.verdict_module is not None:
            stack[-1].body.extend(self._judge_missing_module(frame))
        elif frame.node.key in _CONDITIONALS:
            stack[-1].body.extend(frame.body)  # a true conditional vanishes into its body
        else:
            stack[-1].body.append(frame.node)

    # -- conditionals ------------------------------------------------------------------------

    def _conditional(self, stack: list[_Frame], node: Node, lines: Iterator[tuple[int, str]],
                     path: str) -> None:
        """Decide an <If...> section as it opens; a false one is skipped unread."""
        if node.key == "ifmodule":
            loaded = self._missing_but_loaded(node)
            if loaded is not None:
                stack.append(_Frame(node, verdict_module=loaded))
                return
        if self._condition_holds(node):
            stack.append(_Frame(node))
        else:
            self._skip_body(node, lines, path)

    def _condition_holds(self, node: Node) -> bool:
        key = node.key
        if key == "ifversion":
            return _version_matches(node)
        if len(node.args) != 1:
            raise ConfigError.at(node, f"<{node.name}> takes exactly one argument")
        arg = node.args[0]
        negate = arg.startswith("!")
        arg = arg[1:] if negate else arg
        if key == "ifdefine":
            present = arg in self.defines
        elif key == "ifmodule":
            present = self._module_present(arg)
        else:  # iffile: relative to ServerRoot
            present = os.path.exists(os.path.join(self.server_root or "", arg))
        return present != negate

    def _module_present(self, name: str) -> bool:
        key = catalog.module_key(name)
        return catalog.module_info(name).implemented or key in self.loaded_modules

    def _missing_but_loaded(self, node: Node) -> Optional[LoadedModule]:
        """The LoadModule of a module prefork-modpy lacks that this (positive) <IfModule>
        names: its body then needs a verdict instead of being applied or dropped."""
        if len(node.args) != 1 or node.args[0].startswith("!"):
            return None
        if catalog.module_info(node.args[0]).implemented:
            return None
        return self.loaded_modules.get(catalog.module_key(node.args[0]))

    def _skip_body(self, node: Node, lines: Iterator[tuple[int, str]], path: str) -> None:
        """Consume a false conditional's lines up to its end (httpd's ap_soak_end_container),
        warning when an <IfModule> body held access rules: in an Apache that loaded the
        module they applied, here they do not."""
        depth, access_rule = 1, None
        for line_no, line in lines:
            if line.startswith("</"):
                depth -= 1
                if depth == 0:
                    break
            elif line.startswith("<"):
                depth += 1
            elif access_rule is None and line.split()[0].lower() in _ACCESS_RULES:
                access_rule = (line.split()[0], line_no)
        else:
            raise ConfigError.at(node, f"<{node.name}> was not closed")
        if node.key == "ifmodule" and access_rule is not None:
            module = catalog.module_info(node.args[0].lstrip("!")).name
            self.warnings.append(
                f"{node.where}: <IfModule {node.args[0]}> skipped because {module} is not "
                f"loaded, as httpd does; its {access_rule[0]} (line {access_rule[1]}) does not "
                f"apply. If your Apache loads {module}, add its LoadModule line so "
                "prefork-modpy can refuse what it cannot apply")

    def _judge_missing_module(self, frame: _Frame) -> list[Node]:
        """A loaded module prefork-modpy lacks: metadata bodies are accepted with one
        warning and not applied; a body that carries behaviour is refused."""
        node, module = frame.node, frame.verdict_module
        assert module is not None
        if not frame.body:
            return []
        info = catalog.module_info(module.name)
        for child in _walk(frame.body):
            if not is_module_metadata(module.key, child):
                raise ConfigError.at(
                    child, f"{child.name} in <IfModule {node.args[0]}> (line {node.line}): "
                           f"{info.name} is loaded ({module.file}:{module.line}) but "
                           f"prefork-modpy does not implement it: {info.reason}. Refused "
                           f"rather than dropped{'; ' + info.instead if info.instead else ''}")
        self.warnings.append(
            f"{node.where}: <IfModule {node.args[0]}>: {info.name} is loaded but not part of "
            f"prefork-modpy ({info.reason}); its {len(frame.body)} directive(s) here are "
            "not applied")
        return []

    # -- read-time directives -----------------------------------------------------------------

    def _read_time(self, node: Node, depth: int, stack: list[_Frame]) -> list[Node]:
        key = node.key
        if key not in _READ_TIME or stack[-1].verdict_module is not None:
            if key == "serverroot" and len(stack) == 1 and len(node.args) == 1:
                self.server_root = os.path.join(self.server_root or "", node.args[0])
            return [node]
        if key == "define":
            if not 1 <= len(node.args) <= 2:
                raise ConfigError.at(node, "Define takes a name and an optional value")
            self.defines[node.args[0]] = node.args[1] if len(node.args) == 2 else None
        elif key == "undefine":
            if len(node.args) != 1:
                raise ConfigError.at(node, "UnDefine takes one name")
            self.defines.pop(node.args[0], None)
        elif key == "loadmodule":
            self._load_module(node)
        else:
            return self._include(node, depth)
        return []

    def _load_module(self, node: Node) -> None:
        if len(node.args) != 2:
            raise ConfigError.at(node, "LoadModule takes a module name and a file")
        key = catalog.module_key(node.args[0])
        self.loaded_modules[key] = LoadedModule(key, node.args[0], node.args[1], node.file,
                                                node.line)

    def _include(self, node: Node, depth: int) -> list[Node]:
        """httpd's Include: a file, a directory (its files, recursively, in order) or a
        wildcard; a wildcard matching nothing (or a missing file) is an error for Include
        and nothing for IncludeOptional. Relative paths are relative to ServerRoot; one
        that exists only next to the including file is taken from there."""
        if len(node.args) != 1:
            raise ConfigError.at(node, f"{node.name} takes exactly one file or pattern")
        optional = node.key == "includeoptional"
        pattern = self._include_path(node.args[0], node)
        if glob.has_magic(pattern):
            paths = sorted(glob.glob(pattern))
            if not paths and not optional:
                raise ConfigError.at(node, f"Include: no file matches the wildcard {pattern!r} "
                                           "(use IncludeOptional if that is fine)")
        elif os.path.exists(pattern):
            paths = [pattern]
        elif optional:
            paths = []
        else:
            raise ConfigError.at(node, f"Include: {pattern} does not exist")
        nodes: list[Node] = []
        for path in paths:
            for file in _files_of(path):
                nodes.extend(self._read_file(file, depth + 1, node))
        return nodes

    def _include_path(self, pattern: str, node: Node) -> str:
        if os.path.isabs(pattern):
            return pattern
        from_root = os.path.join(self.server_root or "", pattern)
        beside = os.path.join(os.path.dirname(node.file), pattern)
        if glob.glob(from_root) or not glob.glob(beside):
            return from_root
        return beside


def _files_of(path: str) -> list[str]:
    """A directory's files, recursively and sorted (httpd's ap_process_resource_config)."""
    if not os.path.isdir(path):
        return [path]
    files: list[str] = []
    for name in sorted(os.listdir(path)):
        files.extend(_files_of(os.path.join(path, name)))
    return files


def _walk(nodes: list[Node]) -> Iterator[Node]:
    for node in nodes:
        if node.is_section:
            yield from _walk(node.children or [])
            yield node
        else:
            yield node


# Variables httpd's core and mod_setenvif's stock config set for broken clients of the 1990s
# (nokeepalive, downgrade-1.0, ...): prefork-modpy does not apply these protocol downgrades.
LEGACY_CLIENT_VARIABLES = frozenset({
    "nokeepalive", "downgrade-1.0", "force-response-1.0", "redirect-carefully",
    "ssl-unclean-shutdown", "gzip-only-text/html", "no-gzip", "dont-vary", "force-no-vary",
    "suppress-error-charset"})
_MPM_SIZING = frozenset({
    "startservers", "minspareservers", "maxspareservers", "maxrequestworkers", "maxclients",
    "maxconnectionsperchild", "maxrequestsperchild", "serverlimit", "threadsperchild",
    "minsparethreads", "maxsparethreads", "threadlimit", "threadstacksize",
    "asyncrequestworkerfactor"})


def is_deflate_only(node: Node) -> bool:
    """`AddOutputFilterByType DEFLATE type ...` / `SetOutputFilter DEFLATE`: compression."""
    if node.key not in ("addoutputfilterbytype", "setoutputfilter") or not node.args:
        return False
    return all(name.strip().upper() == "DEFLATE" for name in node.args[0].split(";") if name)


def is_module_metadata(module_key: str, node: Node) -> bool:
    """Whether `node`, in a body about `module_key`, is metadata or sizing that
    prefork-modpy may leave unapplied (catalog.py says why per module)."""
    key = node.key
    if module_key == "autoindex":
        return key in {name.lower() for name in catalog.AUTOINDEX_LOOK}
    if module_key == "negotiation":
        return key in {name.lower() for name in catalog.NEGOTIATION_META}
    if module_key in ("mpm_event", "mpm_worker"):
        return key in _MPM_SIZING
    if module_key in ("deflate", "filter"):
        return is_deflate_only(node) or key.startswith("deflate")
    return False


_VERSION_WORD = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def _version_matches(node: Node) -> bool:
    """`<IfVersion [[!]op] version>` (mod_version): =, ==, <, <=, >, >=, ~ regex, /regex/."""
    args = node.args
    if len(args) == 1:
        operator, operand = "=", args[0]
    elif len(args) == 2:
        operator, operand = args
    else:
        raise ConfigError.at(node, "<IfVersion> takes [[!]operator] version")
    negate = operator.startswith("!")
    operator = operator[1:] if negate else operator
    version_text = ".".join(str(part) for part in HTTPD_COMPAT_VERSION)
    if operand.startswith("/") and operand.endswith("/") and len(operand) > 1:
        operator, operand = "~", operand[1:-1]
    if operator == "~":
        try:
            result = compile_regex(operand).search(version_text) is not None
        except RegexError as exc:
            raise ConfigError.at(node, f"<IfVersion>: bad regular expression: {exc}") from None
        return result != negate
    match = _VERSION_WORD.fullmatch(operand)
    if match is None or operator not in ("=", "==", "<", "<=", ">", ">="):
        raise ConfigError.at(node, f"<IfVersion>: cannot compare {operator!r} {operand!r}")
    wanted = tuple(int(part) if part else 0 for part in match.groups())
    have = HTTPD_COMPAT_VERSION[:len([g for g in match.groups() if g])]
    wanted = wanted[:len(have)]
    result = {"=": have == wanted, "==": have == wanted, "<": have < wanted,
              "<=": have <= wanted, ">": have > wanted, ">=": have >= wanted}[operator]
    return result != negate
