from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic import field_groups, hooks, roles
from clinic.booking.availability import free_slots, nearest_free_slots
from clinic.booking.services import BookingRefused
from clinic.forms import HandOverForm
from clinic.http import AuthenticatedHttpRequest, ClinicHttpRequest, safe_next, working_location
from clinic.models import Appointment, AppointmentKind
from clinic.roles import Role
from clinic.services import patient_record_access, patients_listed_access
from consultations import services
from consultations.consent import CURRENT_CONSENT_VERSION, consent_text
from consultations.forms import (
    AddendumForm,
    BookSessionForm,
    ConsentForm,
    ConsultationForm,
    LesionCountsForm,
    PlanForm,
    QuestionnaireForm,
    SessionSlotSearchForm,
)
from consultations.grading import LESION_SHORT_LABELS, Lesion
from consultations.models import Consultation, TreatmentPlan
from consultations.questionnaire import questionnaire_appointment_id, questionnaire_url
from consultations.selectors import (
    deferred_due_for_recheck,
    extraction_session_type,
    plan_next_session_number,
    plan_next_session_suggestion,
    specialist_day,
)

LESIONS_PREFIX = "lesions"


def _errors_beside_fields(form: forms.BaseForm, error: ValidationError) -> None:
    """A service's refusal, each message beside its field (or at the top of the form)."""
    by_field = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
    for field, errors in by_field.items():
        form.add_error(field if field in form.fields else None, errors)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The specialist's appointments today (any type), and drafts still awaiting a decision."""
    location = request.location
    if not location:
        return render(request, "consultations/home.html", {"today": [], "awaiting": [], "due_rechecks": []})
    start, end = location.day_bounds(location.today())
    today = specialist_day(location, request.user.pk)
    awaiting = (
        Consultation.objects.drafts()
        .filter(appointment__location_id=location.pk)
        .exclude(appointment__start__gte=start, appointment__start__lt=end)
        .select_related("patient", "appointment")
        .order_by("appointment__start")
    )
    awaiting_list = list(awaiting)
    due_rechecks = deferred_due_for_recheck(location, location.today())
    shown = (
        [item.appointment.patient_id for item in today]
        + [c.patient_id for c in awaiting_list]
        + [c.patient_id for c in due_rechecks]
    )
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="specialist_home")
    return render(
        request, "consultations/home.html", {"today": today, "awaiting": awaiting_list, "due_rechecks": due_rechecks}
    )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
@require_POST
def consultation_start(request: AuthenticatedHttpRequest, appointment_pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.visible_to(request.user), pk=appointment_pk)
    try:
        consultation = services.consultation_start(acting_user=request.user, appointment=appointment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("consultations:home")
    return redirect("consultations:consultation_edit", consultation.pk)


def _consultation(request: AuthenticatedHttpRequest, pk: int) -> Consultation:
    return get_object_or_404(
        Consultation.objects.visible_to(request.user).select_related("patient", "appointment__location", "specialist"),
        pk=pk,
    )


def _consultation_forms(
    request: AuthenticatedHttpRequest, consultation: Consultation
) -> tuple[ConsultationForm, LesionCountsForm]:
    data = request.POST if request.method == "POST" else None
    form = ConsultationForm(data, instance=consultation, unconfirmed=consultation.questionnaire_unconfirmed)
    counts = LesionCountsForm(data, prefix=LESIONS_PREFIX, counts=consultation.lesion_counts)
    return form, counts


def _preview(consultation: Consultation, form: ConsultationForm, counts: LesionCountsForm) -> services.Preview | None:
    """The live decision: from what the form holds now when posted, else from the saved draft."""
    if not form.is_bound:
        values = {name: getattr(consultation, name) for name in services.EDITABLE_FIELDS}
        return services.consultation_preview(
            values=values, lesion_counts=consultation.lesion_counts or {}, override=consultation.override_outcome
        )
    form.is_valid()
    counts.is_valid()
    values = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_FIELDS}
    try:
        return services.consultation_preview(
            values=values, lesion_counts=counts.counts(), override=form.cleaned_data.get("override_outcome") or ""
        )
    except ValueError:
        return None


