"""Who made a change: the audit context that every service sets from its ``acting_user``.

The audit trail is django-pghistory's triggers; each event row points at a context row
whose metadata names the user. In a request, ``pghistory.middleware.HistoryMiddleware``
opens that context. Writes from Celery tasks, management commands and the demo loader
have no request, so a service that takes ``acting_user`` wraps its writes in
:func:`acting_as`; inside a request it adds to (never replaces) the request's context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pghistory

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
