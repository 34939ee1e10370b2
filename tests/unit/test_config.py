"""Config reading (syntax, Include, errors with file:line) and section merging."""

import re

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError, split_args


def write(tmp_path, text, name="site.conf"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_split_args_quotes_and_escapes():
    assert split_args('a "b c" \'d e\' "f\\"g"', ("x", 1)) == ["a", "b c", "d e", 'f"g']


def test_unterminated_quote_names_line(tmp_path):
    path = write(tmp_path, "Listen 8080\nPythonOption a \"b\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: unterminated"):
        load_config(str(path))


def test_unknown_directive_names_file_and_line(tmp_path):
    path = write(tmp_path, "# c\nListen 8080\n\nFrobnicate yes\n")
    with pytest.raises(ConfigError, match=rf"^{path}:4: Invalid command 'Frobnicate'"):
        load_config(str(path))


def test_bad_flag_value(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}>\nPythonDebug Maybe\n</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: PythonDebug must be On or Off"):
        load_config(str(path))


def test_unclosed_section(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}>\nPythonDebug On\n")
    with pytest.raises(ConfigError, match="was not closed"):
        load_config(str(path))


def test_connection_handler_is_server_config_only(tmp_path):
    path = write(tmp_path, "<VirtualHost *:80>\nServerName a\n"
                           "PythonConnectionHandler m::serve\n</VirtualHost>\n")
    entry = load_config(str(path)).vhosts[0].connection_handler
    assert entry is not None and (entry.module, entry.obj) == ("m", "serve")
    path = write(tmp_path, f"<Directory {tmp_path}>\nPythonConnectionHandler m\n</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: PythonConnectionHandler is not allowed"):
        load_config(str(path))


def test_continuation_lines_and_multiple_handlers(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}/a>\n  PythonHandler one \\\n"
                           "     two::f pkg.mod::g\n</Directory>\n")
    config = load_config(str(path))
    entries = config.main.sections[0].settings.handlers["PythonHandler"]
    assert [(e.module, e.obj) for e in entries] == [("one", "handler"), ("two", "f"),
                                                   ("pkg.mod", "g")]
    assert entries[0].directory == f"{tmp_path}/a/"


def test_include_is_relative_to_including_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    write(tmp_path, "PythonOption included yes\nBadLine\n", "conf.d/extra.conf")
    path = write(tmp_path, "Listen 8080\nInclude conf.d/extra.conf\n")
    with pytest.raises(ConfigError, match=r"conf.d/extra.conf:2: Invalid command 'BadLine'"):
        load_config(str(path))


def test_include_glob_and_missing(tmp_path):
    path = write(tmp_path, "Include nothing-here.conf\n")
    message = rf"^{path}:1: Include: .*nothing-here.conf does not exist"
    with pytest.raises(ConfigError, match=message):
        load_config(str(path))
    path = write(tmp_path, "IncludeOptional none/*.conf\nListen 9\n")
    assert load_config(str(path)).listen == [("0.0.0.0", 9)]


def test_pipe_extension_rejected_for_trans(tmp_path):
    path = write(tmp_path, "PythonTransHandler t | .py\n")
    with pytest.raises(ConfigError, match='does not accept "| .ext" syntax'):
        load_config(str(path))


def test_deeper_directory_wins_and_location_last(tmp_path):
    path = write(tmp_path, f"""
PythonOption level server
<Location /app>
    PythonOption level location
</Location>
<Directory {tmp_path}/a/b>
    PythonOption level deep
    PythonDebug Off
</Directory>
<Directory {tmp_path}/a>
    PythonOption level shallow
    PythonOption only-a yes
    PythonDebug On
    PythonHandler h
</Directory>
""")
    host = load_config(str(path)).main
    deep = host.effective_settings(f"{tmp_path}/a/b/x.py", "/a/b/x.py")
    assert deep.options == {"level": "deep", "only-a": "yes"}
    assert deep.python_config["PythonDebug"] == "0"
    assert deep.handlers["PythonHandler"][0].directory == f"{tmp_path}/a/"
    assert host.effective_settings(f"{tmp_path}/a/x.py", "/a/x.py").options["level"] == "shallow"
    assert host.effective_settings(f"{tmp_path}/a/b/x", "/app/x").options["level"] == "location"
    assert host.effective_settings(f"{tmp_path}/other", "/other").options["level"] == "server"


