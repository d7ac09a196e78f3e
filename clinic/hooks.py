"""The few places where the clinic core asks the apps built on it, without importing them.

Dependencies run one way: ``consultations``, ``treatments`` and ``aftercare`` import
``clinic``, never the reverse (``treatments → consultations → clinic``, ``aftercare →
clinic``). Yet booking needs answers only those apps have: a booking schedules aftercare's
messages, an extraction session needs consultations' clearance, the day grid shows the
patient's reply to a reminder, and the demo loader seeds every app. Each such call goes
through a registration point below, which the owning app fills in from its
``AppConfig.ready()``. Plain typed functions, no Django signals: one look here lists
everything the core hands upward, and an unregistered point has a safe default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from django.db.models import BooleanField, CharField, Value
from django.db.models.expressions import BaseExpression
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from clinic.models import Appointment, Location, Patient, User


class AppointmentListener(Protocol):
    def __call__(self, *, appointment: Appointment) -> None: ...


class BookingListeners:
    """Called by the booking services, at the moment each docstring states.

    A listener decides its own transaction timing: aftercare's schedules messages after the
    booking commits (``transaction.on_commit(..., robust=True)``) and cancels them inside
    the cancellation's transaction.
    """

    def __init__(self) -> None:
        self._booked: list[AppointmentListener] = []
        self._rescheduled: list[AppointmentListener] = []
        self._cancelled: list[AppointmentListener] = []
        self._status_changed: list[AppointmentListener] = []

    def register(
        self,
        *,
        booked: AppointmentListener | None = None,
        rescheduled: AppointmentListener | None = None,
        cancelled: AppointmentListener | None = None,
        status_changed: AppointmentListener | None = None,
    ) -> None:
        for listeners, listener in (
            (self._booked, booked),
            (self._rescheduled, rescheduled),
            (self._cancelled, cancelled),
            (self._status_changed, status_changed),
        ):
            if listener is not None and listener not in listeners:
                listeners.append(listener)

    def booked(self, *, appointment: Appointment) -> None:
        """Right after the appointment's INSERT, inside the booking's transaction if any."""
        for listener in self._booked:
            listener(appointment=appointment)

    def rescheduled(self, *, appointment: Appointment) -> None:
        """Inside the move's transaction, after the new time is saved."""
        for listener in self._rescheduled:
            listener(appointment=appointment)

    def cancelled(self, *, appointment: Appointment) -> None:
        """Inside the cancellation's transaction, after the status is saved."""
        for listener in self._cancelled:
            listener(appointment=appointment)

    def status_changed(self, *, appointment: Appointment) -> None:
        """Inside the front desk's status change (check-in, no-show, …, an undo), after it is saved."""
        for listener in self._status_changed:
            listener(appointment=appointment)


booking = BookingListeners()


def _nobody_cleared(patient: Patient) -> bool:
    # Without a consultations app no one has been cleared: refusing is the safe answer.
    return False


_extraction_clearance: Callable[[Patient], bool] = _nobody_cleared


def provide_extraction_clearance(provider: Callable[[Patient], bool]) -> None:
    """Set who answers "has a consultation cleared this patient for extraction?" (consultations)."""
    global _extraction_clearance
    _extraction_clearance = provider


def patient_cleared_for_extraction(patient: Patient) -> bool:
    return _extraction_clearance(patient)


def _no_preparation(appointment: Appointment) -> str:
    # Without a consultations app there is no plan, so nothing to pause before a session.
    return ""


_session_preparation: Callable[[Appointment], str] = _no_preparation


def provide_session_preparation(provider: Callable[[Appointment], str]) -> None:
    """Set who answers "what must the patient pause before this session?" (consultations: the
    plan's pause instructions, e.g. stop the topical retinoid 5 days before)."""
    global _session_preparation
    _session_preparation = provider


def session_preparation(appointment: Appointment) -> str:
    """The patient-facing pause instructions for an extraction appointment ("" when none)."""
    return _session_preparation(appointment)


def _never_awaiting(appointment: Appointment) -> bool:
    return False


_awaiting_confirmation: Callable[[Appointment], bool] = _never_awaiting


def provide_awaiting_confirmation(provider: Callable[[Appointment], bool]) -> None:
    """Set who answers "is this booking still waiting for the patient to confirm it?" (online:
    a slot held from the public booking page). Aftercare writes no messages for it until then."""
    global _awaiting_confirmation
    _awaiting_confirmation = provider


