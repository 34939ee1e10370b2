"""mod_ssl's per-directory settings (config/directives.py): SSLOptions' +/- syntax and
ssl_config_perdir_merge, SSLVerifyClient/SSLVerifyDepth in sections, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError


def _load(tmp_path: Path, text: str):
    path = tmp_path / "site.conf"
    path.write_text(text)
    (tmp_path / "docs").mkdir(exist_ok=True)
    return load_config(str(path))


def _options(tmp_path: Path, text: str, uri: str) -> frozenset[str]:
    config = _load(tmp_path, text)
    return config.main.effective_settings(None, uri).ssl_options


def test_relative_options_adjust_the_inherited_set(tmp_path: Path) -> None:
    text = """SSLOptions +StdEnvVars +ExportCertData
<Location /a>
    SSLOptions -ExportCertData +LegacyDNStringFormat
</Location>
<Location /a/b>
    SSLOptions +ExportCertData
</Location>
"""
    assert _options(tmp_path, text, "/x") == {"stdenvvars", "exportcertdata"}
    assert _options(tmp_path, text, "/a/x") == {"stdenvvars", "legacydnstringformat"}
    assert _options(tmp_path, text, "/a/b/x") == {"stdenvvars", "legacydnstringformat",
                                                   "exportcertdata"}


def test_an_option_without_sign_replaces_the_inherited_set(tmp_path: Path) -> None:
    text = """SSLOptions +StdEnvVars +ExportCertData
<Location /a>
    SSLOptions FakeBasicAuth +StrictRequire
</Location>
<Location /a/b>
    SSLOptions -StrictRequire
</Location>
"""
    assert _options(tmp_path, text, "/a/x") == {"fakebasicauth", "strictrequire"}
    assert _options(tmp_path, text, "/a/b/x") == {"fakebasicauth"}


def test_a_second_word_without_sign_replaces_the_first_as_mod_ssl(tmp_path: Path) -> None:
    """ssl_cmd_SSLOptions sets nOptions = opt for each unsigned word: only the last one
    stays (compared with Apache in tests/compat/test_tls_client_compat.py, /env-two)."""
    config = _load(tmp_path, "SSLOptions StdEnvVars ExportCertData\n")
    assert config.main.effective_settings(None, "/").ssl_options == {"exportcertdata"}
    assert any("replaces the options before it" in line for line in config.warnings)


def test_options_are_case_insensitive_and_unknown_ones_name_their_line(tmp_path: Path) -> None:
    assert _options(tmp_path, "SSLOptions +stdenvvars\n", "/") == {"stdenvvars"}
    with pytest.raises(ConfigError, match=r"site.conf:2: SSLOptions: Illegal option 'Nope'"):
        _load(tmp_path, "ServerName a\nSSLOptions +StdEnvVars +Nope\n")


def test_opt_renegotiate_and_strict_require_are_said_once_loaded(tmp_path: Path) -> None:
    config = _load(tmp_path, "SSLOptions +OptRenegotiate +StrictRequire\n")
    said = " ".join(config.warnings)
    assert "OptRenegotiate has no effect" in said and "StrictRequire does not forbid" in said


def test_verify_client_and_depth_in_sections(tmp_path: Path) -> None:
    config = _load(tmp_path, "<Location /a>\n    SSLVerifyClient require\n"
                             "    SSLVerifyDepth 3\n</Location>\n")
    inner = config.main.effective_settings(None, "/a/x")
    assert (inner.ssl_verify, inner.ssl_verify_depth) == ("require", 3)
    outer = config.main.effective_settings(None, "/x")
    assert (outer.ssl_verify, outer.ssl_verify_depth) == (None, None)
    with pytest.raises(ConfigError, match=r"site.conf:2: SSLVerifyClient: Invalid argument"):
        _load(tmp_path, "<Location /a>\n    SSLVerifyClient always\n</Location>\n")
    with pytest.raises(ConfigError, match=r"site.conf:1: SSLVerifyDepth: Invalid argument"):
        _load(tmp_path, "SSLVerifyDepth deep\n")
