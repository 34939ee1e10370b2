"""Authentication and authorization: `AuthType`, `AuthName`, `Require` and the Python phases.

Owns what httpd 2.4 does between the access and type phases (request.c with
mod_authz_core, mod_authz_host, mod_authz_user and mod_auth_basic), with mod_python's hooks
in it:

0. the access checkers run: mod_access_compat (access.py), then PythonAccessHandler;
   `Satisfy Any` lets their OK stand alone, `Satisfy All` (the default) needs it and
   goes on;
1. the `Require` tree (mod_authz_core's containers and `not`; a section's lines form an
   implicit `<RequireAny>`; `<Limit>` methods) is evaluated without a user: granted ends
   here; if nothing could grant even with a user, 403;
2. otherwise `PythonAuthenHandler` runs (authentication required); OK needs `req.user`;
   `HTTP_UNAUTHORIZED` notes the failure (`WWW-Authenticate` for `AuthType Basic`); when
   it declines, mod_auth_basic's `file` provider (authnfile.py) decides if configured;
3. `PythonAuthzHandler` runs; if it declines, the tree decides with the user
   (`valid-user`, `user`, `group` from AuthGroupFile).

Also `req.get_basic_auth_pw()` (ap_get_basic_auth_pw), `req.requires()`, and mod_ssl's
parts of it: ssl_hook_UserCheck (FakeBasicAuth) and the `Require ssl`/`ssl-verify-client`
providers.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
from typing import TYPE_CHECKING, Callable, Optional, TypeVar, Union

from mod_python import apache

from ..config.httpdmods import AuthzRule, AuthzSection, HttpdMods, applies
from . import access, authnfile, ssl, sslcert

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec

OK, DECLINED = apache.OK, apache.DECLINED
GRANTED, DENIED, DENIED_NO_USER = "granted", "denied", "denied-no-user"
NEUTRAL, GENERAL_ERROR = "neutral", "general-error"
AuthzNode = Union[AuthzRule, AuthzSection]

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
    Apache 2.4), whatever <Limit> methods or container they stand in."""
    return tuple(req.per_dir_config.requires or ()) if req.per_dir_config is not None else ()


def check(req: Req, settings: DirSettings, run_phase: RunPhase[Req]) -> int:
    """request.c's access/authn/authz sequence for `Satisfy` (ap_process_request_internal):
    the access checkers (mod_access_compat, then PythonAccessHandler: RUN_ALL), then the
    Require lines without a user, then steps 2-3 of the module docstring."""
    mods = settings.httpd
    access_rules = mods.access if mods is not None else None
    allowed = access.check(req, access_rules) if access_rules is not None else OK
    if allowed in (OK, DECLINED):
        allowed = run_phase(req, "PythonAccessHandler", settings)
        allowed = OK if allowed == DECLINED else allowed
    if allowed == OK and req.notes.get("ssl-access-forbidden"):  # mod_ssl: SSLRequireSSL
        allowed = apache.HTTP_FORBIDDEN
    satisfy = access_rules.satisfy_for(req.method) if access_rules is not None else "nospec"
    if satisfy == "any":
        if allowed == OK:
            return OK
    elif allowed != OK:
        return allowed
    if not settings.requires:
        return OK
    verdict = evaluate(req, settings, None)
    if verdict == GRANTED:
        return OK
    if verdict != DENIED_NO_USER:
        req.log_error(f"client denied by server configuration: {req.filename or req.uri}")
        return apache.HTTP_FORBIDDEN
    result = authenticate(req, settings, run_phase)
    if result != OK:
        return result
    return authorize(req, settings, run_phase)


_NO_MODS = HttpdMods()


def grants_everyone(settings: DirSettings) -> bool:
    """Whether `check` can only answer OK here, whatever the request, and do nothing else:
    the section's one Require line is `Require all granted` for every method, with no
    access rule (mod_access_compat), no other httpd module setting and no Python access
    phase (Debian's `<Directory /var/www/>`). `Require all granted` beside anything else,
    under <Limit>, negated or in a container: False (decided per request)."""
    mods = settings.httpd
    if mods is None or mods.authz is None or "PythonAccessHandler" in settings.phases:
        return False
    if dataclasses.replace(mods, authz=None) != _NO_MODS:
        return False
    root = mods.authz
    if root.op_and or root.negate or root.limited is not None or len(root.children) != 1:
        return False
    rule = root.children[0]
    return (isinstance(rule, AuthzRule) and rule.provider == "all" and rule.parsed is True
            and not rule.negate and rule.limited is None)


