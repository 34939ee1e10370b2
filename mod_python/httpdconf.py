"""``mod_python.httpdconf``: build httpd config text from Python objects, as mod_python 3.5.

Owns the small "config maker" mod_python ships for its own test suite (test/test.py writes its
httpd.conf with it) and that scripts import to generate config fragments: ``Directive``,
``Container``, ``ContainerTag``, ``Comment``, one class per directive test.py uses (the class
name is the directive name), and ``quote_if_space``. ``str()`` of an object is its config
text; nested sections indent by two spaces per level, as mod_python prints them.

Must not parse or check the config (prefork_modpy.config does, with file:line errors); it
only renders text, so a directive prefork-modpy refuses is still rendered and then refused
by the server, as Apache would refuse a directive of a module it has not loaded.
"""

from __future__ import annotations

import sys
from typing import Optional, Union

import mod_python  # noqa: F401 - `only_if` expressions may name it, as in mod_python

Part = Union["Directive", "Container", "ContainerTag", "Comment"]


def _flip(text: str, flipslash: bool) -> str:
    # mod_python writes Windows paths with forward slashes; a no-op on POSIX paths.
    return text.replace("\\", "/") if flipslash else text


class Directive:
    """One line: ``name val``."""

    def __init__(self, name: str, val: object, flipslash: int = 1) -> None:
        self.name = name
        self.val = val
        self.indent = 0
        self.flipslash = flipslash

    def __repr__(self) -> str:
        return _flip(" " * self.indent + f"{self.name}({self.val!r})", bool(self.flipslash))

    def __str__(self) -> str:
        return _flip(" " * self.indent + f"{self.name} {self.val}\n", bool(self.flipslash))


class Container:
    """A sequence of parts rendered one after the other at the same indent. With
    ``only_if="expression"`` it renders nothing unless the expression (evaluated in this
    module, which imports ``mod_python``) is true."""

    def __init__(self, *args: Part, only_if: Optional[str] = None) -> None:
        self.args: list[Part] = list(args)
        self.indent = 0
        self.only_if = only_if

    def append(self, value: Part) -> None:
        if not isinstance(value, (Directive, Container, ContainerTag, Comment)):
            raise TypeError("appended value must be an instance of Directive, Container, "
                            "ContainerTag or Comment")
        self.args.append(value)

    def __repr__(self) -> str:
        pad = " " * self.indent
        text = pad + "Container("
        for arg in self.args:
            arg.indent = self.indent + 4
            text += f"\n{arg!r},"
        closing = f"    only_if={self.only_if!r})" if self.only_if else ")"
        return text + "\n" + pad + closing

    def __str__(self) -> str:
        if self.only_if and not eval(self.only_if):  # noqa: S307 - mod_python's documented API
            return ""
        text = ""
        for arg in self.args:
            arg.indent = self.indent
            text += str(arg)
        return text


class ContainerTag:
    """A section: ``<tag attr>``, its parts indented by two, ``</tag>``."""

    def __init__(self, tag: str, attr: object, args: tuple[Part, ...] | list[Part],
                 flipslash: int = 1) -> None:
        self.tag = tag
        self.attr = attr
        self.args = args
        self.indent = 0
        self.flipslash = flipslash

    def __repr__(self) -> str:
        pad = " " * self.indent
        text = _flip(pad + f"{self.tag}({self.attr!r},", bool(self.flipslash))
        for arg in self.args:
            arg.indent = self.indent + 4
            text += f"\n{arg!r},"
        return text + "\n" + pad + ")"

    def __str__(self) -> str:
        pad = " " * self.indent
        text = _flip(pad + f"<{self.tag} {self.attr}>\n", bool(self.flipslash))
        for arg in self.args:
            arg.indent = self.indent + 2
            text += str(arg)
        return text + pad + f"</{self.tag}>\n"


class Comment:
    """``# line`` for each line of the text."""

    def __init__(self, comment: str) -> None:
        self.comment = comment
        self.indent = 0

    def __repr__(self) -> str:
        pad = " " * self.indent
        lines = self.comment.splitlines() or [""]
        text = pad + f"Comment({lines[0] + chr(10)!r}"
        for line in lines[1:]:
            text += "\n        " + pad + repr(line + "\n")
        return text + ")"

    def __str__(self) -> str:
        pad = " " * self.indent
        return "".join(f"{pad}# {line}\n" for line in self.comment.splitlines())


class _Named(Directive):
    """A directive whose name is its class name; ``flip`` is whether backslashes in the
    value become slashes (not for values that are format strings or Python code)."""

    flip = 1

    def __init__(self, val: object) -> None:
        super().__init__(type(self).__name__, val, self.flip)


