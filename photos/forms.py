"""The capture form (one camera input per standard view), consent and markers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.grading import Lesion, Zone
from photos.models import Context, PhotoMarker, Scope, View
from photos.services import Upload


class CameraInput(forms.FileInput):
    """``<input type=file accept="image/*" capture multiple>``: opens the camera on a tablet or
    phone, and lets several photos be taken for one view."""

    allow_multiple_selected = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {"accept": "image/*", "capture": "environment", "multiple": True, "class": "form-control", **(attrs or {})}
        )


class CameraField(forms.FileField):
    widget = CameraInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(CameraField, self).clean(item, initial) for item in files]


class CaptureForm(forms.Form):
    """One camera input per view the guide lists. The files are checked by the service, by content."""

    context = forms.ChoiceField(label=_("Taken at"), choices=Context.choices)

    def __init__(self, *args: Any, views: list[View], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.views = views
        for view in views:
            self.fields[f"photo_{view.value}"] = CameraField(
                label=view.label, required=False, allow_empty_file=True, max_length=255
            )

    def field_name(self, view: str) -> str:
        return f"photo_{view}"

    def uploads(self) -> list[Upload]:
        return [
            Upload(view=view.value, file=file, size=file.size or 0)
            for view in self.views
            for file in self.cleaned_data.get(self.field_name(view.value), [])
        ]

    def view_fields(self) -> list[forms.BoundField]:
        return [self[self.field_name(view.value)] for view in self.views]


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("Consent to"), choices=Scope.choices, widget=forms.RadioSelect)
    read_to_patient = forms.BooleanField(
        label=_("I have read the consent text to the patient and they agreed."), required=True
    )


class MarkerForm(forms.ModelForm[PhotoMarker]):
    zone = forms.ChoiceField(label=_("Zone"), choices=Zone.choices)
    lesion = forms.ChoiceField(label=_("Lesion"), choices=[("", _("—"))] + list(Lesion.choices), required=False)
    x = forms.IntegerField(label=_("Across (‰ from the left)"), min_value=0, max_value=1000)
    y = forms.IntegerField(label=_("Down (‰ from the top)"), min_value=0, max_value=1000)

    class Meta:
        model = PhotoMarker
        fields = ["zone", "lesion", "x", "y", "note"]
