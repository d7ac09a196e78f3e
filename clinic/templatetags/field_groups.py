"""``{% if user|sees:"plan" %}``: the one way templates ask the field-group matrix."""

from __future__ import annotations

from django import template

from clinic import field_groups

register = template.Library()


@register.filter
def sees(user: object, group: str) -> bool:
    return field_groups.sees(user, group)
