"""A one-file Django project whose view renders a template (issue 16's Django workload).

Settings are those of a plain production site (DEBUG off, the default middleware of
`startproject` minus sessions/auth/messages, which need a database); the view renders
templates/page.html with a 20-row table. Mounted at /django under mod_python.wsgi and at / by
the native servers: Django reads SCRIPT_NAME, so the same URLconf serves both.
"""

from pathlib import Path

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.shortcuts import render
from django.urls import path

HERE = Path(__file__).resolve().parent

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    INSTALLED_APPS=[],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(HERE / "templates")]}],
    USE_TZ=True,
)
django.setup()

ROWS = [{"id": n, "name": f"row {n}", "price": n * 3.5} for n in range(20)]


def page(request):
    return render(request, "page.html", {"title": "Benchmark page", "rows": ROWS})


urlpatterns = [path("page/", page)]

app = application = get_wsgi_application()
