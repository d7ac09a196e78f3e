from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from aftercare import links, selectors, services
from aftercare.defaults import DEFAULT_BOOKING, DEFAULT_SEQUENCE, PLACEHOLDERS
from aftercare.forms import CheckInNoteForm, MessageTemplateForm, QueueResolveForm
from aftercare.models import (
    AppointmentReply,
    AppointmentReplyAnswer,
    CheckIn,
    LinkOutcome,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    SpecialistQueueEntry,
)
from clinic import field_groups, roles
from clinic import hooks as clinic_hooks
from clinic.http import AuthenticatedHttpRequest, ClinicHttpRequest, safe_next, working_location
from clinic.models import Patient
from clinic.services import patient_record_access, patients_listed_access

FIGURES_DAYS = 30


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    since = timezone.now() - timedelta(days=FIGURES_DAYS)
    failed = selectors.failed_messages()
    context = {
        "figures": selectors.delivery_figures(since=since),
        "failed": failed,
        "mail_server": selectors.mail_server_refusing(),
        "days": FIGURES_DAYS,
    }
    shown = (m.patient_id for m in failed)
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="aftercare_dashboard")
    return render(request, "aftercare/dashboard.html", context)


@require_POST
@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def message_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    if services.message_retry(acting_user=request.user, message=message):
        messages.success(request, _("The message will be sent again now."))
    else:
        messages.info(request, _("That message is no longer failed; nothing to retry."))
    return redirect("aftercare:dashboard")


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def sequence(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Every kind and variant, in the order a patient receives them (variants beside their standard step).
    templates = services.message_template_variants()
    steps = [templates[(s.kind, s.variant)] for s in DEFAULT_SEQUENCE if (s.kind, s.variant) in templates]
    booking_steps = [templates[(s.kind, s.variant)] for s in DEFAULT_BOOKING if (s.kind, s.variant) in templates]
    return render(request, "aftercare/sequence.html", {"steps": steps, "booking_steps": booking_steps})


@permission_required(roles.MANAGE_CLINIC, raise_exception=True)
def template_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Edit a step. "Preview" shows the text as unsaved; "Send a test to me" mails it to the manager."""
    template = get_object_or_404(MessageTemplate, pk=pk)
    location = working_location(request)
    form = MessageTemplateForm(request.POST or None, instance=template)
    action = request.POST.get("action", "save")
    subject, body_text = template.subject, template.body_text
    if request.method == "POST" and form.is_valid():
        subject, body_text = form.cleaned_data["subject"], form.cleaned_data["body_text"]
        if action == "save":
            services.message_template_update(acting_user=request.user, template=template, **form.cleaned_data)
            messages.success(request, _("“%(name)s” saved.") % {"name": template.label})
            return redirect("aftercare:sequence")
        if action == "test":
            sent = services.message_template_test_send(
                acting_user=request.user, template=template, location=location, subject=subject, body_text=body_text
            )
            if sent is None:
                messages.error(request, _("Your account has no email address to send the test to."))
            else:
                messages.success(
                    request,
                    _("A test of this text is on its way to %(email)s. It is not saved yet.")
                    % {"email": request.user.email},
                )
    preview = services.message_template_preview(
        template=template, location=location, subject=subject, body_text=body_text
    )
    context = {"form": form, "template": template, "placeholders": PLACEHOLDERS, "preview": preview}
    return render(request, "aftercare/template_edit.html", context)


@permission_required(roles.VIEW_PATIENT, raise_exception=True)
def patient_messages(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    field_groups.require(request.user, field_groups.FieldGroup.MESSAGE_CONTENTS)
    patient = get_object_or_404(Patient, pk=pk)
    patient_record_access(acting_user=request.user, patient=patient, request=request, page="aftercare_messages")
    context = {"show": True, "patient": patient, "patient_message_list": selectors.patient_messages(patient.pk)}
    template = "aftercare/patient_messages.html"
    if request.htmx:
        template += "#messages"
    return render(request, template, context)


@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def specialist_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    template = "aftercare/specialist_queue.html"
    if request.htmx:
        template += "#queue"
    entries = selectors.open_queue()
    shown = (e.patient_id for e in entries)
    patients_listed_access(acting_user=request.user, patient_ids=shown, request=request, page="specialist_queue")
    return render(request, template, {"queue_entries": entries, "resolve_form": QueueResolveForm()})


@require_POST
@permission_required(roles.WORK_CONSULTATIONS, raise_exception=True)
def queue_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(SpecialistQueueEntry, pk=pk)
    form = QueueResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was done before closing the entry."))
        return redirect("aftercare:specialist_queue")
    if services.queue_entry_resolve(acting_user=request.user, entry=entry, resolution=form.cleaned_data["resolution"]):
        messages.success(request, _("Closed: %(patient)s.") % {"patient": entry.patient.full_name})
    return redirect("aftercare:specialist_queue")


@require_POST
@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def reschedule_request_handled(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Take a patient's "I need another time" off the front desk's worklist."""
    reply = get_object_or_404(
        AppointmentReply.objects.select_related("appointment__patient"),
        pk=pk,
        appointment__location_id__in=request.user.location_ids(),
    )
    if services.reschedule_request_handle(acting_user=request.user, reply=reply):
        messages.success(request, _("Handled: %(patient)s.") % {"patient": reply.appointment.patient.full_name})
    return redirect(safe_next(request, reverse("clinic:front_desk_home")))


# --- Patients' pages (from email links: no sign-in) ------------------------------------


def _invalid_link(request: ClinicHttpRequest) -> HttpResponse:
    # One page for every bad, tampered or expired link: it reveals nothing about why.
    return render(request, "aftercare/link_invalid.html", status=400)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def checkin(request: ClinicHttpRequest, token: str) -> HttpResponse:
    # GET only shows the answer the link stands for and a button: mail scanners follow links.
    link = links.read_checkin_token(token)
    if link is None:
        return _invalid_link(request)
    message = services.patient_message_for_link(message_token=link.message_token, kind=MessageKind.CHECKIN_DAY1)
    if message is None:
        return _invalid_link(request)
    context: dict[str, object] = {"message": message, "answer": link.answer, "location": message.location}
    if request.method == "POST" and "note" in request.POST:
        found = CheckIn.objects.filter(message=message).first()
        if found is None:
            return _invalid_link(request)
        form = CheckInNoteForm(request.POST)
        if not form.is_valid():
            return render(request, "aftercare/checkin.html", {**context, "checkin": found, "form": form}, status=400)
        result = services.checkin_note_add(checkin=found, note=form.cleaned_data["note"])
        return render(
            request,
            "aftercare/checkin.html",
            {**context, "checkin": result.checkin, "note_saved": result.recorded, "note_refused": not result.recorded},
        )
    if request.method == "POST":
        answered = services.checkin_answer(message_token=link.message_token, answer=link.answer)
        if answered is None:
            return _invalid_link(request)
        context.update(outcome=answered.outcome, checkin=answered.checkin, just_recorded=answered.recorded)
    else:
        found = CheckIn.objects.filter(message=message).first()
        cancelled = message.status == MessageStatus.CANCELLED
        context.update(
            checkin=found,
            outcome=LinkOutcome.CANCELLED if cancelled else (LinkOutcome.ALREADY_ANSWERED if found else None),
        )
    checkin = context.get("checkin")
    if isinstance(checkin, CheckIn) and not checkin.note and context["outcome"] != LinkOutcome.CANCELLED:
        context["form"] = CheckInNoteForm()
    return render(request, "aftercare/checkin.html", context)


@login_not_required
@never_cache
@csrf_exempt  # RFC 8058 one-click unsubscribe: mail providers POST without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: ClinicHttpRequest, token: str) -> HttpResponse:
    """GET asks; POST (the page's button, or a mail provider's one-click) unsubscribes.

    The signed token in the URL is what authorises the POST (RFC 8058 section 3), so no
    CSRF token: a forged POST can only do what the link's owner asked for.
    """
    message_token = links.read_unsubscribe_token(token)
    if message_token is None:
        return _invalid_link(request)
    if request.method == "GET":
        if services.patient_message_for_link(message_token=message_token) is None:
            return _invalid_link(request)
        return render(request, "aftercare/unsubscribe_confirm.html")
    patient = services.patient_email_unsubscribe(message_token=message_token)
    if patient is None:
        return _invalid_link(request)
    return render(request, "aftercare/unsubscribed.html")


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def appointment_reply(request: ClinicHttpRequest, token: str) -> HttpResponse:
    link = links.read_booking_token(token)
    if link is None:
        return _invalid_link(request)
    message = services.patient_message_for_link(message_token=link.message_token, kind=MessageKind.BOOKING_REMINDER)
    if message is None:
        return _invalid_link(request)
    if request.method == "POST":
        result = services.appointment_reply_record(message_token=link.message_token, answer=link.answer)
        if result is None:
            return _invalid_link(request)
        outcome, reply, asking = result.outcome, result.reply, False
    else:
        outcome, _appointment = services.reminder_link_state(message=message)
        reply, asking = None, outcome == LinkOutcome.RECORDED
    context = {
        "answer": link.answer,
        "outcome": outcome,
        "reply": reply,
        "asking": asking,
        "location": message.location,
    }
    if reply is not None and reply.answer == AppointmentReplyAnswer.RESCHEDULE:
        # "I need another time" leads straight to the page where the patient picks one (online).
        context["choose_path"] = clinic_hooks.self_service_path(reply.appointment)
    return render(request, "aftercare/appointment_reply.html", context)
