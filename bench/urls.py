"""The app's own URLs plus the baseline H: a trivial view behind the same middleware."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinic.urls import handler403
from clinic.urls import urlpatterns as app_urlpatterns

__all__ = ["handler403", "urlpatterns"]


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial"), *app_urlpatterns]
