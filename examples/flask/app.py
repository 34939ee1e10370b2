"""A Flask 3.1 application for prefork-modpy (see README.md): streamed responses, server-sent
events, a session, request bodies (chunked ones too) and large downloads."""

import hashlib
import secrets
import time
from pathlib import Path

from flask import Flask, Response, jsonify, request, session, stream_with_context

VAR_DIR = Path(__file__).resolve().parent / "var"
MIB = 1 << 20


def _secret_key(path: Path) -> str:
    """One random key per checkout, kept in var/ (never in the repository)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


app = Flask(__name__)
app.secret_key = _secret_key(VAR_DIR / "secret_key")


@app.get("/")
def index():
    return "Flask under prefork-modpy: /stream /events /counter /upload /download/<MiB>\n"


@app.get("/stream")
def stream():
    """Five lines, one every half second; each reaches the client when it is yielded."""
    def lines():
        for n in range(5):
            if n:
                time.sleep(0.5)
            yield f"line {n}\n"
    return Response(stream_with_context(lines()), mimetype="text/plain")


@app.get("/events")
def events():
    """Server-sent events: three, half a second apart."""
    def messages():
        for n in range(3):
            if n:
                time.sleep(0.5)
            yield f"id: {n}\ndata: event {n}\n\n"
    return Response(messages(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache"})


@app.get("/counter")
def counter():
    """Visits in this session (Flask's signed cookie)."""
    session["visits"] = session.get("visits", 0) + 1
    return jsonify(visits=session["visits"])


@app.route("/upload", methods=["POST", "PUT"])
def upload():
    """What arrived: the length and SHA-256 of the body (chunked or with Content-Length)."""
    data = request.get_data()
    return jsonify(length=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   content_length=request.headers.get("Content-Length"))


def download_block(n: int) -> bytes:
    """Block n of a download: 1 MiB of the byte n % 256 (the client can check every one)."""
    return bytes([n % 256]) * MIB


@app.get("/download/<int:mebibytes>")
def download(mebibytes: int):
    """`mebibytes` MiB, streamed block by block, with the Content-Length declared first."""
    def blocks():
        for n in range(mebibytes):
            yield download_block(n)
    return Response(blocks(), mimetype="application/octet-stream",
                    headers={"Content-Length": str(mebibytes * MIB)})


@app.get("/slow/<int:seconds>")
def slow(seconds: int):
    """A download that lasts `seconds`: 1 KiB a second, Content-Length declared. A server's
    Timeout bounds each wait for the client, not the whole response."""
    def blocks():
        for n in range(seconds):
            if n:
                time.sleep(1)
            yield b"%04d" % n + b"." * 1020
    return Response(blocks(), mimetype="application/octet-stream",
                    headers={"Content-Length": str(seconds * 1024)})
