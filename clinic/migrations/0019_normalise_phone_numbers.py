"""Patients' and locations' phone numbers in E.164, as the forms now store them.

A number that does not parse in the clinic's region is left as typed (the page shows it
as it is); the next edit of the record asks for a valid one.
"""

from typing import Any

import phonenumbers
from django.conf import settings
from django.db import migrations


def _e164(value: str) -> str | None:
    try:
        parsed = phonenumbers.parse(value, settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise(apps: Any, schema_editor: Any) -> None:
    for model_name in ("Patient", "Location"):
        model = apps.get_model("clinic", model_name)
        for pk, phone in model.objects.exclude(phone="").values_list("pk", "phone").iterator():
            normal = _e164(phone)
            if normal is not None and normal != phone:
                model.objects.filter(pk=pk).update(phone=normal)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0018_appointment_change_reverts"),
    ]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