def appointment_awaits_confirmation(appointment: Appointment) -> bool:
    return _awaiting_confirmation(appointment)


def _no_self_service(appointment: Appointment) -> str:
    return ""


_self_service_path: Callable[[Appointment], str] = _no_self_service


def provide_self_service_path(provider: Callable[[Appointment], str]) -> None:
    """Set who makes the signed path where a patient moves or cancels an appointment (online)."""
    global _self_service_path
    _self_service_path = provider


def self_service_path(appointment: Appointment) -> str:
    """The patient's signed page for this appointment ("" without the online app)."""
    return _self_service_path(appointment)


def _never_online() -> BaseExpression:
    return Value(False, output_field=BooleanField())


_booked_online: Callable[[], BaseExpression] = _never_online


def provide_booked_online(provider: Callable[[], BaseExpression]) -> None:
    """Set the expression (over an appointment) telling whether the patient booked it
    themselves, online (online: made by the "Patient (online)" account)."""
    global _booked_online
    _booked_online = provider


def booked_online() -> BaseExpression:
    """The day grid annotates each appointment with this, in the grid's one query."""
    return _booked_online()


def _no_reply() -> BaseExpression:
    return Value(None, output_field=CharField())


_appointment_reply: Callable[[], BaseExpression] = _no_reply


def provide_appointment_reply(provider: Callable[[], BaseExpression]) -> None:
    """Set the expression (over ``OuterRef("pk")`` of an appointment) giving the patient's
    latest answer to its reminder: ``"confirm"``, ``"reschedule"`` or NULL (aftercare)."""
    global _appointment_reply
    _appointment_reply = provider


def appointment_reply() -> BaseExpression:
    """The day grid annotates each appointment with this, in the grid's one query."""
    return _appointment_reply()


@dataclass(frozen=True)
class PatientToCall:
    """A row of the front desk's worklist: a patient to phone, and why."""

    patient_id: int
    patient_name: str
    phone: str
    reason: str
    appointment_id: int | None = None
    start: datetime | None = None
    # Where a POST marks the row handled, for rows that stay until someone says so.
    handle_url: str = ""


type CallsProvider = Callable[["Location"], list[PatientToCall]]
_calls_providers: list[CallsProvider] = []


def register_calls_to_make(provider: CallsProvider) -> None:
    """Add a source of patients the front desk should call (consultations: programmes on hold)."""
    if provider not in _calls_providers:
        _calls_providers.append(provider)


def calls_to_make(location: Location) -> list[PatientToCall]:
    """The front desk's worklist at ``location``, from every registered provider, soonest first."""
    rows = [row for provider in _calls_providers for row in provider(location)]
    return sorted(
        rows, key=lambda row: (row.start is None, row.start.timestamp() if row.start else 0.0, row.patient_name)
    )


class DeferralListener(Protocol):
    def __call__(
        self, *, patient: Patient, location: Location, recheck_on: date | None, meanwhile: list[str], source: str
    ) -> None: ...


_deferral_listeners: list[DeferralListener] = []


def register_deferral_listener(listener: DeferralListener) -> None:
    """Add who acts when a signed consultation defers a patient (aftercare: the "meanwhile" email)."""
    if listener not in _deferral_listeners:
        _deferral_listeners.append(listener)


def patient_deferred(
    *, patient: Patient, location: Location, recheck_on: date | None, meanwhile: list[str], source: str
) -> None:
    """Called by consultations inside the signing's transaction, once per signed deferral."""
    for listener in _deferral_listeners:
        listener(patient=patient, location=location, recheck_on=recheck_on, meanwhile=meanwhile, source=source)


@dataclass(frozen=True)
class PatientAlerts:
    """What the day sheet warns about for a patient: a recorded allergy and the cautions."""

    allergy: str = ""  # "" when none is recorded ("None known" is not an allergy)
    cautions: tuple[str, ...] = ()  # plain-language explanations, never rule ids


type AlertsProvider = Callable[[Collection[int]], dict[int, PatientAlerts]]


def _no_alerts(patient_ids: Collection[int]) -> dict[int, PatientAlerts]:
    # Without a consultations app nothing about the patient's health is recorded.
    return {}


_patient_alerts: AlertsProvider = _no_alerts


