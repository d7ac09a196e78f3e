"""The default aftercare sequence (docs/product.md, "Aftercare content"). The manager edits it in the app.

Texts use $placeholders (see ``PLACEHOLDERS``); links (check-in answers, unsubscribe)
and the session-specific advice are added by the renderer, not typed by the manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftercare.models import MessageKind

PLACEHOLDERS: dict[str, Promise] = {
    "first_name": _("the patient's first name"),
    "clinic_name": _("the clinic's name"),
    "clinic_phone": _("the location's phone number"),
    "session_date": _("the date of the planned session (reminders only)"),
    "session_time": _("the time of the planned session (reminders only)"),
}


@dataclass(frozen=True)
class DefaultStep:
    kind: MessageKind
    offset_days: int
    send_time: time | None
    subject: Promise
    body_text: Promise


DEFAULT_SEQUENCE: tuple[DefaultStep, ...] = (
    DefaultStep(
        MessageKind.AFTERCARE_RIGHT_AFTER,
        0,
        None,
        _("Your aftercare from $clinic_name"),
        _(
            "Hello $first_name,\n\n"
            "Thank you for coming in today. Your skin may stay red and sensitive for a day or so; "
            "that is expected.\n\n"
            "For the next few days:\n"
            "- An over-the-counter pain reliever (ibuprofen or acetaminophen) can help if your skin feels sore.\n"
            "- Avoid harsh actives: retinoids, acids and scrubs.\n"
            "- Focus on hydration and barrier repair: a gentle cleanser and a plain moisturiser.\n"
            "- Protect your skin from the sun strictly (SPF 30 or higher).\n"
            "- Please do not pick or squeeze.\n\n"
            "Call us on $clinic_phone if you notice spreading redness, swelling, warmth, pus, fever, "
            "or pain that gets worse instead of better.\n\n"
            "Extractions are not a cure on their own: your home-care regimen is what keeps pores clear "
            "between sessions."
        ),
    ),
    DefaultStep(
        MessageKind.CHECKIN_DAY1,
        1,
        time(10, 0),
        _("How is your skin today?"),
        _(
            "Hello $first_name,\n\n"
            "How is your skin today? One click below tells us; you can add a note afterwards if you like."
        ),
    ),
    DefaultStep(
        MessageKind.ACTIVES_RETURN,
        4,
        time(10, 0),
        _("Getting back to your routine"),
        _(
            "Hello $first_name,\n\n"
            "By now most redness has usually settled. If your skin feels calm, you can bring your actives "
            "(for example a retinoid or an exfoliating acid) back into your routine: start every other "
            "evening and build up over a week. If your skin still stings, wait a few more days.\n\n"
            "Keep going with barrier support and daily sun protection: your home-care regimen does the "
            "work between sessions; extractions alone are not a cure."
        ),
    ),
    DefaultStep(
        MessageKind.SESSION_REMINDER,
        -1,
        time(10, 0),
        _("Your appointment at $clinic_name"),
        _(
            "Hello $first_name,\n\n"
            "This is a reminder of your next session on $session_date at $session_time.\n\n"
            "Please come with clean skin, and let us know if you have started any new medication "
            "(for example isotretinoin or a retinoid) since your last visit. If you need to change the "
            "time, call us on $clinic_phone."
        ),
    ),
    DefaultStep(
        MessageKind.PROGRESS_REVIEW,
        63,
        time(10, 0),
        _("Time for your progress review"),
        _(
            "Hello $first_name,\n\n"
            "You are now about nine weeks into your programme: it is time for a short progress review "
            "with your specialist, to see how your skin has responded and adjust your home-care regimen. "
            "Call us on $clinic_phone to book it (about 20 minutes)."
        ),
    ),
)

# Booking messages: the same templates, listed on the same page (the manager edits them too).
DEFAULT_BOOKING: tuple[DefaultStep, ...] = (
    DefaultStep(
        MessageKind.BOOKING_CONFIRMATION,
        0,
        None,
        _("Your appointment at $clinic_name"),
        _(
            "Hello $first_name,\n\n"
            "Your appointment is booked for $session_date at $session_time. The calendar file attached "
            "adds it to your calendar.\n\n"
            "If you need to change the time, call us on $clinic_phone."
        ),
    ),
    DefaultStep(
        MessageKind.BOOKING_REMINDER,
        -1,
        time(10, 0),
        _("See you soon at $clinic_name"),
        _(
            "Hello $first_name,\n\n"
            "A reminder of your appointment on $session_date at $session_time. Please let us know with "
            "one click below whether the time still suits you."
        ),
    ),
)

DEFAULT_BY_KIND = {step.kind: step for step in (*DEFAULT_SEQUENCE, *DEFAULT_BOOKING)}

# The specialist's alert is not a sequence step; its text is fixed (and carries no clinical detail).
SPECIALIST_ALERT_SUBJECT = _("A patient asked for a call back")
