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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from django.db.models import CharField, Value
from django.db.models.expressions import BaseExpression

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
