"""mod_rewrite's and AllowOverride's configuration: what is parsed, merged and refused."""

from __future__ import annotations

import pytest

from prefork_modpy.config import overrides
from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError


def load(tmp_path, text: str):
    path = tmp_path / "site.conf"
    path.write_text(text)
    return load_config(str(path))


def test_rules_conditions_and_flags(tmp_path):
    config = load(tmp_path, "RewriteEngine On\n"
                            "RewriteCond %{HTTP_HOST} !^www\\. [NC,OR]\n"
                            "RewriteCond %{HTTP:X-N} -gt10\n"
                            "RewriteRule ^/(.*)$ http://www.x.test/$1 [R=301,L,NE,QSA]\n")
    rule = config.main.rewrite.rules[0]
    assert config.main.rewrite_on
    assert (rule.redirect, rule.last, rule.noescape, rule.qsappend) == (301, True, True, True)
    first, second = rule.conditions
    assert first.negate and first.nocase and first.ornext and first.kind == "regex"
    assert (second.kind, second.operand) == ("-gt", "10")


@pytest.mark.parametrize("line, message", [
    ("RewriteRule ^/x http://b/ [P]", r"\[P\]: proxying"),
    ("RewriteRule ^/x /y [CO=a:b:c]", r"\[CO\]"),
    ("RewriteRule ^/x /y [BOGUS]", "unknown flag 'bogus'"),
    ("RewriteRule ^/x /y [R=999]", "invalid HTTP response code"),
    ("RewriteMap m prg:/bin/cat", "map type not implemented"),
    ("RewriteMap m dbm:/tmp/x.map", "map type not implemented"),
    ("RewriteMap m int:rot13", "internal map function 'rot13' not found"),
    ("RewriteMap m txt:/no/such/file", "file for map m not found"),
    ("RewriteOptions MergeBase", "RewriteOptions MergeBase: not implemented"),
    ("RewriteLog /tmp/rewrite.log", "removed in httpd 2.4"),
    ("RewriteCond %{LA-U:REMOTE_USER} ^x\nRewriteRule ^ - [F]", "LA-F"),
    ("RewriteCond %{REQUEST_URI} expr", "not implemented"),
    ("RewriteRule ^(x /y", "cannot compile regular expression"),
    ("RewriteCond %{REQUEST_URI} ^/x", "RewriteCond without a RewriteRule"),
    ("RewriteBase /x", "only valid in per-directory"),
])
def test_refused_with_reason(tmp_path, line, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, f"RewriteEngine On\n{line}\n")


def test_rules_in_location_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unsupported"):
        load(tmp_path, "<Location /x>\nRewriteEngine On\n</Location>\n")


def test_vhost_inherits_only_with_inherit(tmp_path):
    (tmp_path / "m.txt").write_text("a b\n")
    config = load(tmp_path, f"RewriteEngine On\nRewriteMap m txt:{tmp_path}/m.txt\n"
                            "RewriteRule ^/main - [F]\n"
                            "<VirtualHost *>\nServerName v.test\n</VirtualHost>\n"
                            "<VirtualHost *>\nServerName w.test\nRewriteEngine On\n"
                            "RewriteOptions Inherit\nRewriteRule ^/own - [G]\n</VirtualHost>\n")
    plain, inheriting = config.vhosts
    assert not plain.rewrite_on and plain.rewrite is None
    assert [rule.pattern for rule in inheriting.rewrite.rules] == ["^/own", "^/main"]
    assert "m" in inheriting.rewrite.maps


def test_perdir_rules_replace_inherited_ones(tmp_path):
    config = load(tmp_path, "<Directory /srv>\nRewriteEngine On\nRewriteRule ^a - [F]\n"
                            "</Directory>\n<Directory /srv/sub>\nRewriteRule ^b - [G]\n"
                            "</Directory>\n<Directory /srv/other>\nPythonOption x y\n"
                            "</Directory>\n")
    host = config.main
    sub = host.effective_settings("/srv/sub/f", "/sub/f").rewrite
    other = host.effective_settings("/srv/other/f", "/other/f").rewrite
    assert [rule.pattern for rule in sub.rules] == ["^b"] and sub.engine
    assert sub.directory == "/srv/sub/"
    assert [rule.pattern for rule in other.rules] == ["^a"] and other.directory == "/srv/"


def test_allow_override_classes(tmp_path):
    config = load(tmp_path, "<Directory /srv>\nAllowOverride FileInfo Options=Indexes\n"
                            "AllowOverrideList Require\n</Directory>\n")
    allowed = config.main.effective_settings("/srv/x", "/x").htaccess_overrides
    assert allowed.classes == {"FileInfo", "Options"} and allowed.options == {"indexes"}
    assert allowed.allows("rewriterule") and allowed.allows("pythonhandler")
    assert allowed.allows("require") and not allowed.allows("authtype")
    assert not allowed.allows("pythonoutputfilter") and not allowed.allows("rewritemap")
    assert config.main.reads_htaccess


def test_allow_override_none_reads_nothing(tmp_path):
    config = load(tmp_path, "<Directory /srv>\nAllowOverride None\n</Directory>\n")
    assert not config.main.reads_htaccess


@pytest.mark.parametrize("text, message", [
    ("AllowOverride All\n", "only available in <Directory>"),
    ("<Location /x>\nAllowOverride All\n</Location>\n", "only available in <Directory>"),
    ("<DirectoryMatch ^/srv>\nAllowOverride All\n</DirectoryMatch>\n", "without regular"),
    ("<Directory /srv>\nAllowOverride Options=Bogus\n</Directory>\n", "Illegal option bogus"),
])
def test_allow_override_refusals(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_mod_python_directives_are_or_all():
    """mod_python.c's command table: per-directory directives are OR_ALL."""
    assert overrides.OVERRIDE_CLASSES["pythonhandler"] == overrides.OR_ALL
    assert "pythontranshandler" not in overrides.OVERRIDE_CLASSES
    assert "pythonimport" not in overrides.OVERRIDE_CLASSES
