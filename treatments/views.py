from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic import roles
from clinic.forms import HandOverForm
from clinic.http import AuthenticatedHttpRequest
from clinic.models import Appointment, Patient
from clinic.roles import Role
from clinic.services import patient_record_access, patients_listed_access
from consultations.forms import LesionCountsForm
from consultations.grading import Counts, Lesion, Zone
from consultations.models import TreatmentPlan
from consultations.selectors import plan_summary
from treatments import services
from treatments.forms import (
    AddendumForm,
    ExtractedLesionsForm,
    ProductForm,
    ProductLotForm,
    ProgressReviewForm,
    RescreenForm,
    ResumeProgrammeForm,
    SessionLogForm,
)
from treatments.models import Product, ProductLot, SessionStatus, SpecialistAlert, TreatmentSession
from treatments.rescreen import RESCREEN_RULES_BY_ID, RescreenRule, rescreen
from treatments.selectors import sessions_today, treatment_record

EXTRACTED_PREFIX = "extracted"
PRESENT_PREFIX = "present"
CLINICAL = (roles.WORK_TREATMENTS, roles.WORK_CONSULTATIONS)


def _require_clinical(request: AuthenticatedHttpRequest) -> None:
    """Treatment records are for the clinical roles: the aesthetician and the specialist."""
    if not any(request.user.has_perm(perm) for perm in CLINICAL):
        raise PermissionDenied(_("Treatment records are not available to your role."))


def _session(request: AuthenticatedHttpRequest, pk: int) -> TreatmentSession:
    return get_object_or_404(TreatmentSession.objects.visible_to(request.user).with_related(), pk=pk)


def _refused(form: forms.BaseForm, error: services.SessionRefused) -> None:
    """Put a service refusal beside its field, or at the top of the form.

    An incomplete signing lists every missing entry at the top and marks each beside its field.
    """
    if isinstance(error, services.SessionIncomplete):
        form.add_error(None, error.messages[0])
        for field, message in error.problems:
            form.add_error(field if field in form.fields else None, message)
        return
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.messages[0])


# --- The aesthetician's day ---------------------------------------------------------------


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    location = request.location
    if not location:
        return render(request, "treatments/home.html", {"day": [], "today": None})
    day = sessions_today(location)
    shown = (d.appointment.patient_id for d in day)
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="aesthetician_home")
    return render(request, "treatments/home.html", {"day": day, "today": location.today()})


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
@require_POST
def session_start(request: AuthenticatedHttpRequest, appointment_pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.visible_to(request.user), pk=appointment_pk)
    try:
        session = services.session_start(acting_user=request.user, appointment=appointment)
    except services.SessionRefused as error:
        messages.error(request, error.messages[0])
        return redirect("treatments:home")
    return redirect("treatments:session_rescreen", session.pk)


