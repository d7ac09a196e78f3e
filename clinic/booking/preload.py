"""One query for the rows a booking POST names: the room with its location, the type and the practitioner.

A ModelChoiceField reads its instance with a query of its own; a booking names three, so the
booking POST (the front desk's busiest write) paid three round trips before its rules were
checked. ``preload_choices`` reads them together: the room from its field's queryset, each
other field's row from its own queryset as a JSON column of the same query. The fields'
querysets still decide what may be chosen; a choice the query did not find is left to its
field, which reads and refuses it as before.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import F, Model, QuerySet, Subquery
from django.db.models.functions import JSONObject


class PreloadedChoiceField(forms.ModelChoiceField[Any]):
    """A ModelChoiceField that takes its instance from ``preloaded`` when the form read it already."""

    preloaded: dict[str, Model]

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            instance = getattr(self, "preloaded", {}).get(str(value))
            if instance is not None:
                return instance
        return super().to_python(value)


def json_row(model: type[Model]) -> JSONObject:
    """Every concrete column of ``model`` as one JSON object."""
    return JSONObject(**{field.attname: F(field.attname) for field in model._meta.concrete_fields})


def instance_from_row(model: type[Model], row: dict[str, Any], db: str) -> Model:
    """The instance ``json_row`` describes, each value back to its Python type."""
    fields = model._meta.concrete_fields
    values = [None if row.get(field.attname) is None else field.to_python(row[field.attname]) for field in fields]
    return model.from_db(db, [field.attname for field in fields], values)


def _queryset(form: forms.Form, name: str) -> QuerySet[Any]:
    queryset = cast(PreloadedChoiceField, form.fields[name]).queryset
    if queryset is None:
        raise TypeError(f"{name} has no queryset")
    return queryset


def _pk(value: object) -> str | None:
    return value if isinstance(value, str) and value.isdigit() and len(value) < 19 else None


def preload_choices(form: forms.Form, *, anchor: str, others: tuple[str, ...]) -> None:
    """Read the instances ``form``'s ``anchor`` and ``others`` choice fields name, in one query."""
    anchor_id = _pk(form.data.get(form.add_prefix(anchor)))
    ids = {name: _pk(form.data.get(form.add_prefix(name))) for name in others}
    if anchor_id is None:
        return
    anchor_field = cast(PreloadedChoiceField, form.fields[anchor])
    annotations = {}
    for name, pk in ids.items():
        if pk is not None:
            queryset = _queryset(form, name)
            rows = queryset.filter(pk=pk).order_by().values(row=json_row(queryset.model))[:1]
            annotations[f"preloaded_{name}"] = Subquery(rows)
    found = _queryset(form, anchor).filter(pk=anchor_id).annotate(**annotations).first()
    if found is None:
        return
    anchor_field.preloaded = {anchor_id: found}
    for name, pk in ids.items():
        row = getattr(found, f"preloaded_{name}", None)
        if pk is not None and row is not None:
            field = cast(PreloadedChoiceField, form.fields[name])
            field.preloaded = {pk: instance_from_row(_queryset(form, name).model, row, found._state.db or "default")}
