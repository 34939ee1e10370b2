"""mod_ssl's formats for certificate variables (ssl_engine_vars.c): SSL_{CLIENT,SERVER}_S_DN,
_I_DN and their _DN_x components, _SAN_Email_n / _SAN_DNS_n, _M_SERIAL, _M_VERSION,
_V_START, _V_END, _V_REMAIN, _A_SIG, _A_KEY and the PEM of _CERT / _CLIENT_CERT_CHAIN_n.

Owns: turning the fields rust/x509.rs decodes (`_core.x509_fields`) into mod_ssl 2.4's
strings. Must not: verify certificates (rust/tls.rs does) or know the request beyond the
DER it is given (httpd/ssl.py picks the certificate).
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any, Optional

from .. import _core

# OpenSSL's short names (X509_NAME_print_ex / X509_NAME_oneline) by OID.
_SHORT = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
          "2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.42": "GN", "2.5.4.4": "SN",
          "2.5.4.43": "initials", "2.5.4.5": "serialNumber", "2.5.4.9": "street",
          "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.44": "generationQualifier",
          "1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC",
          "0.9.2342.19200300.100.1.1": "UID"}
# ssl_var_lookup_ssl_cert_dn's table: the _DN_x suffix -> OID.
_DN_SUFFIX = {"C": "2.5.4.6", "ST": "2.5.4.8", "SP": "2.5.4.8", "L": "2.5.4.7",
              "O": "2.5.4.10", "OU": "2.5.4.11", "CN": "2.5.4.3", "T": "2.5.4.12",
              "I": "2.5.4.43", "G": "2.5.4.42", "S": "2.5.4.4", "D": "2.5.4.46",
              "UID": "0.9.2342.19200300.100.1.1", "Email": "1.2.840.113549.1.9.1"}
# OBJ_nid2ln of the signature and public-key algorithms (SSL_*_A_SIG, SSL_*_A_KEY).
_LONG = {"1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
         "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
         "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
         "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
         "1.2.840.113549.1.1.10": "rsassaPss", "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
         "1.2.840.10045.4.3.3": "ecdsa-with-SHA384", "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
         "1.3.101.112": "ED25519", "1.3.101.113": "ED448",
         "1.2.840.113549.1.1.1": "rsaEncryption", "1.2.840.10045.2.1": "id-ecPublicKey"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC2253_SPECIAL = ',+"\\<>;'


def fields(der: bytes) -> dict[str, Any]:
    """The decoded certificate (rust/x509.rs)."""
    return dict(_core.x509_fields(der))


def _escape_rfc2253(value: str) -> str:
    """X509_NAME_print_ex with XN_FLAG_RFC2253: `,+"\\<>;` escaped, a leading `#` or space
    and a trailing space escaped, bytes above 0x7f as \\XX (ASN1_STRFLGS_ESC_MSB)."""
    out = []
    for i, char in enumerate(value):
        if char in _RFC2253_SPECIAL or (i == 0 and char in "# ") or (
                i == len(value) - 1 and char == " "):
            out.append("\\" + char)
        elif ord(char) > 0x7F:
            out.append("".join(f"\\{b:02X}" for b in char.encode()))
        else:
            out.append(char)
    return "".join(out)


def dn_string(name: list[list[tuple[str, str]]], legacy: bool = False) -> str:
    """SSL_*_S_DN / _I_DN: RFC 2253 (the last RDN first, `,` between, `+` inside a
    multi-valued RDN), or with SSLOptions +LegacyDNStringFormat X509_NAME_oneline's
    `/C=../CN=..` in certificate order."""
    def pair(oid: str, value: str) -> str:
        return f"{_SHORT.get(oid, oid)}={value if legacy else _escape_rfc2253(value)}"
    if legacy:
        return "".join("/" + "+".join(pair(oid, v) for oid, v in rdn) for rdn in name)
    return ",".join("+".join(pair(oid, v) for oid, v in rdn) for rdn in reversed(name))


def dn_component(name: list[list[tuple[str, str]]], suffix: str) -> Optional[str]:
    """SSL_*_DN_x and _DN_x_n (ssl_var_lookup_ssl_cert_dn): the n-th (from 0) attribute of
    that kind in certificate order; None when there is none."""
    base, _, index = suffix.partition("_")
    oid = _DN_SUFFIX.get(base)
    if oid is None or (index and not index.isdigit()):
        return None
    values = [value for rdn in name for kind, value in rdn if kind == oid]
    position = int(index) if index else 0
    return values[position] if position < len(values) else None


def asn1_time(seconds: int) -> str:
    """ASN1_TIME_print: `Jan  1 00:00:00 2027 GMT` (the day padded with a space)."""
    t = time.gmtime(seconds)
    return (f"{_MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d} {t.tm_year} GMT")


def days_remaining(not_after: int, now: Optional[float] = None) -> str:
    """SSL_CLIENT_V_REMAIN: days until the end of validity, a started day counted (a
    certificate valid for 2 days less a few seconds says 2 on Apache 2.4.62 + OpenSSL 3,
    tests/compat/test_tls_client_compat.py), 0 once it has passed."""
    left = not_after - (time.time() if now is None else now)
    return str(max(math.ceil(left / 86400), 0))


def pem(der: bytes) -> str:
    """PEM_write_bio_X509: base64 in 64-column lines between the markers."""
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def variable(der: bytes, suffix: str, legacy: bool = False) -> Optional[str]:
    """One SSL_CLIENT_x / SSL_SERVER_x variable's value for the certificate `der` (`suffix`
    is what follows the prefix: S_DN, M_SERIAL, ...); None for a name mod_ssl lacks."""
    cert = fields(der)
    simple = {"M_VERSION": lambda: str(cert["version"]), "M_SERIAL": lambda: cert["serial"],
              "V_START": lambda: asn1_time(cert["not_before"]),
              "V_END": lambda: asn1_time(cert["not_after"]),
              "V_REMAIN": lambda: days_remaining(cert["not_after"]),
              "A_SIG": lambda: _LONG.get(cert["sig_alg"], "UNKNOWN"),
              "A_KEY": lambda: _LONG.get(cert["key_alg"], "UNKNOWN"),
              "S_DN": lambda: dn_string(cert["subject"], legacy),
              "I_DN": lambda: dn_string(cert["issuer"], legacy), "CERT": lambda: pem(der)}
    if suffix in simple:
        return simple[suffix]()
    for part, key in (("S_DN_", "subject"), ("I_DN_", "issuer")):
        if suffix.startswith(part):
            return dn_component(cert[key], suffix[len(part):])
    if suffix.startswith("SAN_"):
        return _alt_name(cert["san"], suffix[len("SAN_"):])
    return None


def _alt_name(names: list[tuple[str, str]], suffix: str) -> Optional[str]:
    """ssl_var_lookup_ssl_cert_san: `Email_n` or `DNS_n` (n: 1 to 4 digits, from 0)."""
    kind, _, index = suffix.rpartition("_")
    if kind not in ("Email", "DNS") or not index.isdigit() or len(index) > 4:
        return None
    values = [value for name_kind, value in names if name_kind == kind]
    return values[int(index)] if int(index) < len(values) else None


def alt_names(der: bytes, prefix: str) -> dict[str, str]:
    """modssl_var_extract_san_entries: `{prefix}_SAN_Email_n` and `_SAN_DNS_n` for
    SSLOptions +StdEnvVars."""
    found: dict[str, str] = {}
    for kind in ("Email", "DNS"):
        values = [value for name_kind, value in fields(der)["san"] if name_kind == kind]
        found.update((f"{prefix}_SAN_{kind}_{n}", value) for n, value in enumerate(values))
    return found


def dn_components(der: bytes, prefix: str) -> dict[str, str]:
    """modssl_var_extract_dns: each DN component as `{prefix}_S_DN_x` (and _x_n for a
    repeated one), for SSLOptions +StdEnvVars."""
    cert = fields(der)
    found: dict[str, str] = {}
    for part, key in (("S_DN", "subject"), ("I_DN", "issuer")):
        counts: dict[str, int] = {}
        for rdn in cert[key]:
            for oid, value in rdn:
                suffix = next((s for s, o in _DN_SUFFIX.items() if o == oid and s != "SP"),
                              None)
                if suffix is None:
                    continue
                n = counts.get(suffix, 0)
                counts[suffix] = n + 1
                found[f"{prefix}_{part}_{suffix}" + (f"_{n}" if n else "")] = value
    return found
