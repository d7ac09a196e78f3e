from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from clinic.http import ClinicHttpRequest
from clinic.selectors import current_location

if TYPE_CHECKING:
    from clinic.models import Location


class LocationMiddleware:
    """Attach ``request.location``: the location the signed-in person is working at.

    Chosen with the location switcher (kept in the session), else the person's home
    location, else the first active one. Lazy, so pages that never ask cost no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clinic_request = cast(ClinicHttpRequest, request)
        # The lazy object stands in for the location it wraps (falsy when that is None).
        clinic_request.location = cast("Location | None", SimpleLazyObject(lambda: current_location(request)))
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and clinic_request.location:
            # Staff read times in the zone of the location they are working at.
            timezone.activate(clinic_request.location.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
