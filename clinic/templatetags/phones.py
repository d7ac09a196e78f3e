"""``{% load phones %}``: ``{{ patient.phone|phone }}`` shows a stored E.164 number the way
the clinic's region writes it; ``{{ patient.phone|phone_uri }}`` is its ``tel:`` link."""

from __future__ import annotations

from django import template

from clinic import phones

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    return phones.display(value)


@register.filter
def phone_uri(value: str | None) -> str:
    return phones.dial_uri(value)
