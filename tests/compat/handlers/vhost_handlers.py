"""Handlers for tests/compat/test_vhost_compat.py: server-level phases (PostReadRequest,
Init, Trans) and name-based virtual hosts, under Apache + mod_python 3.5 and prefork-modpy."""

import json

from mod_python import apache


def postread(req):
    req.notes["postread"] = f"{req.phase} filename={req.filename}"
    if req.uri == "/done":
        req.content_type = "text/plain"
        req.write("answered by PostReadRequest")
        return apache.DONE
    if req.uri == "/forbid":
        return apache.HTTP_FORBIDDEN
    return apache.OK


def init(req):
    req.notes["init"] = req.phase
    return apache.DECLINED


def trans(req):
    req.notes["trans"] = req.phase
    if req.uri.startswith("/t/"):
        req.filename = req.document_root() + "/" + req.uri[3:] + ".txt"
        return apache.OK
    return apache.DECLINED


def report(req):
    server = req.server
    options = {k: v for k, v in req.get_options().items() if not k.startswith("mod_python.")}
    main_options = {k: v for k, v in apache.main_server.get_options().items()
                    if not k.startswith("mod_python.")}
    req.content_type = "application/json"
    req.write(json.dumps({
        "server_hostname": server.server_hostname, "is_virtual": server.is_virtual,
        "names": list(server.names), "wild_names": list(server.wild_names),
        "interpreter": req.interpreter, "hostname": req.hostname,
        "options": options,
        "server_options": sorted(k for k in server.get_options().keys()
                                 if not k.startswith("mod_python.")),
        "main_options": main_options, "config": dict(req.get_config().items()),
        "server_config": dict(server.get_config().items()),
        "notes": {k: req.notes.get(k) for k in ("postread", "init", "trans")},
        "document_root": req.document_root().rsplit("/", 1)[-1],
        "filename_tail": (req.filename or "").rsplit("/", 1)[-1],
    }, sort_keys=True))
    return apache.OK
