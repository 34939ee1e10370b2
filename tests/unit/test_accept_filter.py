"""AcceptFilter (core): which listeners defer the accept until the client sends (Linux's
TCP_DEFER_ACCEPT), with httpd's defaults and protocol names."""

import pytest

from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError


def config_of(tmp_path, text):
    path = tmp_path / "site.conf"
    path.write_text(text)
    return load_config(str(path)), path


def test_http_and_https_defer_by_default(tmp_path):
    config, _ = config_of(tmp_path, "Listen 127.0.0.1:8080\n")
    assert config.defers_accept(("127.0.0.1", 8080))
    assert config.defers_accept(("127.0.0.1", 443))  # https: port 443's default protocol


def test_none_turns_one_protocol_off(tmp_path):
    config, _ = config_of(tmp_path, "Listen 127.0.0.1:8080\nAcceptFilter http none\n")
    assert not config.defers_accept(("127.0.0.1", 8080))
    assert config.defers_accept(("127.0.0.1", 443))
    config, _ = config_of(tmp_path, "Listen 127.0.0.1:443\nAcceptFilter HTTPS None\n")
    assert not config.defers_accept(("127.0.0.1", 443))
    assert config.defers_accept(("127.0.0.1", 80))


def test_listen_names_the_protocol(tmp_path):
    config, _ = config_of(tmp_path, "Listen 127.0.0.1:8443 https\nListen 127.0.0.1:2121 ftp\n"
                                    "Listen 127.0.0.1:8081 proxy-protocol\n"
                                    "AcceptFilter https none\n")
    assert not config.defers_accept(("127.0.0.1", 8443))
    # a protocol no AcceptFilter names has no filter (httpd's accf_map has http and https)
    assert not config.defers_accept(("127.0.0.1", 2121))
    assert config.defers_accept(("127.0.0.1", 8081))  # proxy-protocol is not a protocol name


def test_any_filter_but_none_defers_on_linux(tmp_path):
    config, _ = config_of(tmp_path, "Listen 127.0.0.1:2121 ftp\nAcceptFilter ftp httpready\n")
    assert config.defers_accept(("127.0.0.1", 2121))


def test_acceptfilter_takes_two_arguments(tmp_path):
    with pytest.raises(ConfigError) as caught:
        config_of(tmp_path, "Listen 127.0.0.1:8080\nAcceptFilter http\n")
    assert str(caught.value).startswith(f"{tmp_path / 'site.conf'}:2: AcceptFilter takes a "
                                        "protocol and a filter name")


def test_acceptfilter_is_server_wide(tmp_path):
    with pytest.raises(ConfigError, match=r"site.conf:3: AcceptFilter is not allowed in "
                                          r"<VirtualHost>"):
        config_of(tmp_path, "Listen 127.0.0.1:8080\n<VirtualHost *:8080>\n"
                            "AcceptFilter http none\n</VirtualHost>\n")


def test_one_socket_has_one_protocol(tmp_path):
    with pytest.raises(ConfigError, match=r"site.conf:2: Listen 127.0.0.1:8080 names protocol "
                                          r"'https' after 'http'"):
        config_of(tmp_path, "Listen 127.0.0.1:8080 http\nListen 127.0.0.1:8080 https\n")
