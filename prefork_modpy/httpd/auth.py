"""Authentication and authorization: `AuthType`, `AuthName`, `Require` and the Python phases.

Owns what httpd 2.4 does between the access and type phases (request.c with
mod_authz_core, mod_authz_host, mod_authz_user and mod_auth_basic), with mod_python's hooks
in it:

1. the `Require` lines (alternatives, as an implicit `<RequireAny>`) are evaluated without a
   user: a host rule (`ip`, `local`, `all granted`) may grant at once; if no line could
   grant even with a user, 403;
2. otherwise `PythonAuthenHandler` runs (authentication required); OK needs `req.user`;
   `HTTP_UNAUTHORIZED` notes the failure (`WWW-Authenticate` for `AuthType Basic`);
3. `PythonAuthzHandler` runs; if it declines, `Require valid-user` / `Require user …`
   decide with the user.

Also `req.get_basic_auth_pw()` (ap_get_basic_auth_pw) and `req.requires()`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from mod_python import apache

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec

OK, DECLINED = apache.OK, apache.DECLINED
GRANTED, DENIED, DENIED_NO_USER = "granted", "denied", "denied-no-user"

# The request type the caller's phase runner takes (mod_python's Request, above this layer).
Req = TypeVar("Req", bound="RequestRec")
RunPhase = Callable[[Req, str, "DirSettings"], int]


def is_basic(req: RequestRec) -> bool:
    return (req.auth_type() or "").lower() == "basic"


def note_auth_failure(req: RequestRec) -> None:
    """ap_note_auth_failure: mod_auth_basic asks for credentials, only for AuthType Basic."""
    if is_basic(req):
        req.err_headers_out["WWW-Authenticate"] = f'Basic realm="{req.auth_name() or ""}"'


def get_basic_auth_pw(req: RequestRec) -> Optional[str]:
    """The Basic password (Latin-1), also setting req.user and req.ap_auth_type; None
    unless AuthType is Basic and the client sent Basic credentials."""
    if not is_basic(req):
        return None
    if not req.auth_name():
        req.log_error(f"need AuthName: {req.uri}")
        return None
    header = req.headers_in.get("Authorization")
    if header is None:
        note_auth_failure(req)
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        req.log_error(f"client used wrong authentication scheme: {req.uri}")
        note_auth_failure(req)
        return None
    user, _, password = _b64decode(encoded.strip(" \t")).partition(b":")
    req.user = user.decode("latin-1")
    req.ap_auth_type = "Basic"
    return password.decode("latin-1")


_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _b64decode(text: str) -> bytes:
    """ap_pbase64decode is lenient: it decodes up to the first character outside the
    alphabet (padding included) and ignores a dangling sixth of a byte."""
    end = 0
    while end < len(text) and text[end] in _BASE64:
        end += 1
    data = text[:end]
    if len(data) % 4 == 1:
        data = data[:-1]
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def requires(req: RequestRec) -> tuple[str, ...]:
    """The `Require` lines in effect, each as its argument string (mod_python before
    Apache 2.4; the method restriction of <Limit> does not exist here)."""
    return tuple(req.per_dir_config.requires or ()) if req.per_dir_config is not None else ()


def check(req: Req, settings: DirSettings, run_phase: RunPhase[Req]) -> int:
    """Steps 1-3 of the module docstring; OK lets the request go on."""
    lines = settings.requires
    if not lines:
        return OK
    verdict = evaluate(req, lines, None)
    if verdict == GRANTED:
        return OK
    if verdict == DENIED:
        req.log_error(f"client denied by server configuration: {req.filename or req.uri}")
        return apache.HTTP_FORBIDDEN
    result = authenticate(req, settings, run_phase)
    if result != OK:
        return result
    return authorize(req, settings, run_phase)


def authenticate(req: Req, settings: DirSettings, run_phase: RunPhase[Req]) -> int:
    result = run_phase(req, "PythonAuthenHandler", settings)
    if result == OK:
        if req.user is None:
            req.log_error("python_handler: After PythonAuthenHandler req->user is NULL. Assign "
                          "something to req.user if returning OK to avoid this error.")
            return apache.HTTP_INTERNAL_SERVER_ERROR
        return OK
    if result == apache.HTTP_UNAUTHORIZED:
        note_auth_failure(req)
        return result
    if result != DECLINED:
        return result
    return _nobody_authenticated(req)


def _nobody_authenticated(req: RequestRec) -> int:
    """No Python handler took the request. httpd's mod_auth_basic would ask for credentials
    (and, holding some, look for an AuthUserFile provider prefork-modpy does not have:
    the credentials are refused with 401 as a provider would); any other AuthType has no
    module to check the user: 500 ("couldn't check user")."""
    if is_basic(req):
        if req.headers_in.get("Authorization") is not None:
            req.log_error(f"user not found (no PythonAuthenHandler accepted it): {req.uri}")
        note_auth_failure(req)
        return apache.HTTP_UNAUTHORIZED
    if req.auth_type() is None:
        req.log_error("AuthType not set!")
    else:
        req.log_error("configuration error:  couldn't check user.  Check your authn "
                      f"provider!: {req.uri}")
    return apache.HTTP_INTERNAL_SERVER_ERROR


def authorize(req: Req, settings: DirSettings, run_phase: RunPhase[Req]) -> int:
    result = run_phase(req, "PythonAuthzHandler", settings)
    if result != DECLINED:
        return result
    if evaluate(req, settings.requires or (), req.user) == GRANTED:
        return OK
    if req.auth_type() is None:
        req.log_error(f"client denied by server configuration: {req.filename or req.uri}")
        return apache.HTTP_FORBIDDEN
    req.log_error(f'user {req.user}: authorization failure for "{req.uri}": ')
    if req.user is not None:
        note_auth_failure(req)
    return apache.HTTP_UNAUTHORIZED


def evaluate(req: RequestRec, lines: tuple[str, ...], user: Optional[str]) -> str:
    """mod_authz_core's RequireAny over the lines: granted if one grants; else
    "denied-no-user" if one might grant once a user is known; else denied."""
    verdict = DENIED
    for line in lines:
        result = _line(req, line, user)
        if result == GRANTED:
            return GRANTED
        if result == DENIED_NO_USER:
            verdict = DENIED_NO_USER
    return verdict


def _line(req: RequestRec, line: str, user: Optional[str]) -> str:
    kind, *words = line.split()
    if kind == "all":
        return GRANTED if words == ["granted"] else DENIED
    if kind in ("ip", "local"):
        return GRANTED if _host_allowed(req, kind, line) else DENIED
    if kind == "valid-user":
        return GRANTED if user is not None else DENIED_NO_USER
    if kind == "user":
        if user is None:
            return DENIED_NO_USER
        return GRANTED if user in words else DENIED
    return DENIED


def _host_allowed(req: RequestRec, kind: str, line: str) -> bool:
    """mod_authz_host: `Require local` (loopback or the local address), `Require ip`."""
    client = ipaddress.ip_address(req.raw.remote_addr[0].partition("%")[0])
    if kind == "local":
        return client.is_loopback or str(client) == req.raw.local_addr[0]
    return any(client in network for network in _networks(line))


@functools.lru_cache(maxsize=256)
def _networks(line: str) -> tuple:
    return tuple(ipaddress.ip_network(word, strict=False) for word in line.split()[1:])
