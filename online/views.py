"""Online booking's pages: public booking and waitlist pages per location, the patient's
signed links (confirm, manage, accept an offer), and the front desk's online page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic import roles
from clinic.accounts.events import client_ip
from clinic.audit import acting_as
from clinic.booking.services import BookingRefused
from clinic.http import AuthenticatedHttpRequest, ClinicHttpRequest
from clinic.models import Appointment, Location, Patient
from online import links, services
from online.forms import BookingForm, CancelForm, SlotPickForm, StaffWaitlistForm, WaitlistJoinForm
from online.models import DuplicateCandidate, OfferStatus, OnlineHold, WaitlistEntry, WaitlistOffer, WaitlistStatus


def as_the_patient[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Attribute every write of a public page to "Patient (online)".

    Entered before the first write: a request's audit context is one row, and once a
    transaction has committed it, later ones may not change whom it names.
    """

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        with acting_as(services.online_user()):
            return view(*args, **kwargs)

    return wrapped


def _location(slug: str) -> Location:
    location = services.location_for_slug(slug)
    if location is None:
        raise Http404
    return location


def _invalid_link(request: ClinicHttpRequest) -> HttpResponse:
    # One page for every bad, tampered or expired link: it reveals nothing about why.
    return render(request, "online/link_invalid.html", status=400)


def _too_many(request: ClinicHttpRequest, location: Location) -> HttpResponse:
    return render(request, "online/too_many.html", {"location": location}, status=429)


