"""Demo photos: faces drawn with Pillow (an outline with marks), never real people.

Each demo programme with a baseline gets the standard views at the consultation and again
at its latest measured visit. The marks follow that day's present counts, zone by zone, so the
comparison shows the same fall as the charts. One baseline photo carries a marker.
"""

from __future__ import annotations

import io
import random
from collections.abc import Mapping
from datetime import date

from django.db import transaction
from PIL import Image, ImageDraw

from clinic import demo as clinic_demo
from clinic.models import Location, Patient, User
from clinic.roles import Role
from photos import services
from photos.models import FACE_VIEWS, VIEW_ZONES, Context, Photo, PhotoMarker, Scope, View
from treatments.selectors import treatment_record

SIZE = (900, 1200)
SKIN = "#e3bf9c"
OUTLINE = "#6b4a2b"
# Where each zone sits on a front view, as fractions of the width and height (box: x0, y0, x1, y1).
ZONE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "forehead": (0.36, 0.2, 0.64, 0.3),
    "nose": (0.46, 0.42, 0.54, 0.55),
    "right_cheek": (0.28, 0.46, 0.4, 0.6),  # the patient's right is on the viewer's left
    "left_cheek": (0.6, 0.46, 0.72, 0.6),
    "chin": (0.44, 0.72, 0.56, 0.8),
    "jawline": (0.32, 0.66, 0.68, 0.72),
    "chest": (0.3, 0.3, 0.7, 0.7),
    "back": (0.3, 0.2, 0.7, 0.8),
}
# Where the face sits per view (a turned head shows less of one side).
FACE_BOX: dict[str, tuple[float, float, float, float]] = {
    View.FRONT: (0.22, 0.1, 0.78, 0.88),
    View.LEFT_45: (0.28, 0.1, 0.76, 0.88),
    View.RIGHT_45: (0.24, 0.1, 0.72, 0.88),
    View.LEFT_PROFILE: (0.36, 0.1, 0.7, 0.88),
    View.RIGHT_PROFILE: (0.3, 0.1, 0.64, 0.88),
}
MARK_COLOURS = {
    "open_comedones": "#3b2a1f",
    "closed_comedones": "#fbf3e8",
    "papules": "#c0504d",
    "pustules": "#f2e6b3",
    "nodules": "#8e2f2f",
    "cysts": "#8e2f2f",
}


def draw(view: str, counts: Mapping[str, Mapping[str, int]], seed: int) -> bytes:
    """A drawn face (or torso) for ``view`` with one mark per lesion present in its zones."""
    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    width, height = SIZE
    image = Image.new("RGB", SIZE, "#dfe6ea")
    pen = ImageDraw.Draw(image)
    if view in FACE_BOX:
        x0, y0, x1, y1 = FACE_BOX[view]
        pen.ellipse((x0 * width, y0 * height, x1 * width, y1 * height), fill=SKIN, outline=OUTLINE, width=6)
        pen.line((0.5 * width, 0.42 * height, 0.5 * width, 0.55 * height), fill=OUTLINE, width=4)  # nose
        pen.arc((0.4 * width, 0.6 * height, 0.6 * width, 0.68 * height), 20, 160, fill=OUTLINE, width=5)  # mouth
        for eye_x in (0.4, 0.6):
            pen.ellipse(((eye_x - 0.04) * width, 0.36 * height, (eye_x + 0.04) * width, 0.4 * height), outline=OUTLINE)
    else:
        pen.rounded_rectangle((0.2 * width, 0.1 * height, 0.8 * width, 0.95 * height), 120, fill=SKIN, outline=OUTLINE)
    for zone in VIEW_ZONES[view]:
        bx0, by0, bx1, by1 = ZONE_BOXES[zone.value]
        for lesion, count in counts.get(zone.value, {}).items():
            for _ in range(count):
                x = rng.uniform(bx0, bx1) * width
                y = rng.uniform(by0, by1) * height
                r = 7 if lesion in ("papules", "pustules", "nodules", "cysts") else 4
                pen.ellipse((x - r, y - r, x + r, y + r), fill=MARK_COLOURS.get(lesion, "#444"), outline="#7a5a40")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _store(
    *, user: User, patient: Patient, location: Location, on: date, context: str, counts: Mapping[str, Mapping[str, int]]
) -> list[Photo]:
    views = [*FACE_VIEWS, *[v for v in (View.CHEST, View.BACK) if counts.get(v.value)]]
    uploads = []
    for number, view in enumerate(views):
        data = draw(view, counts, seed=patient.pk * 100 + number + on.toordinal())
        uploads.append(services.Upload(view=view.value, file=io.BytesIO(data), size=len(data)))
    photos = services.photo_store(
        acting_user=user, patient=patient, uploads=uploads, context=context, taken_on=on, zone=location.zone
    )
    for photo in photos:  # no worker needed to see the demo's thumbnails
        services.photo_thumbnail_make(photo_id=photo.pk)
    return photos


@transaction.atomic
def seed() -> dict[str, int]:
    created = {"photos": 0, "photo_markers": 0}
    location = Location.objects.active().first()
    if location is None:
        return created
    usernames = {person.role: person.username for person in clinic_demo.DEMO_STAFF}
    specialist = User.objects.filter(username=usernames.get(Role.SPECIALIST)).first()
    aesthetician = User.objects.filter(username=usernames.get(Role.AESTHETICIAN)).first()
    if specialist is None or aesthetician is None:
        return created
    for patient in Patient.objects.filter(treatment_plans__isnull=False).distinct().order_by("pk"):
        if Photo.objects.for_patient(patient.pk).exists():
            continue  # idempotent: this patient's photos were made by an earlier run
        rows = treatment_record(patient).trend.rows
        if not rows:
            continue
        services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.CLINICAL)
        if patient.pk % 2:  # some patients also agreed to teaching and marketing
            services.photo_consent_record(acting_user=specialist, patient=patient, scope=Scope.TEACHING)
        baseline = _store(
            user=specialist,
            patient=patient,
            location=location,
            on=rows[0].point.on,
            context=Context.CONSULTATION,
            counts=rows[0].point.counts,
        )
        created["photos"] += len(baseline)
        if len(rows) > 1:
            latest = rows[-1]
            context = Context.REVIEW if latest.point.kind == "review" else Context.SESSION_BEFORE
            created["photos"] += len(
                _store(
                    user=aesthetician,
                    patient=patient,
                    location=location,
                    on=latest.point.on,
                    context=context,
                    counts=latest.point.counts,
                )
            )
        front = baseline[0]
        zone = next((z for z, per in rows[0].point.counts.items() if any(per.values())), "forehead")
        lesion = next((lesion for lesion, n in rows[0].point.counts.get(zone, {}).items() if n), "")
        bx0, by0, bx1, by1 = ZONE_BOXES.get(zone, ZONE_BOXES["forehead"])
        services.photo_marker_add(
            acting_user=specialist,
            photo=front,
            zone=zone,
            lesion=lesion,
            x=round((bx0 + bx1) * 500),
            y=round((by0 + by1) * 500),
            note="Densest cluster at the consultation",
        )
        created["photo_markers"] += PhotoMarker.objects.filter(photo=front).count()
    return created