def provide_patient_alerts(provider: AlertsProvider) -> None:
    """Set who answers "what must the desk know about these patients?" (consultations: the
    allergy and cautions of each one's latest signed consultation, in one query)."""
    global _patient_alerts
    _patient_alerts = provider


def patient_alerts(patient_ids: Collection[int]) -> dict[int, PatientAlerts]:
    """The alerts of each of ``patient_ids`` that has any (the day sheet)."""
    return _patient_alerts(patient_ids)


class QuestionnaireSender(Protocol):
    def __call__(self, *, acting_user: User, appointment: Appointment, link: str) -> bool: ...


def _no_outbox(*, acting_user: User, appointment: Appointment, link: str) -> bool:
    # Without an aftercare app there is no outbox: nothing is sent (the page says so).
    return False


_questionnaire_sender: QuestionnaireSender = _no_outbox


def provide_questionnaire_sender(sender: QuestionnaireSender) -> None:
    """Set who emails a patient their pre-visit questionnaire link (aftercare: an outbox row)."""
    global _questionnaire_sender
    _questionnaire_sender = sender


def questionnaire_link_send(*, acting_user: User, appointment: Appointment, link: str) -> bool:
    """Email ``link`` to the appointment's patient; False when no outbox is installed."""
    return _questionnaire_sender(acting_user=acting_user, appointment=appointment, link=link)


type DemoSeed = Callable[[], dict[str, int]]
_demo_seeds: list[DemoSeed] = []


def register_demo_seed(seed: DemoSeed) -> None:
    """Add an app's demo loader; ``seed_demo`` runs them after the clinic's own, in
    INSTALLED_APPS order (the workflow's order: each builds on the ones before)."""
    if seed not in _demo_seeds:
        _demo_seeds.append(seed)


def demo_seeds() -> list[DemoSeed]:
    return list(_demo_seeds)


# --- The patient's timeline ---------------------------------------------------------------


class TimelineKind(enum.StrEnum):
    """What a timeline entry is; the record's filter offers each (in this order)."""

    APPOINTMENT = "appointments"
    CONSULTATION = "consultations"
    PLAN = "plans"
    SESSION = "sessions"
    MESSAGE = "messages"
    CHECKIN = "checkins"
    REPLY = "replies"
    QUEUE = "queue"


TIMELINE_KIND_LABELS: dict[TimelineKind, Promise] = {
    TimelineKind.APPOINTMENT: _("Appointments"),
    TimelineKind.CONSULTATION: _("Consultations"),
    TimelineKind.PLAN: _("Plans and consent"),
    TimelineKind.SESSION: _("Sessions"),
    TimelineKind.MESSAGE: _("Messages"),
    TimelineKind.CHECKIN: _("Check-in clicks"),
    TimelineKind.REPLY: _("Reminder replies"),
    TimelineKind.QUEUE: _("Specialist queue"),
}


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a patient's story, as the record lists it (newest first).

    ``group`` is the field group (clinic.field_groups) a person must see to be shown it;
    ``lines`` are the entry's history (status changes, overrides, addenda); ``content`` is
    a message's full text as sent, opened on demand.
    """

    at: datetime
    kind: TimelineKind
    group: str
    title: str
    detail: str = ""
    url: str = ""
    lines: tuple[str, ...] = ()
    content: str = ""


class TimelineProvider(Protocol):
    """Entries about ``patient`` of the kinds in ``kinds`` and the field groups in ``groups``.

    A provider runs a fixed number of queries, however many entries it returns, and none
    for a kind or group it is not asked for.
    """

    def __call__(
        self, *, patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]
    ) -> list[TimelineEntry]: ...


_timeline_providers: list[TimelineProvider] = []


def register_timeline_provider(provider: TimelineProvider) -> None:
    """Consultations, treatments and aftercare add their entries (clinic adds the appointments)."""
    if provider not in _timeline_providers:
        _timeline_providers.append(provider)


def patient_timeline(
    *, patient: Patient, kinds: frozenset[TimelineKind], groups: frozenset[str]
) -> list[TimelineEntry]:
    """Every registered provider's entries, newest first."""
    entries = [
        entry
        for provider in _timeline_providers
        for entry in provider(patient=patient, kinds=kinds, groups=groups)
        if entry.kind in kinds and entry.group in groups
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
