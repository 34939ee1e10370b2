"""/mysite/admin/ is Django's admin; /mysite/stream/ a StreamingHttpResponse."""

import time

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.urls import path
from django.views.generic import RedirectView


def stream(request):
    """Five lines, one every half second: each must reach the client when it is yielded."""
    def lines():
        for n in range(5):
            if n:
                time.sleep(0.5)
            yield f"line {n}\n"
    return StreamingHttpResponse(lines(), content_type="text/plain")


urlpatterns = [
    path("", RedirectView.as_view(url="admin/")),
    path("admin/", admin.site.urls),
    path("stream/", stream),
]