def authenticate(req: Req, settings: DirSettings, run_phase: RunPhase[Req]) -> int:
    if req.runtime.config.tls_listen:  # -- mod_ssl's ssl_hook_UserCheck runs first --
        result = ssl_user_check(req, settings)
        if result != OK:
            return result
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
    mods = settings.httpd
    if mods is not None and (mods.auth_user_file is not None or mods.basic_providers):
        return _authenticate_basic(req, mods.auth_user_file)
    return _nobody_authenticated(req)


# -- mod_ssl --
def ssl_user_check(req: RequestRec, settings: DirSettings) -> int:
    """ssl_hook_UserCheck (check_authn, before mod_python's and mod_auth_basic's): Basic
    credentials that pose as a certificate (a user starting with `/`, password "password")
    are a spoof, 403; under SSLOptions +FakeBasicAuth a client certificate that passed
    verification becomes `Authorization: Basic` of its subject DN in the old `/C=..`
    form and the password "password", for AuthUserFile to check. 0 to go on."""
    if req.main is not None or req.prev is not None:  # ap_is_initial_req
        return 0
    header = req.headers_in.get("Authorization")
    if header is not None and _is_fake_basic(header):
        req.log_error(f"Encountered FakeBasicAuth spoof: {_basic_user(header)}")
        return apache.HTTP_FORBIDDEN
    if "fakebasicauth" not in settings.ssl_options or req.user or ssl.tls_of(req.raw) is None:
        return 0
    verdict, chain = ssl.client_of(req.raw)
    if not chain or verdict not in ("SUCCESS", "GENEROUS"):
        return 0
    subject = sslcert.variable(chain[0], "S_DN", legacy=True) or ""
    line = "Basic " + base64.b64encode(f"{subject}:password".encode()).decode()
    req.headers_in["Authorization"] = line
    req.log_error(f'Faking HTTP Basic Auth header: "Authorization: {line}"', apache.APLOG_INFO)
    return 0


def _basic_user(header: str) -> str:
    return _basic_pair(header)[0].decode("latin-1")


def _basic_pair(header: str) -> tuple[bytes, bytes]:
    encoded = header.split(" ", 1)[1] if " " in header else ""
    user, _, password = _b64decode(encoded.lstrip(" \t")).partition(b":")
    return user, password


def _is_fake_basic(header: str) -> bool:
    if header.split(" ", 1)[0].lower() != "basic":  # strcEQ: case-insensitive
        return False
    user, password = _basic_pair(header)
    return user.startswith(b"/") and password == b"password"


def _authenticate_basic(req: RequestRec, user_file: Optional[str]) -> int:
    """mod_auth_basic's authenticate_basic_user with the file provider (authnfile.py)."""
    if not is_basic(req):
        req.log_error("configuration error:  couldn't check user.  Check your authn "
                      f"provider!: {req.uri}")
        return apache.HTTP_INTERNAL_SERVER_ERROR
    if not req.auth_name():
        req.log_error(f"need AuthName: {req.uri}")
        return apache.HTTP_INTERNAL_SERVER_ERROR
    password = get_basic_auth_pw(req)
    if password is None:  # no or other credentials: get_basic_auth_pw noted the failure
        return apache.HTTP_UNAUTHORIZED
    result = authnfile.check_password(req, user_file, req.user or "", password)
    if result == authnfile.GRANTED:
        return OK
    if result == authnfile.GENERAL_ERROR:
        return apache.HTTP_INTERNAL_SERVER_ERROR
    note_auth_failure(req)
    return apache.HTTP_UNAUTHORIZED


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
    verdict = evaluate(req, settings, req.user)
    if verdict == GRANTED:
        return OK
    if verdict == GENERAL_ERROR:
        return apache.HTTP_INTERNAL_SERVER_ERROR
    if req.auth_type() is None and verdict != DENIED_NO_USER:
        req.log_error(f"client denied by server configuration: {req.filename or req.uri}")
        return apache.HTTP_FORBIDDEN
    req.log_error(f'user {req.user}: authorization failure for "{req.uri}": ')
    if req.user is not None:
        note_auth_failure(req)
    return apache.HTTP_UNAUTHORIZED


