"""`RequestReadTimeout` (mod_reqtimeout's syntax) and the other timeout directives, as
parsed into the config's Limits, which the engine reads as they are."""

from __future__ import annotations

import pytest

from prefork_modpy import _core
from prefork_modpy.config.server import load_config
from prefork_modpy.config.syntax import ConfigError


def limits_for(tmp_path, text):
    conf = tmp_path / "site.conf"
    conf.write_text(f"DocumentRoot {tmp_path}\n{text}\n")
    return load_config(str(conf)).limits


def test_defaults_are_apaches(tmp_path):
    lim = load_config(str(_conf(tmp_path))).limits
    assert (lim.timeout, lim.keepalive_timeout, lim.max_keepalive_requests) == (60, 5, 100)
    assert (lim.header_timeout, lim.header_timeout_max, lim.header_min_rate) == (20, 40, 500)
    assert (lim.body_timeout, lim.body_timeout_max, lim.body_min_rate) == (20, 0, 500)


def test_the_engine_reads_the_config_limits_by_attribute(tmp_path):
    lim = load_config(str(_conf(tmp_path))).limits
    engine = _core.Engine([], lim, {}, bytes)
    assert engine.open_connections == 0
    lim.header_min_rate = -1  # not a u32: the engine names the field it could not read
    with pytest.raises(TypeError, match="header_min_rate"):
        _core.Engine([], lim, {}, bytes)
    with pytest.raises(AttributeError, match="request_line"):
        _core.Engine([], object(), {}, bytes)


def _conf(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text(f"DocumentRoot {tmp_path}\n")
    return conf


@pytest.mark.parametrize("text, header, body", [
    ("header=10-30,MinRate=500", (10, 30, 500), (20, 0, 500)),
    ("body=10,MinRate=1000", (20, 40, 500), (10, 0, 1000)),
    ("header=10 body=30", (10, 0, 0), (30, 0, 0)),
    ("header=0 body=0", (0, 0, 0), (0, 0, 0)),
    ("handshake=5 HEADER=1.5-3,minrate=100", (1.5, 3, 100), (20, 0, 500)),
    ("body=5-60,MinRate=2000", (20, 40, 500), (5, 60, 2000)),
])
def test_request_read_timeout(tmp_path, text, header, body):
    lim = limits_for(tmp_path, f"RequestReadTimeout {text}")
    assert (lim.header_timeout, lim.header_timeout_max, lim.header_min_rate) == header
    assert (lim.body_timeout, lim.body_timeout_max, lim.body_min_rate) == body


@pytest.mark.parametrize("text, message", [
    ("", "takes header="),
    ("header=10-20", "needs MinRate"),
    ("header=20-10,MinRate=5", "larger than the initial"),
    ("body=5,MinRate=0", "MinRate must be positive"),
    ("headers=5", "cannot parse"),
    ("header=5,MinRate=500,x=1", "cannot parse"),
    ("header=-1", "cannot parse"),
])
def test_request_read_timeout_refusals(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        limits_for(tmp_path, f"RequestReadTimeout {text}")


def test_request_read_timeout_is_server_wide(tmp_path):
    with pytest.raises(ConfigError, match="not allowed in <VirtualHost>"):
        limits_for(tmp_path, "<VirtualHost *:80>\nServerName a\nRequestReadTimeout header=5\n"
                             "</VirtualHost>")
