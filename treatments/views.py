from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic import roles


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "treatments/home.html")
