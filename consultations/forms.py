from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consultations.grading import (
    FACE_ZONES,
    LESION_MAX_PER_ZONE,
    LESION_SCORE,
    OPTIONAL_ZONES,
    Counts,
    Lesion,
    Zone,
)


def lesion_field_name(zone: str, lesion: str) -> str:
    return f"{zone}__{lesion}"


@dataclass(frozen=True)
class FaceMapRow:
    zone: Zone
    optional: bool
    fields: list[forms.BoundField]

    @property
    def label(self) -> Promise:
        return self.zone.label


class LesionCountsForm(forms.Form):
    """Lesion counts per zone and type: the real form behind the face map.

    One number input per (zone, lesion type). The SVG face map (``_partials/face_map.html``
    with ``static/js/face_map.js``) only navigates to and colours these inputs, so the
    table alone is complete for keyboard and screen-reader users. Reused by the treatment
    log (lesions extracted); pass ``prefix`` when a page holds two.
    """

    zones: tuple[Zone, ...] = (*FACE_ZONES, *OPTIONAL_ZONES)
    lesions: tuple[Lesion, ...] = tuple(Lesion)

    def __init__(self, *args: Any, counts: Counts | None = None, **kwargs: Any) -> None:
        if counts is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                lesion_field_name(zone, lesion): count
                for zone, per_lesion in counts.items()
                for lesion, count in per_lesion.items()
                if count
            }
        super().__init__(*args, **kwargs)
        for zone in self.zones:
            for lesion in self.lesions:
                maximum = LESION_MAX_PER_ZONE[lesion]
                self.fields[lesion_field_name(zone, lesion)] = forms.IntegerField(
                    label=_("%(zone)s: %(lesion)s") % {"zone": zone.label, "lesion": lesion.label},
                    required=False,
                    min_value=0,
                    max_value=maximum,
                    error_messages={
                        "min_value": _("Counts cannot be negative."),
                        "max_value": _("At most %(limit_value)s here; check the count."),
                        "invalid": _("Enter a whole number."),
                    },
                    widget=forms.NumberInput(
                        attrs={
                            "class": "form-control form-control-sm lesion-count",
                            "min": 0,
                            "max": maximum,
                            "step": 1,
                            "inputmode": "numeric",
                            "placeholder": "0",
                            "data-zone": zone.value,
                            "data-lesion": lesion.value,
                            "data-score": LESION_SCORE[lesion],
                        }
                    ),
                )

    def rows(self) -> list[FaceMapRow]:
        if self.is_bound:
            for name in self.errors:
                if name in self.fields:
                    widget = self.fields[name].widget
                    classes = widget.attrs.get("class", "")
                    if "is-invalid" not in classes.split():
                        widget.attrs["class"] = f"{classes} is-invalid".strip()
        return [
            FaceMapRow(
                zone=zone,
                optional=zone in OPTIONAL_ZONES,
                fields=[self[lesion_field_name(zone, lesion)] for lesion in self.lesions],
            )
            for zone in self.zones
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        """The cleaned counts as {zone: {lesion: count}}, only the non-zero ones."""
        result: dict[str, dict[str, int]] = {}
        for zone in self.zones:
            for lesion in self.lesions:
                value = self.cleaned_data.get(lesion_field_name(zone, lesion)) or 0
                if value:
                    result.setdefault(zone.value, {})[lesion.value] = value
        return result
