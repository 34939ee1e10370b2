"""Apache-syntax reader: lines, continuations, quoting, `<Section>` nesting, `Include`.

Owns turning config files into a tree of `Node`s that remember file and line. Knows no
directive meanings beyond the few that shape the tree itself (`Include`, `IncludeOptional`,
`<IfDefine>`, `<IfModule>`); `config.py` gives the nodes their meaning.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Iterator, Optional


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


@dataclass
class _Frame:
    node: Node
    body: list[Node] = field(default_factory=list)


# Modules a site config may probe with <IfModule>: we answer as a server with these loaded.
KNOWN_MODULES = frozenset(
    name
    for base in ("python", "mime", "dir", "alias", "log_config", "auth_basic", "authz_core",
                 "authz_user", "authz_host", "authn_core", "status", "reqtimeout", "mpm_prefork")
    for name in (f"mod_{base}.c", f"{base}_module")
)

MAX_INCLUDE_DEPTH = 16


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
    """Yield (first line number, text) with `\\` continuations joined and comments and
    blank lines dropped."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending:
            start = number
            if not stripped or stripped.startswith("#"):
                continue
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        yield start, " ".join(part for part in pending if part)
        pending = []
    if pending:
        raise ConfigError.at((path, start), "line continuation at end of file")


class ConfigReader:
    """Reads one config file (and what it includes) into a list of top-level nodes."""

    def __init__(self, defines: frozenset[str] = frozenset()) -> None:
        self.defines = defines
        self.files_read: list[str] = []

    def read(self, path: str) -> list[Node]:
        return self._read_file(os.path.abspath(path), depth=0, where=None)

    def _read_file(self, path: str, depth: int, where: Optional[Node]) -> list[Node]:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfigError.at(where, "Include nested too deeply (a loop?)")  # type: ignore[arg-type]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            if where is None:
                raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
            raise ConfigError.at(where, f"cannot read {path}: {exc.strerror}") from None
        self.files_read.append(path)
        return self._build_tree(path, text, depth)

    def _build_tree(self, path: str, text: str, depth: int) -> list[Node]:
        stack = [_Frame(Node("<root>", [], path, 0, []))]
        for line_no, line in _logical_lines(path, text):
            where = (path, line_no)
            if line.startswith("</"):
                self._close_section(stack, line, where)
            elif line.startswith("<"):
                stack.append(_Frame(self._open_section(line, where)))
            else:
                name, _, rest = line.partition(" ")
                node = Node(name, split_args(rest, where), path, line_no, None, rest.strip())
                stack[-1].body.extend(self._expand(node, depth))
        if len(stack) > 1:
            open_node = stack[-1].node
            raise ConfigError.at(open_node, f"<{open_node.name}> was not closed")
        return stack[0].body

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
        stack[-1].body.extend(self._resolve_conditional(frame.node))

    def _resolve_conditional(self, node: Node) -> list[Node]:
        """<IfDefine>/<IfModule> vanish into their body (or into nothing)."""
        key = node.key
        if key not in ("ifdefine", "ifmodule"):
            return [node]
        if len(node.args) != 1:
            raise ConfigError.at(node, f"<{node.name}> takes exactly one argument")
        arg = node.args[0]
        negate = arg.startswith("!")
        arg = arg[1:] if negate else arg
        present = arg in self.defines if key == "ifdefine" else arg in KNOWN_MODULES
        return list(node.children or []) if present != negate else []

    def _expand(self, node: Node, depth: int) -> list[Node]:
        """Replace Include/IncludeOptional by the nodes of the files they name."""
        if node.key not in ("include", "includeoptional"):
            return [node]
        if len(node.args) != 1:
            raise ConfigError.at(node, f"{node.name} takes exactly one file or pattern")
        pattern = node.args[0]
        if not os.path.isabs(pattern):
            # Relative to the including file (our rule; Apache uses ServerRoot).
            pattern = os.path.join(os.path.dirname(node.file), pattern)
        paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        nodes: list[Node] = []
        for path in paths:
            if node.key == "includeoptional" and not os.path.exists(path):
                continue
            nodes.extend(self._read_file(path, depth + 1, node))
        return nodes
