"""The `server-health` handler: the health check a load balancer polls (HAProxy `option
httpchk`, nginx `max_fails`).

Owns answering `200 OK` while this server serves and `503` from the moment the master begins a
graceful stop (SIGTERM), so the balancer takes the node out before its listeners close
(`GracefulShutdownHealthDelay` keeps them open that long). The master's state comes from the
scoreboard's draining flag, so every worker answers the same. Reachable only where a section
says `SetHandler server-health`. Must not change any state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mod_python import apache

if TYPE_CHECKING:
    from ..modpy.request import Request
    from .scoreboard import Scoreboard

HANDLER_NAME = "server-health"


class HealthCheck:
    """`SetHandler server-health`: bound to this server's scoreboard."""

    def __init__(self, board: Scoreboard) -> None:
        self.board = board

    def handle(self, req: Request) -> int:
        if req.method not in ("GET", "HEAD"):
            req.allow_methods(("GET", "HEAD"))
            return apache.HTTP_METHOD_NOT_ALLOWED
        req.headers_out["Cache-Control"] = "no-store"
        req.content_type = "text/plain; charset=utf-8"
        if self.board.draining():
            # Written by the handler rather than returned: an error status would send the
            # ErrorDocument page, where a balancer's check wants a short fixed body.
            req.status = apache.HTTP_SERVICE_UNAVAILABLE
            req.headers_out["Retry-After"] = "1"
            req.write("DRAINING\n")
        else:
            req.write("OK\n")
        return apache.OK