@require_POST
def session_hand_over(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The owner, or a manager when the owner is away, gives an open session to another aesthetician."""
    if not (request.user.has_perm(roles.WORK_TREATMENTS) or request.user.has_perm(roles.MANAGE_CLINIC)):
        raise PermissionDenied
    session = _session(request, pk)
    form = HandOverForm(request.POST, role=Role.AESTHETICIAN, exclude_id=session.aesthetician_id)
    if not form.is_valid():
        messages.error(request, _("Choose an aesthetician and say why the session is handed over."))
    else:
        try:
            services.session_hand_over(
                acting_user=request.user,
                session=session,
                to_user=form.cleaned_data["to_user"],
                reason=form.cleaned_data["reason"],
            )
        except services.SessionRefused as refused:
            messages.error(request, refused.messages[0])
        else:
            messages.success(
                request,
                _("Handed over to %(name)s.") % {"name": form.cleaned_data["to_user"].display_name},
            )
    return redirect(session.appointment)


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
def session_rescreen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    patient_record_access(acting_user=request.user, patient=session.patient, request=request, page="session_rescreen")
    if session.status != SessionStatus.RESCREEN:
        return redirect(session.get_absolute_url() if session.is_final else "treatments:session_log", session.pk)
    plan = session.plan
    form = RescreenForm(request.POST or None, retinoid_expected=plan is not None and plan.expects_retinoid)
    stopping: list[RescreenRule] = []
    if request.method == "POST" and form.is_valid():
        # A stop cancels the appointment and holds the programme: the aesthetician sees why and
        # confirms first. This step writes nothing; the same answers with the confirmation do.
        preview = rescreen(form.answers())
        if preview.stopped and request.POST.get("confirm_stop") != "1":
            stopping = [RESCREEN_RULES_BY_ID[r] for r in preview.reasons if r in RESCREEN_RULES_BY_ID]
            return render(
                request,
                "treatments/session_rescreen.html",
                {"session": session, "form": form, "plan": plan_summary(session.patient_id), "stopping": stopping},
            )
        result = services.session_rescreen(
            acting_user=request.user, session=session, answers=form.answers(), notes=form.cleaned_data["notes"]
        )
        if result.stopped:
            messages.warning(
                request, _("Session stopped: the appointment is cancelled and the specialist has been told.")
            )
            return redirect("treatments:session_detail", session.pk)
        messages.success(request, _("Re-screen clear: go ahead with the session."))
        return redirect("treatments:session_log", session.pk)
    return render(
        request,
        "treatments/session_rescreen.html",
        {"session": session, "form": form, "plan": plan_summary(session.patient_id)},
    )


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
def session_log(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    patient_record_access(acting_user=request.user, patient=session.patient, request=request, page="session_log")
    if session.status == SessionStatus.RESCREEN:
        return redirect("treatments:session_rescreen", session.pk)
    if session.is_final:
        return redirect(session.get_absolute_url())
    today = session.appointment.location.today()
    lancet_refusal = services.lancet_refusal(acting_user=request.user, patient_id=session.patient_id)
    if request.method == "POST":
        form = SessionLogForm(request.POST, today=today, lancet_refusal=lancet_refusal)
        counts = ExtractedLesionsForm(request.POST, prefix=EXTRACTED_PREFIX)
        present = LesionCountsForm(request.POST, prefix=PRESENT_PREFIX)
        if form.is_valid() and counts.is_valid() and present.is_valid():
            signing = request.POST.get("action") == "sign"
            try:
                if signing:
                    services.session_sign(acting_user=request.user, session=session, log=form.to_log(counts, present))
                else:
                    services.session_log_save(
                        acting_user=request.user, session=session, log=form.to_log(counts, present)
                    )
            except services.SessionRefused as error:
                _refused(form, error)
            else:
                if signing:
                    messages.success(request, _("Session signed and locked."))
                    return redirect(session.get_absolute_url())
                messages.success(request, _("Log saved."))
                return redirect("treatments:session_log", session.pk)
    else:
        form = SessionLogForm(initial=SessionLogForm.initial_from(session), today=today, lancet_refusal=lancet_refusal)
        counts = ExtractedLesionsForm(counts=session.lesions_extracted, prefix=EXTRACTED_PREFIX)
        present = LesionCountsForm(counts=session.lesions_present, prefix=PRESENT_PREFIX)
    return render(
        request,
        "treatments/session_log.html",
        {
            "session": session,
            "form": form,
            "counts": counts,
            "present": present,
            "plan": plan_summary(session.patient_id),
        },
    )


def extracted_rows(counts: Counts) -> list[tuple[str, list[tuple[str, int]]]]:
    """The non-zero counts as (zone label, [(lesion label, count)]) in the face map's order."""
    return [
        (
            str(zone.label),
            [
                (str(lesion.label), counts[zone.value][lesion.value])
                for lesion in Lesion
                if counts[zone.value].get(lesion.value)
            ],
        )
        for zone in Zone
        if any(counts.get(zone.value, {}).values())
    ]


def session_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_clinical(request)
    session = _session(request, pk)
    patient_record_access(acting_user=request.user, patient=session.patient, request=request, page="session_detail")
    may_add = session.is_final and request.user.pk in (session.signed_by_id, session.aesthetician_id)
    return render(
        request,
        "treatments/session_detail.html",
        {
            "session": session,
            "addenda": session.addenda.select_related("author"),
            "addendum_form": AddendumForm() if may_add else None,
            "rescreen_rules": [RESCREEN_RULES_BY_ID[r] for r in session.rescreen_reasons if r in RESCREEN_RULES_BY_ID],
            "extracted": extracted_rows(session.lesions_extracted),
            "present": extracted_rows(session.lesions_present),
        },
    )


@permission_required(roles.WORK_TREATMENTS, raise_exception=True)
@require_POST
def session_addendum(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.session_add_addendum(acting_user=request.user, session=session, text=form.cleaned_data["text"])
        except services.SessionRefused as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("Addendum added."))
    else:
        messages.error(request, _("Write the addendum."))
    return redirect(session.get_absolute_url())


# --- Progress -----------------------------------------------------------------------------


def treatment_record_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The patient's treatment record: plan, signed sessions and the lesion trend, printable."""
    _require_clinical(request)
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="treatment_progress")
    return render(
        request, "treatments/treatment_record.html", {"patient": patient, "record": treatment_record(patient)}
    )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def progress_review(request: AuthenticatedHttpRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(TreatmentPlan.objects.select_related("patient", "consultation"), pk=plan_pk)
    patient = plan.patient
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="progress_review")
    form = ProgressReviewForm(request.POST or None)
    present = LesionCountsForm(request.POST or None, prefix=PRESENT_PREFIX)
    if request.method == "POST" and form.is_valid() and present.is_valid():
        try:
            services.progress_review_decide(
                acting_user=request.user,
                plan=plan,
                decision=form.cleaned_data["decision"],
                notes=form.cleaned_data["notes"],
                sessions_planned=form.cleaned_data["sessions_planned"],
                lesions_present=present.counts(),
                iga=form.cleaned_data["iga"],
            )
        except services.SessionRefused as error:
            _refused(form, error)
        else:
            messages.success(request, _("Progress review recorded."))
            return redirect("treatments:progress_review", plan.pk)
    record = treatment_record(patient)
    baseline = record.trend.baseline
    latest = record.trend.latest if record.trend.has_comparison else None
    baseline_map = LesionCountsForm(counts=baseline.point.counts if baseline else {}, prefix="baseline")
    latest_map = LesionCountsForm(counts=latest.point.counts if latest else {}, prefix="latest")
    for face_map in (baseline_map, latest_map):
        for field in face_map.fields.values():
            field.disabled = True
    return render(
        request,
        "treatments/progress_review.html",
        {
            "plan": plan,
            "patient": patient,
            "record": record,
            "form": form,
            "present": present,
            "baseline_map": baseline_map,
            "latest_map": latest_map,
            "reviews": plan.progress_reviews.select_related("specialist"),
        },
    )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