def evaluate(req: RequestRec, settings: DirSettings, user: Optional[str]) -> str:
    """mod_authz_core's apply_authz_sections over the section's Require tree (its lines
    form an implicit <RequireAny>; the root is applied as if under an AND)."""
    mods = settings.httpd
    if mods is None or mods.authz is None:
        return GRANTED
    return _section(req, mods.authz, True, user, settings)


def _section(req: RequestRec, node: AuthzNode, parent_and: bool, user: Optional[str],
             settings: DirSettings) -> str:
    if not applies(node.limited, req.method):  # directive limited to other methods
        return GRANTED if parent_and else NEUTRAL
    if isinstance(node, AuthzRule):
        result = _rule(req, node, user, settings)
    else:
        result = _combine(req, node, user, settings)
    if node.negate:
        if result == GRANTED:
            return DENIED
        if result == DENIED:  # not being refused is no reason to grant
            return NEUTRAL
    return result


def _combine(req: RequestRec, section: AuthzSection, user: Optional[str],
             settings: DirSettings) -> str:
    result = NEUTRAL
    for child in section.children:
        outcome = _section(req, child, section.op_and, user, settings)
        if outcome == GENERAL_ERROR:
            return GENERAL_ERROR
        if outcome == NEUTRAL:
            continue
        if section.op_and:
            if outcome == DENIED:
                return DENIED
            if (outcome == DENIED_NO_USER and result != DENIED) or result == NEUTRAL:
                result = outcome
        else:
            if outcome == GRANTED:
                return GRANTED
            if (outcome == DENIED_NO_USER and result == DENIED) or result == NEUTRAL:
                result = outcome
    return result


def _rule(req: RequestRec, rule: AuthzRule, user: Optional[str],
          settings: DirSettings) -> str:
    """One provider's check_authorization."""
    provider = rule.provider
    if provider == "all":
        return GRANTED if rule.parsed else DENIED
    if provider == "ip":
        client = ipaddress.ip_address(req.useragent_ip.partition("%")[0])
        return GRANTED if any(client in network for network in rule.parsed) else DENIED
    if provider == "local":
        return GRANTED if _is_local(req) else DENIED
    if provider == "host":
        name = access.double_reverse(req.useragent_ip)
        if name is None:
            return DENIED
        return GRANTED if any(access.in_domain(domain, name) for domain in rule.parsed) \
            else DENIED
    if provider == "env":
        env = req.subprocess_env
        return GRANTED if any(env.get(name) is not None for name in rule.parsed) else DENIED
    if provider == "method":
        method = "GET" if req.method == "HEAD" else req.method
        return GRANTED if method in rule.parsed else DENIED
    if provider == "ssl":  # mod_ssl's ssl_authz_require_ssl_check
        return GRANTED if ssl.tls_of(req.raw) is not None else DENIED
    if provider == "ssl-verify-client":  # ssl_authz_verify_client_check: verified, not GENEROUS
        verified = ssl.tls_of(req.raw) is not None and ssl.client_of(req.raw)[0] == "SUCCESS"
        return GRANTED if verified else DENIED
    if user is None:
        return DENIED_NO_USER
    if provider == "valid-user":
        return GRANTED
    if provider == "user":
        return GRANTED if user in rule.parsed else DENIED
    return authnfile.group_check(req, settings.httpd, user, rule.parsed)


def _is_local(req: RequestRec) -> bool:
    """mod_authz_host's `Require local`: loopback, or the server's own address."""
    client = ipaddress.ip_address(req.useragent_ip.partition("%")[0])
    return client.is_loopback or str(client) == req.raw.local_addr[0]