def test_child_handler_list_replaces_parent(tmp_path):
    path = write(tmp_path, f"""
<Directory {tmp_path}/app>
    PythonHandler h::top
    PythonFixupHandler h::fix
</Directory>
<Directory {tmp_path}/app/sub>
    PythonHandler h::sub
</Directory>
""")
    settings = load_config(str(path)).main.effective_settings(f"{tmp_path}/app/sub/x", "/x")
    assert [e.obj for e in settings.handlers["PythonHandler"]] == ["sub"]
    assert [e.obj for e in settings.handlers["PythonFixupHandler"]] == ["fix"]


def test_files_section_inside_directory(tmp_path):
    path = write(tmp_path, f"""
<Directory {tmp_path}/d>
    <Files *.special>
        PythonOption kind special
    </Files>
</Directory>
""")
    host = load_config(str(path)).main
    assert host.effective_settings(f"{tmp_path}/d/a.special", "/d/a.special").options == {
        "kind": "special"}
    assert host.effective_settings(f"{tmp_path}/d/a.txt", "/d/a.txt").options == {}
    assert host.effective_settings(f"{tmp_path}/e/a.special", "/e/a.special").options == {}


def test_location_prefix_matches_whole_segments(tmp_path):
    path = write(tmp_path, "<Location /app>\nPythonOption in yes\n</Location>\n")
    host = load_config(str(path)).main
    assert host.effective_settings(None, "/app/x").options == {"in": "yes"}
    assert host.effective_settings(None, "/app").options == {"in": "yes"}
    assert host.effective_settings(None, "/application").options == {}


def test_relative_paths_use_config_directory(tmp_path):
    (tmp_path / "www").mkdir()
    path = write(tmp_path, "DocumentRoot www\n<Directory www/x>\nPythonDebug On\n</Directory>\n")
    config = load_config(str(path))
    assert config.main.document_root == f"{tmp_path}/www"
    assert config.main.sections[0].pattern == f"{tmp_path}/www/x/"


def test_virtual_host_selected_by_host(tmp_path):
    path = write(tmp_path, """
ServerName main.test
PythonOption site main
<VirtualHost *:80>
    ServerName one.test
    ServerAlias *.one.test
    PythonOption site one
</VirtualHost>
""")
    config = load_config(str(path))
    assert config.select_vhost("one.test").settings.options == {"site": "one"}
    assert config.select_vhost("www.one.test").server_name == "one.test"
    # httpd: an unknown Host on a vhost's address goes to that address's first vhost.
    assert config.select_vhost("other.test") is config.vhosts[0]
    assert config.select_vhost("other.test", ("127.0.0.1", 80)) is config.vhosts[0]
    # A connection on a port no <VirtualHost> names is the main server's.
    assert config.select_vhost("one.test", ("127.0.0.1", 8080)) is config.main


def test_virtual_host_matched_by_address_then_name(tmp_path):
    """ap_update_vhost_given_ip: exact IP first, then `*:port`, then `_default_`; names
    only among the hosts of the address; the first of them for an unknown Host."""
    path = write(tmp_path, """
<VirtualHost 127.0.0.2:80>
    ServerName internal.test
</VirtualHost>
<VirtualHost *:80>
    ServerName public.test
</VirtualHost>
<VirtualHost *:80 [::1]:81>
    ServerName other.test
</VirtualHost>
<VirtualHost _default_:82>
    ServerName fallback.test
</VirtualHost>
<VirtualHost localhost:83>
    ServerName named.test
</VirtualHost>
""")
    config = load_config(str(path))
    names = lambda host, local: config.select_vhost(host, local).server_name  # noqa: E731
    assert names("internal.test", ("127.0.0.2", 80)) == "internal.test"
    assert names("public.test", ("127.0.0.2", 80)) == "internal.test"  # only the exact IP's
    assert names("internal.test", ("127.0.0.1", 80)) == "public.test"  # not on this address
    assert names("other.test", ("127.0.0.1", 80)) == "other.test"
    assert names("other.test", ("::1", 81)) == "other.test"
    assert names("other.test", ("::ffff:127.0.0.1", 80)) == "other.test"
    assert names("x", ("127.0.0.1", 82)) == "fallback.test"
    assert names("named.test", ("127.0.0.1", 83)) == "named.test"
    assert config.select_vhost("public.test", ("127.0.0.1", 84)) is config.main


