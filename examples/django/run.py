#!/usr/bin/env python3
"""The Django example's one command: prepare var/ (database, collected static files, an
admin user), then serve site.conf with prefork-modpy. Arguments go to prefork-modpy
(e.g. `--bind 127.0.0.1:9000 --workers 2`)."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_USER = "admin"
# Only for this example on 127.0.0.1; set EXAMPLE_ADMIN_PASSWORD to choose another.
ADMIN_PASSWORD = os.environ.get("EXAMPLE_ADMIN_PASSWORD", "example-admin-password")

CREATE_ADMIN = """
import os
from django.contrib.auth.models import User
if not User.objects.filter(username=os.environ["EXAMPLE_ADMIN_USER"]).exists():
    User.objects.create_superuser(os.environ["EXAMPLE_ADMIN_USER"], "",
                                  os.environ["EXAMPLE_ADMIN_PASSWORD"])
"""


def manage(*args: str) -> None:
    env = dict(os.environ, EXAMPLE_ADMIN_USER=ADMIN_USER, EXAMPLE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    subprocess.run([sys.executable, os.path.join(HERE, "manage.py"), *args],
                   check=True, cwd=HERE, env=env)


def prepare() -> None:
    manage("migrate", "--noinput", "--verbosity", "0")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    os.makedirs(os.path.join(HERE, "var", "media"), exist_ok=True)
    manage("shell", "--command", CREATE_ADMIN)


def main() -> None:
    prepare()
    print(f"Django admin: user {ADMIN_USER!r}, password {ADMIN_PASSWORD!r}", flush=True)
    command = [sys.executable, "-m", "prefork_modpy", "--config",
               os.path.join(HERE, "site.conf"), *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
