"""Which .htaccess override class each per-directory directive needs (httpd's req_override).

Owns the one table directive -> override classes (the `OR_*` bits of each module's command
table: mod_python's handlers are OR_ALL, core's Options is OR_OPTIONS, mod_mime's are
OR_FILEINFO, ...) and the parsing of `AllowOverride` / `AllowOverrideList` into what a
`.htaccess` file may then contain. A module that adds a per-directory directive adds one
line to `OVERRIDE_CLASSES`. A directive absent from the table is not allowed in .htaccess
at all (RSRC_CONF/ACCESS_CONF only in httpd). Must not read files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .syntax import ConfigError, Node

AUTHCFG, FILEINFO, INDEXES, LIMIT, OPTIONS = "AuthConfig", "FileInfo", "Indexes", "Limit", \
    "Options"
CLASSES = (AUTHCFG, FILEINFO, INDEXES, LIMIT, OPTIONS)
OR_ALL = frozenset(CLASSES)
_BY_LOWER = {name.lower(): name for name in CLASSES}

# directive (lower case) -> the classes of which any one allows it (httpd: cmd->req_override
# & allowed != 0). Grouped by module, as each module's command table says.
OVERRIDE_CLASSES: dict[str, frozenset[str]] = {
    # -- core --
    "options": frozenset({OPTIONS}),
    "authtype": frozenset({AUTHCFG}), "authname": frozenset({AUTHCFG}),
    "require": frozenset({AUTHCFG}),
    "sethandler": frozenset({FILEINFO}), "setoutputfilter": frozenset({FILEINFO}),
    "setinputfilter": frozenset({FILEINFO}), "adddefaultcharset": frozenset({FILEINFO}),
    "defaulttype": frozenset({FILEINFO}),
    # -- mod_mime --
    "addhandler": frozenset({FILEINFO}), "addtype": frozenset({FILEINFO}),
    "addencoding": frozenset({FILEINFO}), "addlanguage": frozenset({FILEINFO}),
    "addcharset": frozenset({FILEINFO}), "removetype": frozenset({FILEINFO}),
    "addoutputfilter": frozenset({FILEINFO}), "addinputfilter": frozenset({FILEINFO}),
    # -- mod_dir --
    "directoryindex": frozenset({INDEXES}),
    # -- mod_python (mod_python.c: every per-directory directive is OR_ALL; the filters,
    # PythonImport, PythonTransHandler and PythonPostReadRequestHandler are not) --
    **{name: OR_ALL for name in (
        "pythonaccesshandler", "pythonauthenhandler", "pythonauthzhandler",
        "pythoncleanuphandler", "pythonfixuphandler", "pythonhandler",
        "pythonheaderparserhandler", "pythoninithandler", "pythonloghandler",
        "pythontypehandler", "pythonhandlermodule", "pythonautoreload", "pythondebug",
        "pythonenablepdb", "pythoninterpperdirective", "pythoninterpperdirectory",
        "pythoninterpreter", "pythonoption", "pythonpath")},
    # -- issue 10: mod_env, mod_setenvif, mod_access_compat, mod_authz_core's containers,
    # mod_authn_file, mod_authz_groupfile, mod_auth_basic, mod_alias, mod_dir, core --
    **{name: frozenset({FILEINFO}) for name in (
        "setenv", "unsetenv", "passenv", "setenvif", "setenvifnocase", "browsermatch",
        "browsermatchnocase", "redirect", "redirectmatch", "redirectpermanent",
        "redirecttemp", "errordocument")},
    "order": frozenset({LIMIT}), "allow": frozenset({LIMIT}), "deny": frozenset({LIMIT}),
    "limit": frozenset({LIMIT, AUTHCFG}), "limitexcept": frozenset({LIMIT, AUTHCFG}),
    **{name: frozenset({AUTHCFG}) for name in (
        "satisfy", "requireall", "requireany", "requirenone", "authuserfile",
        "authgroupfile", "authbasicprovider")},
    "directoryslash": frozenset({INDEXES}), "fallbackresource": frozenset({INDEXES}),
    "limitrequestbody": OR_ALL,
    # -- mod_rewrite (RewriteMap is server config only) --
    "rewriteengine": frozenset({FILEINFO}), "rewriteoptions": frozenset({FILEINFO}),
    "rewritebase": frozenset({FILEINFO}), "rewritecond": frozenset({FILEINFO}),
    "rewriterule": frozenset({FILEINFO}),
    # -- mod_ssl: SSLRequireSSL is OR_AUTHCFG in mod_ssl.c --
    "sslrequiressl": frozenset({AUTHCFG}),
    "sslverifyclient": frozenset({AUTHCFG}), "sslverifydepth": frozenset({AUTHCFG}),
    "ssloptions": frozenset({OPTIONS}), "sslusername": frozenset({AUTHCFG}),
}

# core's Options names AllowOverride Options=... may list (lower case).
OPTION_NAMES = frozenset({"all", "execcgi", "followsymlinks", "includes", "includesnoexec",
                          "indexes", "multiviews", "none", "symlinksifownermatch"})


@dataclass(frozen=True)
class Overrides:
    """What a .htaccess may contain here: the classes of AllowOverride, the Options that
    `Options=` allows (None: all), and AllowOverrideList's directive names."""

    classes: frozenset[str] = frozenset()
    options: Optional[frozenset[str]] = None
    directives: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        """Whether any .htaccess file is read at all (httpd reads none for None/None)."""
        return bool(self.classes or self.directives)

    def allows(self, key: str) -> bool:
        classes = OVERRIDE_CLASSES.get(key)
        return key in self.directives or bool(classes and classes & self.classes)


NONE = Overrides()


def parse_allow_override(node: Node) -> Overrides:
    """core's set_override: `None`, `All`, or class names, `Options=a,b` (httpd 2.4)."""
    if not node.args:
        raise ConfigError.at(node, "AllowOverride needs None, All or override class names")
    classes: set[str] = set()
    options: Optional[frozenset[str]] = None
    for word in node.args:
        name, sep, listed = word.partition("=")
        lower = name.lower()
        if lower == "none":
            continue
        if lower == "all":
            classes |= OR_ALL
            continue
        if lower not in _BY_LOWER:
            raise ConfigError.at(node, f"Illegal override option {word}")
        classes.add(_BY_LOWER[lower])
        if lower == "options" and sep:
            names = frozenset(item.lower() for item in listed.split(",") if item)
            unknown = names - OPTION_NAMES
            if unknown:
                raise ConfigError.at(node, f"Illegal option {sorted(unknown)[0]}")
            options = names
    return Overrides(frozenset(classes), options)


def parse_allow_override_list(node: Node) -> frozenset[str]:
    """core's set_override_list: `None` or directive names allowed whatever the classes."""
    words = [word.lower() for word in node.args]
    if not words:
        raise ConfigError.at(node, "AllowOverrideList needs None or directive names")
    return frozenset() if words == ["none"] else frozenset(words)