@require_POST
def consultation_hand_over(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The owner, or a manager when the owner is away, gives a draft to another specialist."""
    if not (request.user.has_perm(roles.WORK_CONSULTATIONS) or request.user.has_perm(roles.MANAGE_CLINIC)):
        raise PermissionDenied
    consultation = _consultation(request, pk)
    form = HandOverForm(request.POST, role=Role.SPECIALIST, exclude_id=consultation.specialist_id)
    if not form.is_valid():
        messages.error(request, _("Choose a specialist and say why the consultation is handed over."))
    else:
        try:
            services.consultation_hand_over(
                acting_user=request.user,
                consultation=consultation,
                to_user=form.cleaned_data["to_user"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(
                request,
                _("Handed over to %(name)s.") % {"name": form.cleaned_data["to_user"].display_name},
            )
    return redirect(consultation.appointment)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def consultation_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    patient_record_access(acting_user=request.user, patient=consultation.patient, request=request, page="consultation")
    if consultation.is_signed:
        return redirect(consultation)
    form, counts = _consultation_forms(request, consultation)
    if request.method == "POST" and form.is_valid() & counts.is_valid():
        sign = "sign" in request.POST
        action = services.consultation_sign if sign else services.consultation_save_draft
        try:
            action(
                acting_user=request.user,
                consultation=consultation,
                values=form.values(),
                lesion_counts=counts.counts(),
                override_outcome=form.cleaned_data["override_outcome"],
                override_reason=form.cleaned_data["override_reason"],
                confirmed=form.confirmed(),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            if sign:
                messages.success(request, _("Consultation signed."))
                return redirect(consultation)
            messages.success(request, _("Draft saved."))
            return redirect("consultations:consultation_edit", consultation.pk)
    context = {
        "consultation": consultation,
        "form": form,
        "counts": counts,
        "preview": _preview(consultation, form, counts),
        "questionnaire_answers": QuestionnaireForm.labelled(consultation.questionnaire_answers or {}),
    }
    return render(
        request, "consultations/consultation_form.html", context, status=400 if form.errors or counts.errors else 200
    )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
@require_POST
def consultation_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """htmx: the GAGS grade and the rules' decision for what the form holds now. Saves nothing."""
    consultation = _consultation(request, pk)
    form, counts = _consultation_forms(request, consultation)
    return render(
        request,
        "consultations/consultation_form.html#decision",
        {"consultation": consultation, "form": form, "counts": counts, "preview": _preview(consultation, form, counts)},
    )


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def consultation_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    patient_record_access(acting_user=request.user, patient=consultation.patient, request=request, page="consultation")
    plan = TreatmentPlan.objects.filter(consultation_id=consultation.pk).first()
    context = {
        "consultation": consultation,
        "addenda": consultation.addenda.select_related("author"),
        "addendum_form": AddendumForm(),
        "lesion_types": [(lesion, LESION_SHORT_LABELS[lesion]) for lesion in Lesion],
        "plan": plan,
        "questionnaire_link": None
        if consultation.is_signed
        else questionnaire_url(appointment_id=consultation.appointment_id),
    }
    return render(request, "consultations/consultation_detail.html", context)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
@require_POST
def consultation_addendum(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.consultation_add_addendum(
                acting_user=request.user, consultation=consultation, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Addendum added."))
    else:
        messages.error(request, _("Write the addendum."))
    return redirect(consultation)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def plan_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    consultation = _consultation(request, pk)
    patient_record_access(acting_user=request.user, patient=consultation.patient, request=request, page="plan_create")
    existing = TreatmentPlan.objects.filter(consultation_id=consultation.pk).first()
    if existing is not None:
        return redirect(existing)
    if not consultation.allows_treatment_plan:
        messages.error(request, _("A treatment plan follows a signed consultation that recommends extraction."))
        return redirect(consultation)
    form = PlanForm(request.POST or None, starts_on=consultation.plan_starts_on())
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(acting_user=request.user, consultation=consultation, **form.cleaned_data)
        except ValidationError as error:
            _errors_beside_fields(form, error)
        else:
            messages.success(request, _("Treatment plan saved."))
            return redirect(plan)
    context = {
        "consultation": consultation,
        "form": form,
        "consent_text": consent_text(),
        "consent_version": CURRENT_CONSENT_VERSION,
    }
    return render(request, "consultations/plan_form.html", context, status=400 if form.errors else 200)


def _plan(pk: int) -> TreatmentPlan:
    return get_object_or_404(
        TreatmentPlan.objects.with_sessions_booked().select_related("patient", "consultation__appointment__location"),
        pk=pk,
    )


def _plan_detail_page(
    request: AuthenticatedHttpRequest, plan: TreatmentPlan, consent_form: ConsentForm | None = None
) -> HttpResponse:
    sessions = plan.sessions.select_related("appointment__practitioner", "appointment__room")
    consent_form = consent_form or ConsentForm()
    context = {
        "plan": plan,
        "sessions": sessions,
        "next_number": plan_next_session_number(plan),
        "consent_form": consent_form,
        "consent_text": consent_text(plan.consent_version or CURRENT_CONSENT_VERSION),
    }
    return render(request, "consultations/plan_detail.html", context, status=400 if consent_form.errors else 200)


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def plan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    patient_record_access(acting_user=request.user, patient=plan.patient, request=request, page="plan_detail")
    return _plan_detail_page(request, plan)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
@require_POST
def plan_consent(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The patient's typed name, checked against their record; a refusal shows beside the field."""
    plan = _plan(pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.plan_record_consent(
                acting_user=request.user, plan=plan, consent_name=form.cleaned_data["consent_name"]
            )
        except ValidationError as error:
            _errors_beside_fields(form, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect(plan)
    return _plan_detail_page(request, plan, form)


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def plans_to_book(request: AuthenticatedHttpRequest) -> HttpResponse:
    plans = (
        TreatmentPlan.objects.active()
        .consented()
        .with_sessions_to_book()
        .select_related("patient")
        .order_by("created_at")
    )
    return render(request, "consultations/plan_list.html", {"plans": plans})


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def plan_book_session(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Book the plan's next session from the free-time finder, starting at its suggested date."""
    plan = _plan(pk)
    patient_record_access(acting_user=request.user, patient=plan.patient, request=request, page="plan_book_session")
    number = plan_next_session_number(plan)
    if number is None:
        messages.info(request, _("Every session of this plan is booked."))
        return redirect(plan)
    location = working_location(request)
    appointment_type = extraction_session_type()
    if appointment_type is None:
        messages.error(request, _("No extraction session type is set up. Ask the clinic manager."))
        return redirect(plan)
    suggestion = plan_next_session_suggestion(plan, location)
    form = BookSessionForm(request.POST or None, location=location)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.plan_book_session(
                acting_user=request.user, plan=plan, appointment_type=appointment_type, **form.cleaned_data
            )
        except BookingRefused as error:
            form.add_error(error.field if error.field in form.fields else None, error.messages)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Session %(number)s booked.") % {"number": session.number})
            return redirect(plan)
    suggested_day = max(suggestion.start.date(), location.today())
    search = SessionSlotSearchForm(
        request.GET if "day" in request.GET else None,
        initial={"day": suggested_day, "practitioner": suggestion.practitioner_id},
        auto_id="find_%s",
    )
    if search.is_bound and search.is_valid():
        day, practitioner = search.cleaned_data["day"], search.cleaned_data["practitioner"]
    else:
        day = suggested_day
        # The aesthetician of the plan's latest session, while she still does the work.
        practitioner = (
            search.aestheticians().filter(pk=suggestion.practitioner_id).first() if suggestion.practitioner_id else None
        )
    slots = free_slots(appointment_type=appointment_type, location=location, day=day, practitioner=practitioner)
    # Nothing free that day (a Sunday, a full day): the nearest free times around the suggestion.
    nearest = (
        []
        if slots
        else nearest_free_slots(
            appointment_type=appointment_type,
            location=location,
            around=max(datetime.combine(day, suggestion.start.timetz()), timezone.now()),
            practitioner=practitioner,
        )
    )
    context: dict[str, Any] = {
        "plan": plan,
        "form": form,
        "number": number,
        "search": search,
        "day": day,
        "slots": slots,
        "nearest": nearest,
        "suggestion": suggestion,
    }
    if request.htmx:
        return render(request, "consultations/plan_book.html#slots", context)
    return render(request, "consultations/plan_book.html", context, status=400 if form.errors else 200)


@require_POST
def questionnaire_link_send(request: AuthenticatedHttpRequest, appointment_pk: int) -> HttpResponse:
    """Email the pre-visit link to the patient, through the aftercare outbox."""
    field_groups.require(request.user, field_groups.FieldGroup.QUESTIONNAIRE_LINK)
    appointment = get_object_or_404(
        Appointment.objects.visible_to(request.user)
        .with_related()
        .filter(appointment_type__kind=AppointmentKind.CONSULTATION),
        pk=appointment_pk,
    )
    patient = appointment.patient
    if not patient.email:
        messages.error(
            request, _("%(name)s has no email address: copy the link instead.") % {"name": patient.full_name}
        )
    elif not patient.email_consent:
        messages.error(
            request, _("%(name)s has not agreed to email: copy the link instead.") % {"name": patient.full_name}
        )
    elif hooks.questionnaire_link_send(
        acting_user=request.user, appointment=appointment, link=questionnaire_url(appointment_id=appointment.pk)
    ):
        messages.success(request, _("The questionnaire link is on its way to %(email)s.") % {"email": patient.email})
    else:
        messages.info(request, _("The link was just sent; it is not sent twice in a minute."))
    return redirect(safe_next(request, appointment.get_absolute_url()))


@login_not_required
@never_cache
def questionnaire(request: ClinicHttpRequest, token: str) -> HttpResponse:
    """The patient's pre-visit questionnaire, opened from a signed, expiring link."""
    appointment_id = questionnaire_appointment_id(token)
    appointment = (
        Appointment.objects.select_related("patient", "location", "appointment_type").filter(pk=appointment_id).first()
        if appointment_id is not None
        else None
    )
    if appointment is None:
        return render(request, "consultations/questionnaire_invalid.html", status=404)
    form = QuestionnaireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.questionnaire_submit(appointment=appointment, answers=form.cleaned_data)
        except ValidationError as error:
            return render(request, "consultations/questionnaire_done.html", {"message": " ".join(error.messages)})
        return render(request, "consultations/questionnaire_done.html", {})
    already = Consultation.objects.filter(
        appointment_id=appointment.pk, questionnaire_received_at__isnull=False
    ).exists()
    if already:
        return render(
            request,
            "consultations/questionnaire_done.html",
            {"message": _("Your answers have already reached the clinic.")},
        )
    # The patient is not signed in, so no location's zone is active: show the clinic's local time.
    when = appointment.location.local(appointment.start)
    return render(request, "consultations/questionnaire.html", {"form": form, "when": when})


def questionnaire_link(request: AuthenticatedHttpRequest, appointment_pk: int) -> HttpResponse:
    """Staff copy the patient's pre-visit link from here (email sending comes with the outbox)."""
    field_groups.require(request.user, field_groups.FieldGroup.QUESTIONNAIRE_LINK)
    appointment = get_object_or_404(
        Appointment.objects.visible_to(request.user)
        .with_related()
        .filter(appointment_type__kind=AppointmentKind.CONSULTATION),
        pk=appointment_pk,
    )
    patient_record_access(
        acting_user=request.user, patient=appointment.patient, request=request, page="questionnaire_link"
    )
    consultation = Consultation.objects.filter(appointment_id=appointment.pk).first()
    context = {
        "appointment": appointment,
        "link": questionnaire_url(appointment_id=appointment.pk),
        "received_at": consultation.questionnaire_received_at if consultation else None,
    }
    return render(request, "consultations/questionnaire_link.html", context)
