"""Certificates made at test time with the `openssl` command: a CA, one server
certificate per host name (EC P-256, subjectAltName = the name) and client certificates,
for the TLS tests.

Owns writing them under a directory. Must not fetch or reuse any certificate from
elsewhere.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(base: Path, name: str = "prefork-modpy test CA") -> Pair:
    """A self-signed CA (CN=name)."""
    base.mkdir(parents=True, exist_ok=True)
    pair = Pair(base / "ca.pem", base / "ca.key")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(pair.key), "-out", str(pair.cert), "-days", "2",
             "-subj", f"/O=prefork-modpy tests/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return pair


def make_server(base: Path, ca: Pair, name: str) -> Pair:
    """A server certificate for `name` signed by `ca` (subject O=Tests, CN=name)."""
    pair = Pair(base / f"{name}.pem", base / f"{name}.key")
    csr = base / f"{name}.csr"
    ext = base / f"{name}.ext"
    ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n"
                   "extendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(pair.key), "-out", str(csr), "-subj", f"/C=US/O=Tests/CN={name}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-CAcreateserial", "-out", str(pair.cert), "-days", "2", "-extfile", str(ext))
    return pair


CLIENT_SUBJECT = "/C=DE/ST=Berlin/O=Tests, Inc./OU=Clients/CN=alice/emailAddress=alice@a.test"


def make_client(base: Path, ca: Pair, name: str = "client",
                subject: str = CLIENT_SUBJECT) -> Pair:
    """A client certificate (extendedKeyUsage clientAuth, RSA 2048, two e-mail and one DNS
    subjectAltName) signed by `ca`."""
    pair = Pair(base / f"{name}.pem", base / f"{name}.key")
    csr = base / f"{name}.csr"
    ext = base / f"{name}.ext"
    ext.write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
                   "subjectAltName=email:alice@a.test,DNS:alice.a.test,email:al@a.test\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(pair.key), "-out",
             str(csr), "-subj", subject)
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-CAcreateserial", "-out", str(pair.cert), "-days", "2", "-extfile", str(ext))
    return pair


def make_intermediate(base: Path, ca: Pair, name: str = "intermediate CA") -> Pair:
    """A CA certificate signed by `ca` (a chain of root, intermediate, leaf)."""
    base.mkdir(parents=True, exist_ok=True)
    pair = Pair(base / "ca.pem", base / "ca.key")
    csr = base / "ca.csr"
    ext = base / "ca.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(pair.key), "-out", str(csr),
             "-subj", f"/O=prefork-modpy tests/CN={name}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-CAcreateserial", "-out", str(pair.cert), "-days", "2", "-extfile", str(ext))
    return pair


def make_crl(base: Path, ca: Pair, revoked: list[Pair]) -> Path:
    """A CRL of `ca` (PEM) listing the certificates `revoked`, through `openssl ca`."""
    work = base / "crl"
    work.mkdir(parents=True, exist_ok=True)
    (work / "index.txt").write_text("")
    (work / "crlnumber").write_text("01\n")
    config = work / "ca.cnf"
    config.write_text(f"[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\n"
                      f"database = {work}/index.txt\ncrlnumber = {work}/crlnumber\n"
                      "default_md = sha256\ndefault_crl_days = 2\n")
    signer = ("-config", str(config), "-keyfile", str(ca.key), "-cert", str(ca.cert))
    for pair in revoked:
        _openssl("ca", *signer, "-revoke", str(pair.cert))
    crl = work / "crl.pem"
    _openssl("ca", *signer, "-gencrl", "-out", str(crl))
    return crl
