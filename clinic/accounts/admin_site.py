"""The admin as the clinic's site: no Django branding, and the same sign-in as every page.

Its own sign-in form would be a second door with its own rules; instead the admin's login
page sends people to the clinic's sign-in (lockout, second factor), and OTPAdminSite lets in
only sessions that passed the second factor.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class ClinicAdminSite(OTPAdminSite):
    site_header = _("Clinic administration")
    site_title = _("Clinic administration")
    index_title = _("Records")

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in (and past the second factor, or the middleware would have stopped them)
            # but not allowed here: the clinic's sign-in page would only send them back.
            raise PermissionDenied(_("Your account cannot use the administration pages."))
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target)
