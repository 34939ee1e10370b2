"""Config reading (syntax, Include, errors with file:line) and section merging."""

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


def test_refused_directive_is_named(tmp_path):
    path = write(tmp_path, "<VirtualHost *:80>\nServerName a\n"
                           "PythonConnectionHandler m\n</VirtualHost>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3: PythonConnectionHandler: .*refused"):
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
    message = rf"^{path}:1: cannot read .*nothing-here.conf: No such file"
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
    assert config.select_vhost("other.test") is config.main


def test_filter_names_are_checked_after_the_whole_file(tmp_path):
    path = write(tmp_path, f"<Directory {tmp_path}>\nSetOutputFilter UPPER\n</Directory>\n"
                           "PythonOutputFilter mod UPPER\n")
    load_config(str(path))
    path = write(tmp_path, f"<Directory {tmp_path}>\nAddOutputFilter INCLUDES .shtml\n"
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


@pytest.mark.parametrize("line", ["Require group admins", "Require valid-user x",
                                  "Require user"])
def test_unsupported_require_is_refused(tmp_path, line):
    path = write(tmp_path, f"<Directory {tmp_path}>\n{line}\n</Directory>\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: Require"):
        load_config(str(path))


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