class _Section(ContainerTag):
    """A section whose tag is its class name: ``Directory("/srv", SetHandler(...))``."""

    def __init__(self, attr: object, *args: Part) -> None:
        super().__init__(type(self).__name__, attr, args)


# -- sections

class Directory(_Section): pass  # noqa: E701
class Files(_Section): pass  # noqa: E701
class IfModule(_Section): pass  # noqa: E701
class Location(_Section): pass  # noqa: E701
class VirtualHost(_Section): pass  # noqa: E701


# -- httpd core, MPM and other modules' directives

class AddHandler(_Named): pass  # noqa: E701
class AddOutputFilter(_Named): pass  # noqa: E701
class AddType(_Named): pass  # noqa: E701
class AuthBasicAuthoritative(_Named): pass  # noqa: E701
class AuthBasicProvider(_Named): pass  # noqa: E701
class AuthName(_Named): pass  # noqa: E701
class AuthType(_Named): pass  # noqa: E701
class CustomLog(_Named): pass  # noqa: E701
class DirectoryIndex(_Named): pass  # noqa: E701
class DocumentRoot(_Named): pass  # noqa: E701
class ErrorLog(_Named): pass  # noqa: E701
class KeepAliveTimeout(_Named): pass  # noqa: E701
class Listen(_Named): pass  # noqa: E701
class LoadModule(_Named): pass  # noqa: E701
class LogLevel(_Named): pass  # noqa: E701
class MaxClients(_Named): pass  # noqa: E701
class MaxConnectionsPerChild(_Named): pass  # noqa: E701
class MaxRequestsPerChild(_Named): pass  # noqa: E701
class MaxSpareServers(_Named): pass  # noqa: E701
class MaxSpareThreads(_Named): pass  # noqa: E701
class MaxThreadsPerChild(_Named): pass  # noqa: E701
class MinSpareThreads(_Named): pass  # noqa: E701
class Mutex(_Named): pass  # noqa: E701
class NameVirtualHost(_Named): pass  # noqa: E701
class NumServers(_Named): pass  # noqa: E701
class Options(_Named): pass  # noqa: E701
class PidFile(_Named): pass  # noqa: E701
class Require(_Named): pass  # noqa: E701
class ServerAdmin(_Named): pass  # noqa: E701
class ServerName(_Named): pass  # noqa: E701
class ServerPath(_Named): pass  # noqa: E701
class ServerRoot(_Named): pass  # noqa: E701
class SetHandler(_Named): pass  # noqa: E701
class StartServers(_Named): pass  # noqa: E701
class StartThreads(_Named): pass  # noqa: E701
class ThreadsPerChild(_Named): pass  # noqa: E701
class Timeout(_Named): pass  # noqa: E701
class TypesConfig(_Named): pass  # noqa: E701


class LogFormat(_Named):
    flip = 0  # a format string: its backslashes escape quotes


class LockFile(Directive):
    """Apache 2.2's accept mutex file; Windows httpd has none, so it is commented out."""

    def __init__(self, val: object) -> None:
        name = "#LockFile" if sys.platform == "win32" else "LockFile"
        super().__init__(name, val)


# -- mod_python's directives

class PythonAccessHandler(_Named): pass  # noqa: E701
class PythonAuthenHandler(_Named): pass  # noqa: E701
class PythonAuthzHandler(_Named): pass  # noqa: E701
class PythonCleanupHandler(_Named): pass  # noqa: E701
class PythonConnectionHandler(_Named): pass  # noqa: E701
class PythonDebug(_Named): pass  # noqa: E701
class PythonFixupHandler(_Named): pass  # noqa: E701
class PythonHandler(_Named): pass  # noqa: E701
class PythonImport(_Named): pass  # noqa: E701
class PythonOption(_Named): pass  # noqa: E701
class PythonOutputFilter(_Named): pass  # noqa: E701
class PythonPostReadRequestHandler(_Named): pass  # noqa: E701
class PythonTransHandler(_Named): pass  # noqa: E701


class PythonPath(_Named):
    flip = 0  # a Python expression: backslashes are string escapes


class PythonInterpPerDirectory(_Named):
    def __init__(self, val: object = "Off") -> None:
        super().__init__(val)


class PythonInterpPerDirective(_Named):
    def __init__(self, val: object = "Off") -> None:
        super().__init__(val)


def quote_if_space(text: str) -> str:
    """``"text"`` when it contains a space (a path under "Program Files"), else as is."""
    return f'"{text}"' if " " in text else text
