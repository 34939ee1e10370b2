"""mod_authn_file's `file` provider and `Require group` (mod_authz_groupfile).

Owns checking Basic credentials against an `AuthUserFile` written by htpasswd, and group
membership from an `AuthGroupFile`. Password hashes are verified by passlib (the
maintained `libpass` fork) with the `bcrypt` package as its bcrypt backend: the schemes
apr_password_validate accepts on Linux ($2y$ bcrypt, $apr1$ MD5, {SHA}, and crypt(3):
DES, $1$, $5$, $6$); plain text is not accepted, as on Linux httpd. Files are re-read when
their modification time changes (httpd reads them at every request). Must not parse
config text.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..config.httpdmods import HttpdMods
    from ..runtime.record import RequestRec

# authn_file's AUTH_GRANTED/AUTH_DENIED (user unknown or password mismatch)/GENERAL_ERROR.
GRANTED, DENIED, GENERAL_ERROR = "granted", "denied", "general-error"

_context = None


def _crypt_context():
    """passlib's CryptContext for htpasswd hashes; imported on first use, so servers
    without AuthUserFile never load it."""
    global _context
    if _context is None:
        from passlib.context import CryptContext

        _context = CryptContext(schemes=["bcrypt", "apr_md5_crypt", "ldap_sha1",
                                         "sha512_crypt", "sha256_crypt", "md5_crypt",
                                         "des_crypt"])
    return _context


def verify(password: str, stored: str) -> bool:
    """apr_password_validate."""
    try:
        return bool(_crypt_context().verify(password, stored))
    except (ValueError, TypeError):
        return False


_files: dict[str, tuple[float, dict[str, str]]] = {}


def _server_relative(req: RequestRec, path: str) -> str:
    """A .htaccess file's relative AuthUserFile/AuthGroupFile is ServerRoot-relative too
    (config.server resolves the config's own at load)."""
    return path if os.path.isabs(path) else os.path.join(req.runtime.config.server_root, path)


def _read_table(path: str, groups: bool) -> dict[str, str]:
    """`name:value` lines (# comments and blank lines skipped), cached by mtime. For a
    group file the value is the member list."""
    mtime = os.stat(path).st_mtime
    cached = _files.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    table: dict[str, str] = {}
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            name, _, value = line.partition(":")
            if groups:
                table[name] = (table.get(name, "") + " " + value).strip()
            elif name not in table:  # authn_file stops at the first entry for the user
                table[name] = value.partition(":")[0]
    _files[path] = (mtime, table)
    return table


def check_password(req: RequestRec, path: Optional[str], user: str, password: str) -> str:
    if path is None:
        req.log_error("AuthUserFile not specified in the configuration")
        return GENERAL_ERROR
    try:
        table = _read_table(_server_relative(req, path), groups=False)
    except OSError as exc:
        req.log_error(f"Could not open password file: {path}: {exc.strerror}")
        return GENERAL_ERROR
    stored = table.get(user)
    if stored is None:
        req.log_error(f"user {user} not found: {req.uri}")
        return DENIED
    if not verify(password, stored):
        req.log_error(f'user {user}: authentication failure for "{req.uri}": Password '
                      "Mismatch")
        return DENIED
    return GRANTED


def group_check(req: RequestRec, mods: Optional[HttpdMods], user: str,
                groups: frozenset[str]) -> str:
    """mod_authz_groupfile's group_check_authorization."""
    path = mods.auth_group_file if mods is not None else None
    if path is None:
        req.log_error(f"Authorization of user {user} to access {req.uri} failed, reason: "
                      "no group file specified")
        return DENIED
    try:
        table = _read_table(_server_relative(req, path), groups=True)
    except OSError as exc:
        req.log_error(f"Could not open group file: {path}: {exc.strerror}")
        return GENERAL_ERROR
    for group in groups:
        if user in table.get(group, "").split():
            return GRANTED
    req.log_error(f"Authorization of user {user} to access {req.uri} failed, reason: user "
                  f"is not part of the 'require'ed group(s).")
    return DENIED
