"""mod_log_config's BufferedLogs in the engine (rust/logbuf.rs): `Engine.write_log` writes a
line at once, or, with `buffered_logs` on, holds each log's lines until the next would pass
PIPE_BUF (4,096 bytes, httpd's LOG_BUFSIZE) or `flush_logs()`; the lines of the static plans
share the same buffer, so one log's lines stay in the order the requests were answered."""

from __future__ import annotations

import os

from prefork_modpy import _core
from prefork_modpy.config.server import Limits
from prefork_modpy.httpd import errorpages
from tests.engine.test_static_plans import Rig, req

LOG_BUFSIZE = 4096


def engine_and_log(tmp_path):
    engine = _core.Engine([], Limits(), errorpages.STATUS_LINES, errorpages.error_body)
    path = tmp_path / "access.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    return engine, path, fd


def test_lines_are_written_at_once_unless_buffered(tmp_path):
    engine, path, fd = engine_and_log(tmp_path)
    try:
        assert engine.buffered_logs is False
        engine.write_log(fd, b"one\n")
        assert path.read_bytes() == b"one\n"
        assert engine.held_log_bytes == 0
    finally:
        os.close(fd)


def test_buffered_lines_wait_for_a_full_buffer_or_a_flush(tmp_path):
    engine, path, fd = engine_and_log(tmp_path)
    try:
        engine.buffered_logs = True
        line = b"x" * 99 + b"\n"
        for _ in range(40):  # 4,000 bytes: they fit
            engine.write_log(fd, line)
        assert path.read_bytes() == b""
        assert engine.held_log_bytes == 4000
        engine.write_log(fd, line)  # 4,100 would not: the 40 go out in one write
        assert path.read_bytes() == line * 40
        assert engine.held_log_bytes == 100
        engine.flush_logs()
        assert path.read_bytes() == line * 41
        assert engine.held_log_bytes == 0
    finally:
        os.close(fd)


def test_a_line_as_large_as_the_buffer_is_written_after_the_held_ones(tmp_path):
    engine, path, fd = engine_and_log(tmp_path)
    try:
        engine.buffered_logs = True
        engine.write_log(fd, b"small\n")
        big = b"b" * (LOG_BUFSIZE - 1) + b"\n"
        engine.write_log(fd, big)
        assert path.read_bytes() == b"small\n" + big
        assert engine.held_log_bytes == 0
    finally:
        os.close(fd)


def test_turning_buffering_off_writes_what_is_held(tmp_path):
    engine, path, fd = engine_and_log(tmp_path)
    other_path = tmp_path / "other.log"
    other = os.open(other_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        engine.buffered_logs = True
        engine.write_log(fd, b"a\n")
        engine.write_log(other, b"b\n")
        engine.write_log(fd, b"c\n")
        engine.buffered_logs = False
        assert path.read_bytes() == b"a\nc\n"
        assert other_path.read_bytes() == b"b\n"
        engine.write_log(fd, b"d\n")
        assert path.read_bytes() == b"a\nc\nd\n"
    finally:
        os.close(fd)
        os.close(other)


def test_planned_lines_share_the_buffer_in_answer_order(tmp_path):
    rig = Rig(tmp_path)
    try:
        rig.engine.buffered_logs = True
        rig.plan()
        rig.engine.write_log(rig.log_fd, b"python before\n")
        out = rig.exchange(req() + req())
        assert out.count(b"HTTP/1.1 200 OK\r\n") == 2 and rig.python == []
        rig.engine.write_log(rig.log_fd, b"python after\n")
        assert rig.log_lines() == []  # all held
        rig.engine.flush_logs()
        lines = rig.log_lines()
        assert lines[0] == "python before" and lines[-1] == "python after", lines
        assert len(lines) == 4 and all('"GET /f HTTP/1.1" 200 13' in line
                                       for line in lines[1:3]), lines
    finally:
        rig.close()