@require_POST
def alert_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(SpecialistAlert, pk=pk)
    services.specialist_alert_resolve(acting_user=request.user, alert=alert)
    messages.success(request, _("Marked as seen."))
    return redirect("consultations:home")


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def alert_resume(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The specialist's re-assessment after a stop: a written note resumes the programme."""
    alert = get_object_or_404(
        SpecialistAlert.objects.select_related("patient", "session__aesthetician", "session__plan"), pk=pk
    )
    patient_record_access(acting_user=request.user, patient=alert.patient, request=request, page="alert_resume")
    form = ResumeProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.programme_resume(acting_user=request.user, alert=alert, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Programme resumed: the patient is cleared again."))
            return redirect("consultations:home")
    return render(
        request,
        "treatments/alert_resume.html",
        {"alert": alert, "form": form, "plan": alert.session.plan},
        status=400 if form.errors else 200,
    )


# --- The product catalogue (manager) -------------------------------------------------------


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def product_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    products = Product.objects.prefetch_related("lots").order_by("-is_active", "name")
    location = request.location
    today = location.today() if location else None
    return render(request, "treatments/product_list.html", {"products": products, "today": today})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def product_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _product_form(request, Product())


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def product_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _product_form(request, get_object_or_404(Product, pk=pk))


def _product_form(request: AuthenticatedHttpRequest, product: Product) -> HttpResponse:
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        saved = services.product_save(acting_user=request.user, product=form.save(commit=False))
        messages.success(request, _("Saved %(name)s.") % {"name": saved.name})
        return redirect("treatments:product_list")
    return render(request, "treatments/product_form.html", {"form": form, "product": product})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def lot_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    form = ProductLotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.product_lot_add(acting_user=request.user, product=product, **form.cleaned_data)
        except services.SessionRefused as error:
            _refused(form, error)
        else:
            messages.success(request, _("Lot %(lot)s added.") % {"lot": lot.lot_number})
            return redirect("treatments:product_list")
    return render(request, "treatments/lot_form.html", {"form": form, "product": product})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
@require_POST
def lot_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lot = get_object_or_404(ProductLot, pk=pk)
    services.product_lot_withdraw(acting_user=request.user, lot=lot)
    messages.success(request, _("Lot %(lot)s is no longer offered.") % {"lot": lot.lot_number})
    return redirect("treatments:product_list")
