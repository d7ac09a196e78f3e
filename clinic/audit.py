"""Who made a change: the audit context that every service sets from its ``acting_user``.

The audit trail is django-pghistory's triggers; each event row points at a context row
whose metadata names the user. In a request, ``pghistory.middleware.HistoryMiddleware``
opens that context. Writes from Celery tasks, management commands and the demo loader
have no request, so a service that takes ``acting_user`` wraps its writes in
:func:`acting_as`. Inside a request it joins the request's context: pghistory merges the
metadata of nested contexts, so the acting user's id is written over the request's (the same
person in a staff request). ``acting_as(None)`` is therefore only for the top of system jobs
(dispatcher, sweeper), never inside a person's request or a person's ``acting_as``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pghistory
import pghistory.middleware
from django.http import HttpRequest
from django.urls import Resolver404, resolve

if TYPE_CHECKING:
    from clinic.models import User


def acting_as(user: User | None, **metadata: object) -> pghistory.context:
    """Attribute every audited write inside the ``with`` block to ``user``.

    ``None`` means the system acted (a scheduled job with no person behind it); the
    context then says so, so no change is ever anonymous.
    """
    if user is None:
        return pghistory.context(user=None, actor="system", **metadata)
    return pghistory.context(user=user.pk, **metadata)


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """pghistory's request context, naming the page by its URL name, never its path.

    Patients' signed links carry their token in the path, and a token stays valid for
    14 to 400 days: stored in ``metadata.url`` it would let anyone who reads the audit
    act as the patient. The URL name (``aftercare:checkin``) says the same about the
    request without the secret.
    """

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        try:
            context["url"] = resolve(request.path_info).view_name
        except Resolver404:
            context["url"] = ""
        return context
