"""SSLCipherSuite's OpenSSL cipher strings over the suites rustls offers (config/ssl.py),
checked against the `openssl ciphers` command on the same strings: the same suites, in the
same order."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from prefork_modpy.config import ssl as mod_ssl
from prefork_modpy.config.syntax import ConfigError, Node

STRINGS = ["HIGH:!aNULL", "HIGH:!aNULL:!MD5", "ALL", "DEFAULT", "ECDHE+AESGCM", "AESGCM:CHACHA20",
           "CHACHA20:AESGCM", "aRSA", "ECDSA:-AES256", "HIGH:!AES128", "FIPS", "AES128:+aRSA",
           "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
           "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-"
           "SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-"
           "POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
           "EECDH+AESGCM:EDH+AESGCM", "HIGH:@STRENGTH", "AES128:AES256:@STRENGTH",
           "HIGH:!ECDSA:MEDIUM"]


def node(text: str) -> Node:
    return Node("SSLCipherSuite", [text], "site.conf", 3)


def openssl_order(text: str) -> tuple[str, ...]:
    out = subprocess.run(["openssl", "ciphers", "-s", "-tls1_2", text], capture_output=True,
                         text=True, timeout=10).stdout.strip()
    return tuple(name for name in out.split(":") if name in mod_ssl.RUSTLS_NAMES)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("text", STRINGS)
def test_cipher_strings_select_what_openssl_selects(text: str) -> None:
    assert mod_ssl.parse_tls12_ciphers(node(text), text, []) == openssl_order(text)


def test_names_rustls_lacks_are_skipped_with_a_warning_and_typos_refused() -> None:
    warnings: list[str] = []
    chosen = mod_ssl.parse_tls12_ciphers(node("x"), "DHE-RSA-AES128-GCM-SHA256:AESGCM",
                                         warnings)
    assert len(chosen) == 4 and "DHE-RSA-AES128-GCM-SHA256" in warnings[0]
    with pytest.raises(ConfigError, match="site.conf:3: SSLCipherSuite: unknown cipher or "
                                          "keyword 'HIHG'"):
        mod_ssl.parse_tls12_ciphers(node("x"), "HIHG:!aNULL", [])
    with pytest.raises(ConfigError, match="leaves no TLS 1.2 suite"):
        mod_ssl.parse_tls12_ciphers(node("x"), "aNULL", [])
    with pytest.raises(ConfigError, match="unknown suite 'TLS_AES_128_CCM_SHA256'"):
        mod_ssl.parse_tls13_ciphers(node("x"), "TLS_AES_128_CCM_SHA256")
