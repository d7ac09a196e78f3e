"""The request types the clinic's views take, in the manner of Healthchecks'
``AuthenticatedHttpRequest``.

The middleware stack (``clinic.middleware.LocationMiddleware``, django-htmx's
``HtmxMiddleware`` and Django's ``AuthenticationMiddleware`` behind ``LoginRequiredMiddleware``)
adds these attributes to every request; declaring them here lets views use them typed,
without suppressing the type checker. Staff views take :class:`AuthenticatedHttpRequest`: the login
requirement guarantees ``request.user`` is a signed-in :class:`~clinic.models.User`.
Public views (patients' signed links) take :class:`ClinicHttpRequest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# Longer than any page's own path with its query; anything longer is not one of ours.
MAX_NEXT_LENGTH = 2000

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from clinic.models import Location, User


class ClinicHttpRequest(HttpRequest):
    """Any request that went through the clinic's middleware."""

    htmx: HtmxDetails
    # A lazy object: falsy when no active location exists yet.
    location: Location | None


class AuthenticatedHttpRequest(ClinicHttpRequest):
    """A signed-in member of staff's request (every view not marked ``login_not_required``)."""

    user: User


def working_location(request: ClinicHttpRequest) -> Location:
    """The location the person is working at, or a 403 that says what is missing.

    One rule for every app: with no active location there is nothing a page can show, and
    it is the clinic's set-up (not the URL) that is missing, so the answer is 403, not 404.
    """
    location = request.location
    if not location:  # a lazy object wrapping None
        # Either none is set up, or this person works at none of them (clinic.User.locations).
        raise PermissionDenied(
            _("You have no active location to work at. Ask the clinic manager to set one up or to add you to one.")
        )
    return location


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` path the form posted, or ``fallback`` when it is not a path on this site.

    ``next`` comes from the browser: it is never reversed as a URL name (``next=patients`` is
    not a view) and never sent anywhere off the site. Control characters would make the
    ``Location`` header itself invalid.
    """
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and target.isprintable()
        and len(target) <= MAX_NEXT_LENGTH
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return fallback
