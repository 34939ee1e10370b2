"""Config side of issue 10's httpd modules (config/httpdmods.py): what is refused with
file:line and httpd's reason, what the merge keeps, and that a config without them leaves
the per-directory settings free of them (the hot path's one attribute check)."""

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError


def write(tmp_path, text):
    path = tmp_path / "site.conf"
    path.write_text(text)
    return path


def in_dir(tmp_path, body):
    return write(tmp_path, f"<Directory {tmp_path}>\n{body}</Directory>\n")


@pytest.mark.parametrize("body, message", [
    ("Require not user bob\n", "negative Require directive has no effect in <RequireAny>"),
    ("<RequireAny>\nRequire not ip 10.0.0.1\n</RequireAny>\n", "negative Require"),
    ("<RequireAll>\nRequire not ip 10.0.0.1\n</RequireAll>\n",
     "contains only negative authorization directives"),
    ("<RequireAll>\n</RequireAll>\n", "contains no authorization directives"),
    ("<RequireNone>\nRequire ip 10.0.0.1\n</RequireNone>\n", "<RequireNone> directive has no "
                                                            "effect in <RequireAny>"),
    ("Require frobs\n", "Unknown Authz provider: frobs"),
    ("Require ip 300.1.1.1/99\n", "appears to be invalid"),
    ("Order allow, deny\n", "unknown order"),
    ("Allow 10.0.0.1\n", "must be followed by 'from'"),
    ("Satisfy some\n", "Satisfy either 'any' or 'all'"),
    ("<Limit GET>\n<Limit POST>\nRequire all denied\n</Limit>\n</Limit>\n", "cannot be nested"),
    ("AuthBasicProvider ldap\n", "'file' provider"),
    ("ErrorDocument 401 http://example.test/login\n", "full URL in a 401"),
    ("ErrorDocument 999 x\n", "Unsupported HTTP response code 999"),
    ("SetEnvIf User-Agent \"(\" X\n", "PCRE cannot compile"),
    ("SetEnvIfExpr \"true\" X\n", "ap_expr"),
    ("Redirect /a\n", "URL to redirect to is missing"),
    ("Redirect gone /a http://x.test/\n", "takes [status] URL-path"),
    ("LimitRequestBody -1\n", "non-negative integer"),
    ("DirectorySlash maybe\n", "On or Off"),
    ("ScriptAlias /cgi-bin/ /usr/lib/cgi-bin/\n", "CGI"),
])
def test_refused_with_file_and_line(tmp_path, body, message):
    path = in_dir(tmp_path, body)
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: .*{_escape(message)}"):
        load_config(str(path))


def _escape(text):
    import re

    return re.escape(text)


def test_no_module_used_leaves_settings_clear(tmp_path):
    config = load_config(str(write(tmp_path, "LimitRequestBody 100\n")))
    assert config.main.settings.httpd is None  # the engine enforces the server's limit
    assert config.limits.body == 100


def test_section_body_limit_raises_the_engine_limit(tmp_path):
    path = write(tmp_path, f"LimitRequestBody 100\n<Location /up>\nLimitRequestBody 0\n"
                           f"</Location>\n<Directory {tmp_path}>\nLimitRequestBody 5000\n"
                           "</Directory>\n")
    config = load_config(str(path))
    assert config.limits.body == 0
    settings = config.main.effective_settings(f"{tmp_path}/f", "/f")
    assert settings.httpd is not None and settings.httpd.limit_request_body == 5000


def test_access_compat_section_replaces_parent(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}>\nOrder deny,allow\nDeny from all\n"
                           f"</Directory>\n<Directory {tmp_path}/sub>\nSatisfy any\n"
                           "</Directory>\n")
    config = load_config(str(path))
    settings = config.main.effective_settings(f"{tmp_path}/sub/f", "/sub/f")
    access = settings.httpd.access
    assert access.denies == [] and access.satisfy_for("GET") == "any"


def test_limit_applies_to_listed_methods(tmp_path):
    path = in_dir(tmp_path, "<LimitExcept GET>\nRequire valid-user\n</LimitExcept>\n"
                            "SetEnv X 1\n")
    settings = load_config(str(path)).main.sections[0].settings
    rule = settings.httpd.authz.children[0]
    assert "POST" in rule.limited and "HEAD" not in rule.limited
    assert settings.httpd.env_set == {"X": "1"}


def test_pass_env_copies_the_start_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("W10A_PASSED", "from the service")
    monkeypatch.delenv("W10A_MISSING", raising=False)
    settings = load_config(str(in_dir(tmp_path, "PassEnv W10A_PASSED W10A_MISSING\n"))) \
        .main.sections[0].settings
    assert settings.httpd.env_set == {"W10A_PASSED": "from the service"}


def test_auth_files_are_server_root_relative(tmp_path):
    path = write(tmp_path, f"ServerRoot {tmp_path}/root\n<Directory {tmp_path}>\n"
                           "AuthUserFile conf/users\nAuthGroupFile /etc/groups\n</Directory>\n")
    mods = load_config(str(path)).main.sections[0].settings.httpd
    assert mods.auth_user_file == f"{tmp_path}/root/conf/users"
    assert mods.auth_group_file == "/etc/groups"


@pytest.mark.parametrize("line, message", [
    ("AuthMerging And", "AuthMerging: not implemented"),
    ("Require expr %{REMOTE_ADDR} == '127.0.0.1'", "ap_expr"),
    ("DirectoryIndexRedirect on", "DirectoryIndexRedirect: not implemented"),
])
def test_neighbours_are_refused_by_name(tmp_path, line, message):
    path = in_dir(tmp_path, line + "\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: .*{_escape(message)}"):
        load_config(str(path))
