"""The photo pages: capture with its guide, consent, the gallery, the comparison, the files.

Every page and every file is the ``clinical-photos`` field group (the front desk and the
manager get a 403), and every photo shown writes an access event. Files are only ever sent
by :func:`photo_image` and :func:`photo_thumbnail`, with ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from clinic import field_groups
from clinic.field_groups import FieldGroup
from clinic.http import AuthenticatedHttpRequest, working_location
from clinic.models import Patient
from clinic.services import patient_record_access
from photos import services
from photos.forms import CaptureForm, ConsentForm, MarkerForm
from photos.models import Photo, PhotoConsent, PhotoMarker, Scope, View, photo_storage
from photos.selectors import capture_guide, comparison

NO_STORE = "private, no-store"


def _require(request: AuthenticatedHttpRequest) -> None:
    field_groups.require(request.user, FieldGroup.CLINICAL_PHOTOS)


def _photo(public_id: str) -> Photo:
    return get_object_or_404(Photo.objects.select_related("patient"), public_id=public_id)


def patient_photos(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The capture page: consent, the guide of today's views, the camera inputs, and the photos so far."""
    _require(request)
    patient = get_object_or_404(Patient, pk=pk)
    location = request.location or None
    today = location.today() if location else timezone.localdate()
    guide = capture_guide(patient.pk, today)
    views = [row.view for row in guide] + [view for view in View if view not in {row.view for row in guide}]
    form = CaptureForm(request.POST or None, request.FILES or None, views=views)
    status = 200
    if request.method == "POST":
        place = working_location(request)
        if form.is_valid():
            try:
                stored = services.photo_store(
                    acting_user=request.user,
                    patient=patient,
                    uploads=form.uploads(),
                    context=form.cleaned_data["context"],
                    taken_on=place.today(),
                    zone=ZoneInfo(place.time_zone),
                )
            except services.PhotoRefused as refused:
                field = form.field_name(refused.field) if refused.field else None
                form.add_error(field, refused.messages[0])
            else:
                messages.success(request, _("%(count)d photos stored.") % {"count": len(stored)})
                return redirect("photos:patient_photos", patient.pk)
        status = 400
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="patient_photos")
    by_view = {row.view: row for row in guide}
    capture_rows = [(form[form.field_name(view.value)], by_view.get(view)) for view in views]
    consents = list(PhotoConsent.objects.filter(patient=patient).select_related("recorded_by", "withdrawn_by"))
    holding = {consent.scope: consent for consent in consents if consent.holds}
    return render(
        request,
        "photos/patient_photos.html",
        {
            "patient": patient,
            "form": form,
            "guide": guide,
            "capture_rows": capture_rows,
            "consents": consents,
            "holding": holding,
            "clinical_consent": holding.get(Scope.CLINICAL),
            "teaching_consent": holding.get(Scope.TEACHING),
            "consent_form": ConsentForm(),
            "pairs": comparison(patient),
            "today": today,
        },
        status=status,
    )


@require_POST
def consent_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request)
    patient = get_object_or_404(Patient, pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        consent = services.photo_consent_record(
            acting_user=request.user, patient=patient, scope=form.cleaned_data["scope"]
        )
        messages.success(request, _("Consent recorded: %(scope)s.") % {"scope": consent.get_scope_display()})
    else:
        messages.error(request, _("Choose the scope and confirm that you read the consent text to the patient."))
    return redirect("photos:patient_photos", patient.pk)


@require_POST
def consent_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request)
    consent = get_object_or_404(PhotoConsent, pk=pk)
    services.photo_consent_withdraw(acting_user=request.user, consent=consent)
    messages.success(request, _("Consent withdrawn: %(scope)s.") % {"scope": consent.get_scope_display()})
    return redirect("photos:patient_photos", consent.patient_id)


@require_safe
def compare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Per view, the baseline photo beside a later one, each with that day's counts, GAGS and IGA."""
    _require(request)
    patient = get_object_or_404(Patient, pk=pk)
    view = request.GET.get("view") or None
    if view not in View.values:
        view = None
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="photo_compare")
    pairs = comparison(patient, later_id=request.GET.get("later"), view=view)
    return render(request, "photos/compare.html", {"patient": patient, "pairs": pairs, "view": view})


@require_safe
def photo_detail(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """One photo with its markers (the annotated face map) and the form to add one."""
    _require(request)
    photo = _photo(public_id)
    patient_record_access(acting_user=request.user, patient=photo.patient, request=request, page="photo_detail")
    return render(
        request,
        "photos/photo_detail.html",
        {"photo": photo, "patient": photo.patient, "markers": photo.markers.all(), "form": MarkerForm()},
    )


@require_POST
def marker_add(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    _require(request)
    photo = _photo(public_id)
    form = MarkerForm(request.POST)
    if form.is_valid():
        services.photo_marker_add(
            acting_user=request.user,
            photo=photo,
            zone=form.cleaned_data["zone"],
            lesion=form.cleaned_data["lesion"],
            x=form.cleaned_data["x"],
            y=form.cleaned_data["y"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("Marker added."))
        return redirect(photo)
    patient_record_access(acting_user=request.user, patient=photo.patient, request=request, page="photo_detail")
    return render(
        request,
        "photos/photo_detail.html",
        {"photo": photo, "patient": photo.patient, "markers": photo.markers.all(), "form": form},
        status=400,
    )


@require_POST
def marker_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request)
    marker = get_object_or_404(PhotoMarker.objects.select_related("photo"), pk=pk)
    services.photo_marker_remove(acting_user=request.user, marker=marker)
    messages.success(request, _("Marker removed."))
    return redirect(marker.photo)


def _send(request: AuthenticatedHttpRequest, photo: Photo, name: str, page: str) -> FileResponse:
    patient_record_access(acting_user=request.user, patient=photo.patient, request=request, page=page)
    response = FileResponse(photo_storage().open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = NO_STORE
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def photo_image(request: AuthenticatedHttpRequest, public_id: str) -> FileResponse:
    """The photo itself, to a clinical role only, never cached; one access event per view."""
    _require(request)
    photo = _photo(public_id)
    return _send(request, photo, str(photo.image.name), f"photo {photo.public_id}")


@require_safe
def photo_thumbnail(request: AuthenticatedHttpRequest, public_id: str) -> FileResponse:
    """The thumbnail, or the photo while its thumbnail task has not run yet."""
    _require(request)
    photo = _photo(public_id)
    name = photo.thumbnail.name or photo.image.name
    return _send(request, photo, str(name), f"photo thumbnail {photo.public_id}")
