"""What a request looks like after mod_rewrite: URI, query, file, path_info, the variables
rules set ([E=]) and the PythonOptions in effect (.htaccess ones included)."""

import json

from mod_python import apache


def handler(req):
    root = req.document_root().rstrip("/")
    env = req.subprocess_env
    report = {
        "uri": req.uri,
        "args": req.args,
        "filename": (req.filename or "").replace(root, "ROOT"),
        "path_info": req.path_info,
        "env": {key: env[key] for key in env.keys()
                if key.startswith(("FROM_", "REDIRECT_FROM_"))},
        "options": {key: value for key, value in req.get_options().items()
                    if key.startswith("site.")},
    }
    req.content_type = "application/json"
    req.write(json.dumps(report, sort_keys=True))
    return apache.OK
