"""Authentication backend: Django's ModelBackend, with what every page asks of a person in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat, JSONObject

from clinic.models import Location, User

# The Location columns carried in the signed-in person's row (every concrete field).
_LOCATION_FIELDS = tuple(field.attname for field in Location._meta.concrete_fields)


def signed_in_users() -> QuerySet[User]:
    """Users with their permissions, roles and active locations, read in the same query.

    Every signed-in page checks permissions (the navigation), names the roles and resolves
    the working location (the middleware, the switcher): three more round trips per request
    when each is read on its own. Arrays of a correlated subquery each bring them along.
    """
    permissions = (
        Permission.objects.filter(Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")))
        .order_by()
        .values(full_name=Concat(F("content_type__app_label"), Value("."), F("codename")))
        .distinct()
    )
    groups = Group.objects.filter(user=OuterRef("pk")).order_by().values("name")
    locations = (
        Location.objects.active()
        .filter(staff=OuterRef("pk"))
        .values(row=JSONObject(**{name: F(name) for name in _LOCATION_FIELDS}))
    )
    return User.objects.annotate(
        signed_in_permissions=ArraySubquery(permissions),
        signed_in_groups=ArraySubquery(groups),
        signed_in_locations=ArraySubquery(locations),
    )


def _remember(user: Any) -> None:
    """Fill the per-request caches (ModelBackend's, clinic.User's) from the annotations."""
    if not user.is_superuser:
        user._perm_cache = set(user.signed_in_permissions)
    user.remember_group_names(user.signed_in_groups)
    user.remember_locations(
        [
            Location.from_db("default", list(_LOCATION_FIELDS), [row[name] for name in _LOCATION_FIELDS])
            for row in user.signed_in_locations
        ]
    )


class ClinicBackend(ModelBackend):
    """ModelBackend loads user and group permissions in two queries on every signed-in
    request that checks one; every page does. Here they come with the user's own row, as do
    the roles and the locations (``signed_in_users``), cached on the user for the request
    like ModelBackend's own cache."""

    def get_user(self, user_id: Any) -> User | None:
        user = signed_in_users().filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        _remember(user)
        return user

    def get_all_permissions(self, user_obj: Any, obj: object = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                permissions = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list("content_type__app_label", "codename").distinct()
            }
        return set(user_obj._perm_cache)
