"""The default aftercare sequence (docs/product.md, "Aftercare content"). The manager edits it in the app.

Texts use $placeholders (see ``PLACEHOLDERS``); links (check-in answers, unsubscribe)
and the session-specific advice are added by the renderer, not typed by the manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftercare.models import MessageKind, TemplateVariant

PLACEHOLDERS: dict[str, Promise] = {
    "first_name": _("the patient's first name"),
    "clinic_name": _("the clinic's name"),
    "clinic_phone": _("the location's phone number"),
    "session_date": _("the date of the planned session (reminders only)"),
    "session_time": _("the time of the planned session (reminders only)"),
    "location_name": _("the location's name (booking messages only)"),
    "location_address": _("the location's address (booking messages only)"),
    "service": _("what was booked, e.g. Consultation (booking messages only)"),
    "pause_instructions": _("what the plan asks the patient to pause before a session (session reminders only)"),
}


@dataclass(frozen=True)
class DefaultStep:
    kind: MessageKind
    offset_days: int
    send_time: time | None
    subject: Promise
    body_text: Promise
    variant: TemplateVariant = TemplateVariant.STANDARD


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
    # Pregnancy (NSAIDs are avoided from 20 weeks: FDA, October 2020), an anticoagulant or a
    # bleeding disorder (NSAIDs add to bleeding), or a recorded NSAID sensitivity.
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
            "- If your skin feels sore, acetaminophen (paracetamol) can help. Please do not take ibuprofen, "
            "aspirin or other anti-inflammatory painkillers for it.\n"
            "- Avoid harsh actives: retinoids, acids and scrubs.\n"
            "- Focus on hydration and barrier repair: a gentle cleanser and a plain moisturiser.\n"
            "- Protect your skin from the sun strictly (SPF 30 or higher).\n"
            "- Please do not pick or squeeze.\n\n"
            "Call us on $clinic_phone if you notice spreading redness, swelling, warmth, pus, fever, "
            "or pain that gets worse instead of better.\n\n"
            "Extractions are not a cure on their own: your home-care regimen is what keeps pores clear "
            "between sessions."
        ),
        TemplateVariant.NO_IBUPROFEN,
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
    # Only for patients who heal slowly (immunosuppressed or diabetic): infection shows by day 3.
    DefaultStep(
        MessageKind.CHECKIN_DAY3,
        3,
        time(10, 0),
        _("A second look at your skin"),
        _(
            "Hello $first_name,\n\n"
            "Skin can take a little longer to heal for some people, so we would like to check once more: "
            "how is your skin today? One click below tells us. If you see spreading redness, warmth, swelling "
            "or pus, please call us on $clinic_phone."
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
    # Pregnancy or breastfeeding: topical retinoids are avoided, so no "bring your retinoid back".
    DefaultStep(
        MessageKind.ACTIVES_RETURN,
        4,
        time(10, 0),
        _("Getting back to your routine"),
        _(
            "Hello $first_name,\n\n"
            "By now most redness has usually settled. If your skin feels calm, you can go back to the "
            "gentle home-care routine your specialist gave you. Please do not use retinoids while you are "
            "pregnant or breastfeeding. If your skin still stings, wait a few more days.\n\n"
            "Keep going with barrier support and daily sun protection: your home-care regimen does the "
            "work between sessions; extractions alone are not a cure."
        ),
        TemplateVariant.NO_RETINOID,
    ),
    # Sent instead of "bringing actives back" when the check-in answer was "still red or sensitive",
    # at the time that message would have gone out.
    DefaultStep(
        MessageKind.ACTIVES_WAIT,
        4,
        time(10, 0),
        _("Give your skin two more days"),
        _(
            "Hello $first_name,\n\n"
            "You told us your skin was still red or sensitive, so please give it two more days before "
            "you bring back the stronger products in your routine (exfoliating acids, scrubs, or any "
            "active your specialist prescribed). Until then keep to a gentle cleanser, a plain moisturiser "
            "and daily sun protection.\n\n"
            "If it is not settling, or you are worried, call us on $clinic_phone."
        ),
    ),
    # One per planned extraction session, instead of the booking reminder: it follows the
    # appointment when it moves or is cancelled, and carries the confirm/reschedule links.
    DefaultStep(
        MessageKind.SESSION_REMINDER,
        -1,
        time(10, 0),
        _("Your session at $clinic_name"),
        _(
            "Hello $first_name,\n\n"
            "This is a reminder of your next session on $session_date at $session_time.\n\n"
            "Before you come: $pause_instructions\n\n"
            "Have you started any new medication since your last visit (for example isotretinoin, "
            "a retinoid, antibiotics or a blood thinner), or could you be pregnant? If so, please call us "
            "on $clinic_phone before your session.\n\n"
            "Please come with clean skin, and let us know with one click below whether the time still suits you."
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
            "Your $service is booked for $session_date at $session_time at $location_name. "
            "The calendar file attached adds it to your calendar.\n\n"
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
            "A reminder of your $service on $session_date at $session_time at $location_name. "
            "Please let us know with "
            "one click below whether the time still suits you."
        ),
    ),
)

DEFAULT_BY_KIND = {step.kind: step for step in (*DEFAULT_SEQUENCE, *DEFAULT_BOOKING) if not step.variant}

# A moved appointment's confirmation opens with this, whatever its template says.
MOVED_SUBJECT = _("Your appointment has moved to %(when)s")
MOVED_LEAD = _("Your %(service)s has moved: it was on %(old)s, and is now on %(new)s.")
# Every booking message lists these, so an edited template cannot lose where and what.
BOOKING_DETAILS = (_("What: %(service)s"), _("When: %(when)s"), _("Where: %(where)s"))

# The demo patient and appointment of a template's preview and test send (never a real patient).
PREVIEW_PATIENT_FIRST_NAME = _("Alex")
PREVIEW_SERVICE = _("Extraction session")
PREVIEW_PAUSE = _("stop your topical retinoid 3 nights before.")

# The reminder's $pause_instructions when the plan asks for no pause.
NO_PAUSE = _("nothing to pause; keep to your home-care routine.")

# Every patient email ends with a way to reach the clinic (the location's phone) and what to
# do when it is closed. A location's own out-of-hours text replaces the default.
CONTACT_LINE = _("Questions or worries about your skin? Call us on %(phone)s.")
OUT_OF_HOURS_DEFAULT = _(
    "When we are closed: for an urgent problem call your out-of-hours medical service (111 in the UK); "
    "in an emergency call 999 or 112."
)

# The specialist's alert is not a sequence step; its text is fixed (and carries no clinical detail).
SPECIALIST_ALERT_SUBJECT = _("A patient asked for a call back")
