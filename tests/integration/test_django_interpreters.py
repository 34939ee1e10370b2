"""Two real Django projects in two named interpreters of one prefork-modpy (issue 11).

Both projects use the same package name (`mysite`), each with its own settings (SITE_NAME),
its own SQLite database and its own user, served through mod_python.wsgi under
`PythonInterpreter site_a` / `site_b` by 2 workers. Interleaved requests from several
client threads must always reach the right project: the admin login page's title and a
view printing settings.SITE_NAME and the users of its database. Then an edit of one
project's view is picked up by autoreload in that interpreter only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Django comes with the `test` extra of pyproject.toml: a missing Django fails collection.
import django  # noqa: F401
import pytest

from tests.support.site import Server, SiteFactory, wait_until
from tests.support.wire import Client, Response, get

SETTINGS = """\
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SITE_NAME = {site_name!r}
SECRET_KEY = "interpreter-test-{key}-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth",
                  "django.contrib.contenttypes", "django.contrib.sessions",
                  "django.contrib.messages"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.common.CommonMiddleware",
              "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {{"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}}}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                         "NAME": BASE_DIR / "db.sqlite3"}}}}
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

URLS = """\
from django.conf import settings
from django.contrib import admin
from django.urls import path

from . import views

admin.site.site_title = admin.site.site_header = settings.SITE_NAME
urlpatterns = [path("admin/", admin.site.urls), path("name/", views.name)]
"""

VIEWS = """\
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse


def name(request):
    users = ",".join(User.objects.order_by("username").values_list("username", flat=True))
    return HttpResponse(f"{settings.SITE_NAME} users={users}", content_type="text/plain")
"""

WSGI = """\
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()
SCRIPT_VERSION = "v1"


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, headers + [("X-Script", SCRIPT_VERSION)], exc_info)
    return django_application(environ, start)
"""

SITE = """\
<Location /{key}>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application {{root}}/proj_{key}/app.wsgi
    PythonInterpreter site_{key}
    PythonAutoReload On
</Location>
"""

PROJECTS = {"a": "Project Alpha", "b": "Project Beta"}
TITLE = re.compile(rb"<title>([^<]*)</title>")
REQUESTS = 240  # over the load loop, each on a fresh connection
CLIENTS = 4


def project_files() -> dict[str, str]:
    files = {}
    for key, site_name in PROJECTS.items():
        base = f"proj_{key}"
        files[f"{base}/mysite/__init__.py"] = ""
        files[f"{base}/mysite/settings.py"] = SETTINGS.format(site_name=site_name, key=key)
        files[f"{base}/mysite/urls.py"] = URLS
        files[f"{base}/mysite/views.py"] = VIEWS
        files[f"{base}/app.wsgi"] = WSGI
    return files


def migrate(project: Path, username: str) -> None:
    """Each project gets its own database with its own user (Django's own commands)."""
    script = ("import django; django.setup()\n"
              "from django.core.management import call_command\n"
              "call_command('migrate', verbosity=0)\n"
              "from django.contrib.auth.models import User\n"
              f"User.objects.create_user({username!r})\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mysite.settings"}
    subprocess.run([sys.executable, "-c", script], cwd=project, env=env, check=True,
                   timeout=120)


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory):
    factory = SiteFactory(tmp_path_factory.mktemp("django-interpreters"))
    config = "".join(SITE.format(key=key) for key in PROJECTS)
    root = factory.base / "srv"
    for relative, text in project_files().items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    for key in PROJECTS:
        migrate(root / f"proj_{key}", f"user_{key}")
    try:
        yield factory.start(config, workers=2)
    finally:
        factory.close()


def fetch_reply(server: Server, path: str) -> Response:
    with Client(server.port, timeout=30) as client:
        client.send(get(path, host="127.0.0.1", extra="Connection: close\r\n"))
        return client.response()


def fetch(server: Server, path: str) -> tuple[int, bytes]:
    reply = fetch_reply(server, path)
    return reply.status, reply.body


def check(server: Server, key: str, kind: str) -> str:
    """One request to project `key`; returns what was wrong, or ''."""
    site_name = PROJECTS[key]
    if kind == "login":
        status, body = fetch(server, f"/{key}/admin/login/")
        title = TITLE.search(body)
        got = title.group(1).decode() if title else body[:300].decode(errors="replace")
        return "" if status == 200 and got == f"Log in | {site_name}" else f"{key} login: {got}"
    status, body = fetch(server, f"/{key}/name/")
    wanted = f"{site_name} users=user_{key}"
    text = body.decode(errors="replace")
    return "" if status == 200 and text.endswith(wanted) else f"{key} name: {status} {text[:300]}"


def test_interleaved_requests_reach_the_right_project(two_sites: Server) -> None:
    plan = [("ab"[n % 2], ("login", "name")[(n // 2) % 2]) for n in range(REQUESTS)]
    deadline = time.monotonic() + 120
    with ThreadPoolExecutor(CLIENTS) as pool:
        wrong = [w for w in pool.map(lambda job: check(two_sites, *job)
                                     if time.monotonic() < deadline else "timed out", plan) if w]
    assert not wrong, (wrong[:5], two_sites.errors()[-3000:])
    assert not re.search(r"Traceback", two_sites.errors()), two_sites.errors()[-3000:]


def test_autoreload_applies_to_the_edited_interpreter_only(two_sites: Server) -> None:
    """PythonAutoReload: mod_python.wsgi runs an edited WSGI script again, in the
    interpreter that loaded it; the other project keeps its own."""
    script = two_sites.root / "proj_a" / "app.wsgi"
    script.write_text(WSGI.replace('SCRIPT_VERSION = "v1"', 'SCRIPT_VERSION = "v2"'))
    stamp = time.time() + 2
    os.utime(script, (stamp, stamp))

    def versions(key: str) -> set:
        return {fetch_reply(two_sites, f"/{key}/name/").header("X-Script") for _ in range(8)}

    assert wait_until(lambda: versions("a") == {"v2"}), versions("a")
    assert versions("b") == {"v1"}
    status, body = fetch(two_sites, "/a/name/")
    assert (status, body) == (200, b"Project Alpha users=user_a")