@login_not_required
@require_http_methods(["GET"])
def book(request: ClinicHttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    appointment_type = services.consultation_type()
    days = (
        services.public_days(location=location, appointment_type=appointment_type, days=settings.ONLINE_BOOKING_DAYS)
        if appointment_type is not None
        else []
    )
    return render(
        request,
        "online/book.html",
        {"location": location, "appointment_type": appointment_type, "days": days, "slug": slug},
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def book_details(request: ClinicHttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    if request.method == "GET":
        picked = SlotPickForm(request.GET)
        if not picked.is_valid():
            return redirect("online:book", slug=slug)
        form = BookingForm(initial=picked.cleaned_data)
        start = picked.cleaned_data["start"]
    else:
        form = BookingForm(request.POST)
        if form.is_bot():
            # Told nothing: the same page a person gets, and nothing held or sent.
            return redirect("online:book_sent", slug=slug)
        start = None
        if form.is_valid():
            start = form.cleaned_data["start"]
            if not services.online_request_allowed(ip_address=client_ip(request), email=form.cleaned_data["email"]):
                return _too_many(request, location)
            try:
                services.online_hold_create(
                    location=location,
                    start=start,
                    practitioner_id=form.cleaned_data["practitioner"],
                    details=form.details(),
                    ip_address=client_ip(request),
                )
            except BookingRefused as refused:
                form.add_error(None, refused.messages[0])
            else:
                return redirect("online:book_sent", slug=slug)
    return render(
        request,
        "online/book_details.html",
        {
            "location": location,
            "form": form,
            "start": start,
            "slug": slug,
            "hold_minutes": settings.ONLINE_HOLD_MINUTES,
        },
    )


@login_not_required
@require_http_methods(["GET"])
def book_sent(request: ClinicHttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    return render(
        request, "online/book_sent.html", {"location": location, "hold_minutes": settings.ONLINE_HOLD_MINUTES}
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def waitlist_join(request: ClinicHttpRequest, slug: str) -> HttpResponse:
    location = _location(slug)
    appointment_type = services.consultation_type()
    if appointment_type is None:
        raise Http404
    today = location.today()
    form = WaitlistJoinForm(
        request.POST or None, initial={"earliest_date": today, "latest_date": today + timedelta(days=30)}
    )
    if request.method == "POST":
        if form.is_bot():
            return render(request, "online/waitlist_joined.html", {"location": location})
        if form.is_valid():
            data = form.cleaned_data
            if not services.online_request_allowed(ip_address=client_ip(request), email=data["email"]):
                return _too_many(request, location)
            patient = services.patient_match_or_create(details=form.details())
            services.waitlist_join(
                acting_user=None,
                patient=patient,
                appointment_type=appointment_type,
                location=location,
                weekdays=data["weekdays"],
                earliest_time=data["earliest_time"],
                latest_time=data["latest_time"],
                earliest_date=data["earliest_date"],
                latest_date=data["latest_date"],
            )
            return render(request, "online/waitlist_joined.html", {"location": location})
    return render(request, "online/waitlist_join.html", {"location": location, "form": form, "slug": slug})


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def confirm(request: ClinicHttpRequest, token: str) -> HttpResponse:
    hold_id = links.read_hold_token(token)
    if hold_id is None:
        return _invalid_link(request)
    if request.method == "GET":
        hold = OnlineHold.objects.select_related("appointment__location").filter(pk=hold_id).first()
        if hold is None:
            return _hold_gone(request)
        # A GET changes nothing (mail scanners follow links): the page asks for the button.
        return render(request, "online/confirm.html", {"hold": hold, "appointment": hold.appointment, "asking": True})
    outcome, hold = services.online_hold_confirm(hold_id=hold_id)
    if hold is None:
        return _hold_gone(request)
    context: dict[str, Any] = {"hold": hold, "appointment": hold.appointment, "outcome": outcome}
    if outcome == services.HoldOutcome.CONFIRMED:
        context["manage_path"] = services.self_service_path(hold.appointment)
    else:
        context["book_slug"] = services.location_slug(hold.appointment.location)
    return render(request, "online/confirm.html", context)


def _hold_gone(request: ClinicHttpRequest) -> HttpResponse:
    # A link we signed whose hold was released and removed with the record made for it.
    return render(request, "online/confirm.html", {"outcome": services.HoldOutcome.EXPIRED})


def _managed(token: str) -> Appointment | None:
    ids = links.read_manage_token(token)
    if ids is None:
        return None
    appointment_id, patient_id = ids
    return Appointment.objects.with_related().filter(pk=appointment_id, patient_id=patient_id).first()


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def manage(request: ClinicHttpRequest, token: str) -> HttpResponse:
    appointment = _managed(token)
    if appointment is None:
        return _invalid_link(request)
    form = CancelForm(request.POST or None)
    refusal = services.extraction_refusal(appointment) if appointment.is_open else ""
    if request.method == "POST" and form.is_valid() and not refusal:
        try:
            services.patient_cancel(appointment=appointment, reason=form.cleaned_data["reason"])
        except services.SelfServiceRefused:
            pass
        else:
            appointment.refresh_from_db()
            return render(request, "online/manage.html", {"appointment": appointment, "cancelled": True})
    return render(
        request,
        "online/manage.html",
        {
            "appointment": appointment,
            "form": form,
            "token": token,
            "changeable": services.before_cutoff(appointment),
            "refusal": refusal,
            "cutoff_hours": settings.ONLINE_CUTOFF_HOURS,
        },
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def manage_move(request: ClinicHttpRequest, token: str) -> HttpResponse:
    appointment = _managed(token)
    if appointment is None:
        return _invalid_link(request)
    refusal = services.extraction_refusal(appointment) if appointment.is_open else ""
    if not services.before_cutoff(appointment) or refusal:
        return redirect("online:manage", token=token)
    error = ""
    if request.method == "POST":
        picked = SlotPickForm(request.POST)
        if picked.is_valid():
            try:
                services.patient_reschedule(
                    appointment=appointment,
                    start=picked.cleaned_data["start"],
                    practitioner_id=picked.cleaned_data["practitioner"],
                )
            except BookingRefused as refused:
                error = refused.messages[0]
            except services.SelfServiceRefused as refused:
                error = str(refused)
            else:
                appointment.refresh_from_db()
                return render(
                    request, "online/manage.html", {"appointment": appointment, "moved": True, "token": token}
                )
        else:
            error = _("Pick a time from the list.")
    days = services.self_service_days(appointment, days=settings.ONLINE_BOOKING_DAYS)
    return render(
        request, "online/manage_move.html", {"appointment": appointment, "days": days, "error": error, "token": token}
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
@as_the_patient
def offer(request: ClinicHttpRequest, token: str) -> HttpResponse:
    offer_id = links.read_offer_token(token)
    if offer_id is None:
        return _invalid_link(request)
    if request.method == "POST":
        found = services.waitlist_offer_accept(offer_id=offer_id)
    else:
        found = WaitlistOffer.objects.filter(pk=offer_id).first()
    if found is None:
        return _invalid_link(request)
    found = WaitlistOffer.objects.select_related("room__location", "appointment").get(pk=found.pk)
    expired = found.status == OfferStatus.OFFERED and found.expires_at <= timezone.now()
    context = {
        "offer": found,
        "location": found.room.location,
        "asking": request.method == "GET" and found.status == OfferStatus.OFFERED and not expired,
        "expired": expired or found.status == OfferStatus.EXPIRED,
    }
    if found.status == OfferStatus.ACCEPTED and found.appointment is not None:
        context["manage_path"] = services.self_service_path(found.appointment)
    return render(request, "online/offer.html", context)


# --- The front desk ------------------------------------------------------------------------


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
def front_desk_online(request: AuthenticatedHttpRequest) -> HttpResponse:
    location_ids = request.user.location_ids()
    waiting = (
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING, location_id__in=location_ids)
        .select_related("patient", "appointment_type", "location")
        .order_by("created_at", "id")[:200]
    )
    offers = (
        WaitlistOffer.objects.filter(room__location_id__in=location_ids)
        .select_related("entry__patient", "practitioner", "room__location")
        .order_by("-created_at", "-id")[:100]
    )
    duplicates = DuplicateCandidate.objects.filter(resolved_at__isnull=True).select_related("patient", "similar_to")[
        :100
    ]
    locations = list(Location.objects.active().filter(pk__in=location_ids))
    return render(
        request,
        "online/front_desk.html",
        {
            "waiting": waiting,
            "offers": offers,
            "duplicates": duplicates,
            "booking_pages": [(loc, services.location_slug(loc)) for loc in locations],
        },
    )


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
@require_http_methods(["GET", "POST"])
def waitlist_add(request: AuthenticatedHttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    today = timezone.localdate()
    form = StaffWaitlistForm(
        request.POST or None,
        initial={"earliest_date": today, "latest_date": today + timedelta(days=30), "location": request.location},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.waitlist_join(
            acting_user=request.user,
            patient=patient,
            appointment_type=data["appointment_type"],
            location=data["location"],
            weekdays=data["weekdays"],
            earliest_time=data["earliest_time"],
            latest_time=data["latest_time"],
            earliest_date=data["earliest_date"],
            latest_date=data["latest_date"],
            note=data["note"],
        )
        messages.success(request, _("%(name)s is on the waiting list.") % {"name": patient.full_name})
        return redirect("online:front_desk")
    return render(request, "online/waitlist_add.html", {"form": form, "patient": patient})


@permission_required(roles.WORK_FRONT_DESK, raise_exception=True)
@require_POST
def duplicate_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    services.duplicate_resolve(acting_user=request.user, candidate=candidate)
    messages.success(request, _("Marked as checked."))
    return redirect("online:front_desk")