def test_filter_names_are_checked_after_the_whole_file(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}>\nSetOutputFilter UPPER\n</Directory>\n"
                           "PythonOutputFilter mod UPPER\n")
    load_config(str(path))
    path = write(tmp_path, f"<Directory {tmp_path}>\nAddOutputFilter NOSUCH .html\n"
                           "</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: AddOutputFilter: no PythonOutputFilter"):
        load_config(str(path))


def test_alias_and_handler_module(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    path = write(tmp_path, f"Alias /pics/ {tmp_path}/elsewhere/\nAlias /x {tmp_path}/x\n"
                           f"<Directory {tmp_path}>\nPythonHandlerModule mod\n</Directory>\n")
    config = load_config(str(path))
    assert config.main.map_alias("/pics/a.png") == (f"{tmp_path}/elsewhere", "/a.png")
    assert config.main.map_alias("/pics") is None
    assert config.main.map_alias("/x") == (f"{tmp_path}/x", "")
    assert config.main.map_alias("/xy") is None
    handlers = config.main.sections[0].settings.handlers
    assert len(handlers) == 12 and all(entries[0].silent for entries in handlers.values())


@pytest.mark.parametrize("line", ["Require forward-dns a.test", "Require valid-user x",
                                  "Require user"])
def test_unsupported_require_is_refused(tmp_path, line):
    path = write(tmp_path, f"<Directory {tmp_path}>\n{line}\n</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: Require"):
        load_config(str(path))


# -- httpd's reading rules, modules and regexes (issue 9) ---------------------------------

def test_variables_come_from_define_then_environment(tmp_path):
    path = write(tmp_path, "Define PORT 8123\nListen ${PORT}\nPythonOption dir ${HOME_X}\n")
    config = load_config(str(path), environ={"HOME_X": "/srv"})
    assert config.listen == [("0.0.0.0", 8123)]
    assert config.main.settings.options["dir"] == "/srv"
    with pytest.raises(ConfigError, match=r"site.conf:3: \$\{HOME_X\} is not defined"):
        load_config(str(path), environ={})


def test_undefine_and_ifdefine_are_decided_in_order(tmp_path):
    path = write(tmp_path, "Define A\n<IfDefine A>\nListen 1\n</IfDefine>\nUnDefine A\n"
                           "<IfDefine A>\nListen 2\n</IfDefine>\n<IfDefine !A>\nListen 3\n"
                           "</IfDefine>\n")
    assert [port for _, port in load_config(str(path)).listen] == [1, 3]


def test_skipped_conditional_is_not_read(tmp_path):
    # httpd skips a false section unread: no ${VAR} expansion, no Define, no Include.
    path = write(tmp_path, "<IfModule mod_nothing.c>\nDefine X\nInclude ${NOPE}/x.conf\n"
                           "</IfModule>\n<IfDefine X>\nListen 5\n</IfDefine>\nListen 6\n")
    assert load_config(str(path), environ={}).listen == [("0.0.0.0", 6)]


def test_comment_line_ending_in_backslash_continues(tmp_path):
    path = write(tmp_path, "# a comment \\\nBadLine\nListen 7\n")
    assert load_config(str(path)).listen == [("0.0.0.0", 7)]


def test_include_directory_and_wildcard_rules(tmp_path):
    (tmp_path / "conf.d").mkdir()
    write(tmp_path, "Listen 1\n", "conf.d/b.conf")
    write(tmp_path, "Listen 2\n", "conf.d/a.conf")
    path = write(tmp_path, "Include conf.d\n")
    assert [port for _, port in load_config(str(path)).listen] == [2, 1]
    path = write(tmp_path, "Include none/*.conf\n")
    with pytest.raises(ConfigError, match="no file matches the wildcard"):
        load_config(str(path))


def test_loaded_missing_module_body_with_behaviour_is_refused(tmp_path):
    path = write(tmp_path, "LoadModule proxy_module modules/mod_proxy.so\n"
                           "<IfModule mod_proxy.c>\nProxyPass / http://127.0.0.1:9/\n"
                           "ProxyRequests Off\n</IfModule>\n")
    with pytest.raises(ConfigError, match=r"site.conf:3: ProxyPass in <IfModule "
                                          r"mod_proxy.c> \(line 2\): mod_proxy is loaded"):
        load_config(str(path))


def test_unloaded_module_body_with_access_rules_warns(tmp_path):
    # (mod_ssl is implemented now: an LDAP-only access rule stands for a missing module)
    path = write(tmp_path, "<IfModule mod_authnz_ldap.c>\nRequire ldap-group cn=staff\n"
                           "</IfModule>\n")
    config = load_config(str(path))
    assert any("Require (line 2) does not apply" in warning for warning in config.warnings)


def test_loaded_missing_module_metadata_is_one_warning(tmp_path):
    path = write(tmp_path, "LoadModule negotiation_module m.so\n<IfModule mod_negotiation.c>\n"
                           "LanguagePriority en fr\nForceLanguagePriority Prefer\n"
                           "</IfModule>\n")
    warnings = load_config(str(path)).warnings
    assert len(warnings) == 1 and "mod_negotiation is loaded" in warnings[0]


def test_implemented_module_counts_as_present(tmp_path):
    path = write(tmp_path, "<IfModule mod_python.c>\nListen 9\n</IfModule>\n"
                           "<IfModule !python_module>\nListen 10\n</IfModule>\n")
    assert load_config(str(path)).listen == [("0.0.0.0", 9)]


def test_location_match_uses_pcre(tmp_path):
    path = write(tmp_path, '<LocationMatch "/projects/[[:alnum:]]+/login">\n'
                           "Require all denied\n</LocationMatch>\n")
    host = load_config(str(path)).main
    assert host.effective_settings(None, "/projects/demo/login").requires == ("all denied",)
    assert host.effective_settings(None, "/projects/a-b/login").requires is None


def test_regex_that_pcre_rejects_is_a_file_line_error(tmp_path):
    path = write(tmp_path, '<LocationMatch "(unclosed">\n</LocationMatch>\n')
    with pytest.raises(ConfigError, match=r"site.conf:1: <LocationMatch>: PCRE cannot compile"):
        load_config(str(path))


def test_refusal_says_why_and_what_instead(tmp_path):
    path = write(tmp_path, "SSLRequire %{SSL_CLIENT_S_DN_O} eq \"x\"\n")  # -- mod_ssl --
    with pytest.raises(ConfigError, match=r"site.conf:1: SSLRequire: SSLRequire's expressions "
                                          r"are not implemented .*; use SSLRequireSSL"):
        load_config(str(path))
    path = write(tmp_path, "ServrName x\n")
    with pytest.raises(ConfigError, match=r"Invalid command 'ServrName'.*did you mean "
                                          r"servername"):
        load_config(str(path))


def test_options_and_allow_override(tmp_path):
    path = write(tmp_path, "<Directory /srv>\nOptions Indexes FollowSymLinks\n"
                           "AllowOverride None\n</Directory>\n")
    config = load_config(str(path))
    assert config.main.sections[0].settings.effective_options == {"indexes", "followsymlinks"}
    assert not config.warnings  # mod_autoindex lists directories: no warning for Indexes
    path = write(tmp_path, "<Directory /srv>\nOptions None\n</Directory>\n")
    assert load_config(str(path)).main.sections[0].settings.effective_options == frozenset()
    for line, message in (("Options +Indexes FollowSymLinks", "either all options"),
                          ("AllowOverride Bogus", "Illegal override option Bogus")):
        path = write(tmp_path, f"<Directory /srv>\n{line}\n</Directory>\n")
        with pytest.raises(ConfigError, match=message):
            load_config(str(path))


def test_remove_type_drops_inherited_add_type(tmp_path):
    path = write(tmp_path, "AddType text/x-a .a\n<Location /sub>\nRemoveType .a\n</Location>\n")
    host = load_config(str(path)).main
    assert host.effective_settings(None, "/x").mime_types == {"a": "text/x-a"}
    assert host.effective_settings(None, "/sub/x").mime_types == {}


def test_vhost_without_server_name_takes_the_main_one(tmp_path):
    path = write(tmp_path, "<VirtualHost *:80>\nServerAlias b.test\n</VirtualHost>\n"
                           "ServerName main.test\n")
    assert load_config(str(path)).vhosts[0].server_name == "main.test"


def test_server_name_port_is_the_hosts_port_and_vhosts_inherit_it(tmp_path):
    path = write(tmp_path, "ServerName main.test:8080\n<VirtualHost *:80>\n"
                           "ServerName [::1]:8443\n</VirtualHost>\n<VirtualHost *:81>\n"
                           "ServerName b.test\n</VirtualHost>\n")
    config = load_config(str(path))
    assert (config.main.server_name, config.main.server_port) == ("main.test", 8080)
    assert [(v.server_name, v.server_port) for v in config.vhosts] == [
        ("::1", 8443), ("b.test", 8080)]
    for bad in ("a.test:0", "a.test:65536", "a.test:http"):
        path = write(tmp_path, f"ServerName {bad}\n")
        with pytest.raises(ConfigError, match=r":1: ServerName: the port number .* is outside"):
            load_config(str(path))


def test_unknown_handler_is_accepted_with_a_warning_but_server_status_is_known(tmp_path):
    path = write(tmp_path, "<Location /s>\nSetHandler server-status\n</Location>\n")
    assert not load_config(str(path)).warnings
    path = write(tmp_path, "AddHandler cgi-script .cgi\n")
    config = load_config(str(path))
    assert config.main.settings.add_handlers == {"cgi": "cgi-script"}
    assert any("'cgi-script'" in line and "500" in line for line in config.warnings)


def test_log_targets_and_core_directives_are_applied(tmp_path):
    path = write(tmp_path, "<VirtualHost *:80>\nErrorLog /tmp/own.log\n</VirtualHost>\n")
    assert load_config(str(path)).vhosts[0].error_log == "/tmp/own.log"  # its own error log
    path = write(tmp_path, 'ErrorLog "syslog:local1"\nCustomLog "|/bin/cat" common\n')
    config = load_config(str(path))
    assert config.error_log == "syslog:local1"
    assert config.main.custom_logs == [("|/bin/cat", "%h %l %u %t \"%r\" %>s %b", None)]
    path = write(tmp_path, "ErrorLog syslog:nosuch\n")
    with pytest.raises(ConfigError, match="unknown syslog facility 'nosuch'"):
        load_config(str(path))
    path = write(tmp_path, "TraceEnable Off\nServerSignature EMail\nHostnameLookups Off\n"
                           "AddDefaultCharset On\nMaxConnectionsPerChild 3\n")
    config = load_config(str(path))
    assert config.trace_enable == "off"
    assert config.main.server_signature == "email"
    assert config.main.settings.default_charset == "iso-8859-1"
    assert config.processes.max_connections_per_child == 3


def test_if_version(tmp_path):
    path = write(tmp_path, "<IfVersion < 2.4>\nListen 1\n</IfVersion>\n"
                           "<IfVersion >= 2.4>\nListen 2\n</IfVersion>\n")
    assert load_config(str(path)).listen == [("0.0.0.0", 2)]

def test_unknown_session_type_is_refused_at_load(tmp_path):
    path = write(tmp_path, f"Listen 8080\n<Directory {tmp_path}>\n"
                           "PythonOption mod_python.session.session_type SignedSession\n"
                           "</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3: PythonOption "
                                          "mod_python.session.session_type 'SignedSession': "
                                          "unknown session type"):
        load_config(str(path))
    ok = write(tmp_path, "Listen 8080\nPythonOption mod_python.session.session_type FileSession\n",
               "ok.conf")
    load_config(str(ok))


@pytest.mark.parametrize("line, why", [
    ("mod_python.session.redis_url localhost:6379",
     "'localhost:6379': expected redis://host:port/db"),
    ("mod_python.session.redis_url http://127.0.0.1:6379/0",
     "'http://127.0.0.1:6379/0': expected redis://host:port/db"),
    ("mod_python.session.redis_lock_timeout soon",
     "'soon': expected a positive number of seconds"),
    ("mod_python.session.redis_lock_timeout 0", "'0': expected a positive number"),
    ("mod_python.session.redis_lock_timeout inf", "'inf': expected a positive number"),
])
def test_redis_session_options_that_cannot_work_are_refused_at_load(tmp_path, line, why):
    path = write(tmp_path, f"Listen 8080\n<Directory {tmp_path}>\nPythonOption {line}\n"
                           "</Directory>\n")
    key = re.escape(line.split()[0])
    with pytest.raises(ConfigError, match=rf"^{path}:3: PythonOption {key} {re.escape(why)}"):
        load_config(str(path))


def test_redis_session_options_that_work_load(tmp_path):
    path = write(tmp_path, f"Listen 8080\n<Directory {tmp_path}>\n"
                           "PythonOption mod_python.session.redis_url redis://127.0.0.1:6379/0\n"
                           "PythonOption mod_python.session.redis_lock_timeout 2.5\n"
                           "PythonOption mod_python.session.redis_url \"\"\n"
                           "</Directory>\n")
    load_config(str(path))

