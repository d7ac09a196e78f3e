from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import ClassVar

import pghistory
import pgtrigger
import phonenumbers
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, BigIntegerRangeField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.lookups import ContainedBy
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, Func, Q, Value
from django.db.models.functions import Collate, Concat, Lower, Reverse
from django.db.models.indexes import Index
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clinic.constraints import NOTE, REASON, text_fits
from clinic.roles import ROLE_BY_GROUP, ROLES, Role, RoleSpec


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value}) from None


class UserQuerySet(models.QuerySet["User"]):
    def in_roles(self, *roles: Role) -> UserQuerySet:
        """Staff who can sign in and hold any of ``roles``."""
        names = [ROLES[role].group_name for role in roles]
        return self.filter(is_active=True, groups__name__in=names).distinct()


class StaffManager(UserManager["User"]):
    """Django's user manager (create_user, …) whose querysets have the staff filters."""

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def in_roles(self, *roles: Role) -> UserQuerySet:
        return self.get_queryset().in_roles(*roles)


# Why a trigger and not only the admin's missing delete button: a user row carries the
# history of everything its person did (admin log, audit contexts, clinical records), and
# Django's delete cascades to the admin log first. Staff are deactivated, never deleted;
# a mistaken account that never signed in or acted may still be removed (and is audited).
USER_DELETE_GUARD = """
DECLARE
    ref record;
    referenced boolean;
BEGIN
    IF OLD.last_login IS NOT NULL THEN
        RAISE EXCEPTION 'Staff member "%" has signed in, so they have history: deactivate them instead of deleting.',
            OLD.username USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM django_admin_log WHERE user_id = OLD.id)
        OR EXISTS (SELECT 1 FROM pghistory_context WHERE metadata ->> 'user' = OLD.id::text)
    THEN
        RAISE EXCEPTION
            'Staff member "%" made changes the audit trail attributes to them: deactivate them instead of deleting.',
            OLD.username USING ERRCODE = 'restrict_violation';
    END IF;
    -- Every table that points at a user (found from the catalogue, so new ones count too),
    -- except the role and permission links, which go with the account.
    FOR ref IN
        SELECT con.conrelid::regclass AS tbl, att.attname AS col
        FROM pg_constraint con
        JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
        WHERE con.contype = 'f' AND con.confrelid = TG_RELID
            AND con.conrelid NOT IN ('clinic_user_groups'::regclass, 'clinic_user_user_permissions'::regclass)
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I = $1)', ref.tbl, ref.col) INTO referenced USING OLD.id;
        IF referenced THEN
            RAISE EXCEPTION 'Staff member "%" is named in % records: deactivate them instead of deleting.',
                OLD.username, ref.tbl USING ERRCODE = 'restrict_violation';
        END IF;
    END LOOP;
    RETURN OLD;
END;
"""


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
)
class User(AbstractUser):
    """A member of staff. Patients never sign in; they act through signed email links."""

    home_location = models.ForeignKey(
        "clinic.Location",
        verbose_name=_("home location"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the manager types someone's password: only its owner should know it, so the
    # first sign-in with it asks for a new one before anything else (clinic.accounts.middleware).
    # db_default too: raw INSERTs (bench data, database tooling) need not know these columns.
    must_change_password = models.BooleanField(_("must change password"), default=False, db_default=False)
    # Part of the session hash: raising it ends every session of this person at their next
    # request ("sign out other sessions", a second factor reset).
    session_epoch = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Where this person works: the switcher offers only these, and every lookup of an
    # appointment, room, schedule, consultation or session checks membership (a 404 outside).
    locations = models.ManyToManyField(
        "clinic.Location",
        verbose_name=_("locations"),
        blank=True,
        related_name="staff",
        help_text=_("The locations this person works at. They see and book only there."),
    )

    objects: ClassVar[StaffManager] = StaffManager()

    # Not AbstractUser.Meta: its two options are both set here (and `abstract` is never
    # inherited), and its str-typed stubs would refuse the lazy translations.
    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        triggers = [
            pgtrigger.Trigger(
                name="refuse_delete_with_history",
                when=pgtrigger.Before,
                operation=pgtrigger.Delete,
                func=USER_DELETE_GUARD,
            ),
        ]

    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, *, secret: str | bytes | None) -> str:
        # Django's hash of the password field, plus the epoch: a password change or a raised
        # epoch both make every other session's stored hash stale.
        return salted_hmac(
            "clinic.User.session_hash", f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_specs(self) -> list[RoleSpec]:
        """The roles this person holds, in the fixed order of ROLES (cached per request)."""
        cached: list[RoleSpec] | None = getattr(self, "_role_specs", None)
        if cached is None:
            names = {group.name for group in self.groups.all()}
            cached = [spec for name, spec in ROLE_BY_GROUP.items() if name in names]
            self._role_specs = cached
        return cached

    def location_ids(self) -> frozenset[int]:
        """The ids of the active locations this person works at (cached per request)."""
        cached: frozenset[int] | None = getattr(self, "_location_ids", None)
        if cached is None:
            cached = frozenset(self.locations.filter(is_active=True).values_list("pk", flat=True))
            self._location_ids = cached
        return cached

    def remember_group_names(self, names: Iterable[str]) -> None:
        """Cache the roles from group names read already (the sign-in backend's one query)."""
        held = set(names)
        self._role_specs = [spec for name, spec in ROLE_BY_GROUP.items() if name in held]

    def remember_locations(self, locations: list[Location]) -> None:
        """Cache the active locations this person works at, read already (name order)."""
        self._member_locations = locations
        self._location_ids = frozenset(location.pk for location in locations)

    def member_location_list(self) -> list[Location] | None:
        """The active locations cached by ``remember_locations``, or None when not read yet."""
        cached: list[Location] | None = getattr(self, "_member_locations", None)
        return cached

    @property
    def primary_role(self) -> RoleSpec | None:
        specs = self.role_specs
        return specs[0] if specs else None


# Role changes are audited: who was given or lost which group, and (from the context) who did it.
# (a proxy of the auto-created through table, which is how pgtrigger puts triggers on it).
@pghistory.track(pghistory.InsertEvent("role.add"), pghistory.DeleteEvent("role.remove"), obj_field=None)
class UserGroups(User.groups.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


# Which locations a person works at decides what they can read, so its changes are audited too.
@pghistory.track(pghistory.InsertEvent("location.add"), pghistory.DeleteEvent("location.remove"), obj_field=None)
class UserLocations(User.locations.through):  # type: ignore[name-defined]
    class Meta:
        proxy = True


class RoleGrantStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


# A manager cannot give anyone (themselves through a second account included) a clinical role
# alone: the grant waits until a specialist other than the requester and the grantee approves.
CLINICAL_ROLES = (Role.SPECIALIST, Role.AESTHETICIAN)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RoleGrant(models.Model):
    """A request to give ``staff`` a clinical role; only its approval adds the role's group."""

    staff = models.ForeignKey(
        User, verbose_name=_("staff member"), on_delete=models.PROTECT, related_name="role_grants"
    )
    role = models.CharField(_("role"), max_length=24, choices=[(r.value, ROLES[r].label) for r in CLINICAL_ROLES])
    status = models.CharField(
        _("status"), max_length=12, choices=RoleGrantStatus.choices, default=RoleGrantStatus.PENDING
    )
    requested_by = models.ForeignKey(User, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("clinical role grant")
        verbose_name_plural = _("clinical role grants")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "role"], condition=Q(status="pending"), name="rolegrant_one_pending_per_role"
            ),
            # The second person is a second person, also in the database.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | (~Q(decided_by=F("requested_by")) & ~Q(decided_by=F("staff"))),
                name="rolegrant_decided_by_another",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="rolegrant_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.staff_id} ({self.status})"


class LocationQuerySet(models.QuerySet["Location"]):
    def active(self) -> LocationQuerySet:
        return self.filter(is_active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Location(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text=_("Appointments and message times at this location use this zone."),
    )
    address = models.TextField(_("address"), blank=True, max_length=REASON)
    # Every patient email gives this number (a system check refuses an active location without one).
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    out_of_hours = models.TextField(
        _("out of hours"),
        blank=True,
        max_length=REASON,
        default="",
        db_default="",
        help_text=_(
            "What patients should do when the clinic is closed; printed at the foot of every patient email. "
            "Leave empty for the standard text (out-of-hours medical service, emergency number)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            text_fits("location", "address", REASON),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        return timezone.localdate(timezone=self.zone)

    def local(self, moment: datetime) -> datetime:
        return timezone.localtime(moment, self.zone)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The aware start of ``day`` and of the next day here (23 or 25 hours apart across DST)."""
        return (
            datetime.combine(day, time.min, tzinfo=self.zone),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone),
        )


class SimpleTsVector(Func):
    """``to_tsvector('simple', …)``: the config is explicit, so the expression is immutable."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def _phone_suffix(text: str, digits: str) -> str:
    """The digits a stored E.164 number must end with.

    A whole number typed in national form ("07700 900101") or with a country code and a
    trunk zero ("+44 (0)7700 900101") is reduced to its national significant number, so
    it matches "+447700900101". Shorter input is taken as the last digits as typed.
    """
    if len(digits) >= 9 or text.startswith("+"):
        try:
            parsed = phonenumbers.parse(text, settings.CLINIC_PHONE_REGION)
        except phonenumbers.NumberParseException:
            return digits
        return str(parsed.national_number) or digits
    return digits


class TsVectorLexemes(Func):
    function = "tsvector_to_array"
    output_field = ArrayField(models.TextField())


class TextArray(Func):
    template = "ARRAY[%(expressions)s]"
    output_field = ArrayField(models.TextField())


class _NotFromAnIndex(Func):
    """The same text, as an expression no index holds: ordering by it makes PostgreSQL sort."""

    template = "(%(expressions)s || '')"
    output_field = models.TextField()


# Name order is "C" (byte) order of the lowered names, so one btree both serves a LIKE 'smi%'
# range and hands the rows over in that order (in a "C.UTF-8" database it is the same order).
LAST_NAME_ORDER = Collate(Lower("last_name"), "C")
FIRST_NAME_ORDER = Collate(Lower("first_name"), "C")
# Matches found by phone, email or tsvector are sorted: they are few, and walking the name
# index in order hoping to meet them (the plan a LIMIT invites) reads most of the table when
# they cluster (emails beginning "smith" belong to Smiths) or are fewer than estimated.
SORTED_NAME_ORDER = (_NotFromAnIndex(LAST_NAME_ORDER), _NotFromAnIndex(FIRST_NAME_ORDER), "id")


class PatientQuerySet(models.QuerySet["Patient"]):
    def search(self, text: str, *, limit: int = 50) -> PatientQuerySet:
        """At most ``limit`` patients matching what the front desk typed, in name order.

        Digits only (after dropping spaces, dashes, brackets and a leading +): the phone's
        last digits. Containing "@": the email's beginning. Otherwise the beginnings of
        name words in any order ("ann smi"), or, for a single word, the email's beginning.
        Name order is lowered last name, first name, then id.

        A name search is a UNION of branches, each with its own ORDER BY and LIMIT, so
        each is planned on its own. A branch matching the words against the name columns
        ("ann" begins the first name and "smi" the last) is a range of the index on (last,
        first, id) read in order and stopping after ``limit`` rows: it costs the rows shown,
        not the rows that match (fetching and sorting every "Smith" took ~80 ms at a million
        patients). The limit has to be inside the branches: PostgreSQL 15 does not push an
        outer LIMIT through a UNION into ordered index scans. The UNION removes patients
        found by two branches (Anna Annan; an email beginning with the name).
        """
        text = text.strip()
        digits = re.sub(r"[^0-9]", "", text)
        if digits and re.fullmatch(r"[0-9\s()+\-.]+", text):
            if len(digits) < 3:
                return self.none()
            phone = self.filter(phone_digits_reversed__startswith=_phone_suffix(text, digits)[::-1])
            return phone.order_by(*SORTED_NAME_ORDER)[:limit]
        lowered = text.lower()
        if "@" in lowered:
            email = self.alias(email_lower=Lower("email")).filter(email_lower__startswith=lowered)
            return email.order_by(*SORTED_NAME_ORDER)[:limit]
        typed = re.findall(r"[^\W_]+", lowered)
        if not typed or len("".join(typed)) < 2:
            return self.none()
        # A word that begins another typed word adds nothing ("ann anna"); the others must
        # each begin a different word of the name.
        words = sorted({w for w in typed if not any(o != w and o.startswith(w) for o in typed)})
        # The ordering columns are selected: a UNION is ordered by its columns.
        found = self.annotate(last=LAST_NAME_ORDER, first=FIRST_NAME_ORDER)
        by_index: list[Q] = []
        if len(words) == 1:
            by_index = [Q(last__startswith=words[0]), Q(first__startswith=words[0])]
        elif len(words) == 2:
            by_index = [
                Q(first__startswith=words[0], last__startswith=words[1]),
                Q(first__startswith=words[1], last__startswith=words[0]),
            ]
        parts = [found.filter(match).order_by("last", "first", "id")[:limit] for match in by_index]
        # Names of more words ("Mary Ann", "Smith-Jones", "O'Neil"): the tsvector, whose GIN
        # index holds only them.
        query = SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="simple")
        sorted_matches = [Q(name_is_two_words=False, search_vector=query)]
        if len(typed) == 1:
            sorted_matches.append(Q(email_lower__startswith=words[0]))
        found = found.alias(email_lower=Lower("email"))
        parts += [found.filter(match).order_by(*SORTED_NAME_ORDER)[:limit] for match in sorted_matches]
        if len(parts) == 1:
            return parts[0]
        return parts[0].union(*parts[1:]).order_by("last", "first", "id")[:limit]


class PreferredContact(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("Text message")


NAME_VECTOR = SimpleTsVector(Concat(F("first_name"), Value(" "), F("last_name")))


# The search columns are derived by PostgreSQL; the audit keeps what people typed.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_vector", "phone_digits_reversed", "name_is_two_words"],
)
class Patient(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    preferred_contact = models.CharField(
        _("preferred contact"), max_length=10, choices=PreferredContact.choices, default=PreferredContact.EMAIL
    )
    email_consent = models.BooleanField(_("consents to email"), default=False)
    email_consent_at = models.DateTimeField(_("email consent changed at"), null=True, blank=True)
    front_desk_notes = models.TextField(_("notes for the front desk"), blank=True, max_length=NOTE)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Search columns kept by PostgreSQL itself (no pg_trgm/unaccent on the embedded server):
    # the name as 'simple' lexemes for prefix tsqueries ("ann:* & smi:*"), and the phone's
    # digits reversed so "ends with 0101" is a btree prefix scan ("1010%").
    search_vector = models.GeneratedField(
        expression=NAME_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
        editable=False,
    )
    # Most names are one word each: then the name's lexemes are just its two lowered columns,
    # and "each typed word begins a name word" is two btree prefix ranges (see
    # PatientQuerySet.search). The other names (double-barrelled, "O'Neil", "Mary Ann") are
    # matched by the tsvector, on a GIN index of only them. A stored column rather than an
    # index predicate alone: its statistics tell the planner how few those names are.
    name_is_two_words = models.GeneratedField(
        expression=ExpressionWrapper(
            # PostgreSQL does not let one generated column read another: the vector is spelt again.
            Q(ContainedBy(TsVectorLexemes(NAME_VECTOR), TextArray(Lower("first_name"), Lower("last_name")))),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        editable=False,
    )
    phone_digits_reversed = models.GeneratedField(
        expression=Reverse(Func(F("phone"), Value("[^0-9]"), Value(""), Value("g"), function="regexp_replace")),
        output_field=models.CharField(max_length=32),
        db_persist=True,
        editable=False,
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            # Names searched by their columns in name order (see PatientQuerySet.search); the
            # first-name index serves a single word that begins few first names.
            Index(LAST_NAME_ORDER, FIRST_NAME_ORDER, F("id"), name="patient_name_order"),
            Index(FIRST_NAME_ORDER, name="patient_first_name_order"),
            GinIndex(fields=["search_vector"], condition=Q(name_is_two_words=False), name="patient_other_names"),
            Index(OpClass(F("phone_digits_reversed"), name="text_pattern_ops"), name="patient_phone_rev_prefix"),
            Index(OpClass(Lower("email"), name="text_pattern_ops"), name="patient_email_prefix"),
            Index(fields=["last_name", "first_name", "date_of_birth"], name="patient_name_dob"),
            Index(fields=["phone"], name="patient_phone"),
            Index(fields=["-created_at"], name="patient_created_at"),
        ]
        permissions = [
            ("work_front_desk", "Can run the front desk"),
            ("work_consultations", "Can run consultations"),
            ("work_treatments", "Can perform treatment sessions"),
            ("manage_clinic", "Can configure the clinic and read its reports"),
        ]
        constraints = [
            text_fits("patient", "front_desk_notes", NOTE),
            models.CheckConstraint(
                condition=~models.Q(email_consent=True) | ~models.Q(email=""),
                name="patient_email_consent_needs_email",
                violation_error_message=_("Consent to email needs an email address."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("clinic:patient_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def for_patient(self, patient_id: int) -> AccessEventQuerySet:
        return self.filter(patient_id=patient_id)


class AccessEvent(models.Model):
    """A member of staff saw a patient's data: their record, or their name on a list.

    A list page (the day sheet, a search) writes one row per patient shown, all in one
    INSERT, sharing ``view_id``. Where from: the client's IP, a hash of the session key
    (the key itself signs the person in) and the browser. Append-only, like the change audit.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="access_events")
    page = models.CharField(max_length=200)
    path = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Whether the page showed the record itself (a read) or the patient among others (a list).
    listed = models.BooleanField(default=False)
    view_id = models.UUIDField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    session_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("record access")
        verbose_name_plural = _("record accesses")
        indexes = [
            models.Index(fields=["patient", "-at"], name="access_patient_at"),
            models.Index(fields=["user", "-at"], name="access_user_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read patient {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"


class Heartbeat(models.Model):
    """The last time a background process proved it was alive (read by /healthz)."""

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at.isoformat()}"


# --- Booking: rooms, appointment types, staff hours, appointments -----------------------


class RoomQuerySet(models.QuerySet["Room"]):
    def active(self) -> RoomQuerySet:
        return self.filter(is_active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Room(models.Model):
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["location__name", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"],
                name="room_name_unique_per_location",
                violation_error_message=_("This location already has a room with that name."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class AppointmentKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    EXTRACTION = "extraction", _("Extraction session")
    REVIEW = "review", _("Progress review")


class AppointmentTypeQuerySet(models.QuerySet["AppointmentType"]):
    def active(self) -> AppointmentTypeQuerySet:
        return self.filter(is_active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class AppointmentType(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AppointmentKind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        _("default duration (minutes)"), help_text=_("Free consultation ~45, extraction session ~60, review ~20.")
    )
    performed_by = models.CharField(
        _("performed by"),
        max_length=20,
        choices=[(role.value, spec.label) for role, spec in ROLES.items() if role != Role.FRONT_DESK],
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = AppointmentTypeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5) & Q(duration_minutes__lte=480),
                name="appointment_type_duration_range",
                violation_error_message=_("A duration is between 5 and 480 minutes."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def performer_role(self) -> Role:
        return Role(self.performed_by)

    @property
    def performer_group_name(self) -> str:
        return ROLES[self.performer_role].group_name


class Int8Range(Func):
    """``int8range(id, id, '[]')``: equality as range overlap, so GiST needs no btree_gist."""

    function = "INT8RANGE"
    output_field = BigIntegerRangeField()

    def __init__(self, field: str) -> None:
        super().__init__(F(field), F(field), Value("[]"))


class OnFixedDay(Func):
    """A time of day as a timestamp on one fixed date (PostgreSQL has no range type over ``time``)."""

    template = "(DATE '2000-01-01' + %(expressions)s)"
    output_field = models.DateTimeField()


class TimeOfDayRange(Func):
    """``tsrange`` from ``start`` to ``end`` (times of day), half-open, so GiST can compare shifts."""

    function = "TSRANGE"
    output_field = DateTimeRangeField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(OnFixedDay(F(start)), OnFixedDay(F(end)))


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class StaffSchedule(models.Model):
    """A member of staff works at ``location`` on ``weekday`` from ``start_time`` to ``end_time``.

    Times are wall-clock times in the location's zone, so 09:00 stays 09:00 across DST.
    """

    staff = models.ForeignKey(User, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="schedules")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))

    class Meta:
        ordering = ["staff__last_name", "weekday", "start_time"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="staff_schedule_ends_after_start",
                violation_error_message=_("Working hours end after they start."),
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="staff_schedule_weekday_range"),
            # One person works one shift at a time, at one location or across two; the
            # database refuses an overlap also when two managers save at once. Touching
            # shifts (09:00-12:00, 12:00-17:00) are allowed: the ranges are half-open.
            ExclusionConstraint(
                name="staff_schedule_no_overlap",
                index_type="gist",
                expressions=[
                    (Int8Range("staff_id"), RangeOperators.OVERLAPS),
                    (Int8Range("weekday"), RangeOperators.OVERLAPS),
                    (TimeOfDayRange("start_time", "end_time"), RangeOperators.OVERLAPS),
                ],
                violation_error_message=_("These hours overlap hours this person already works that day."),
            ),
        ]
        indexes = [models.Index(fields=["location", "weekday"], name="schedule_location_weekday")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TimeOff(models.Model):
    staff = models.ForeignKey(User, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="time_off_ends_after_start",
                violation_error_message=_("Time off ends after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} off {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# An appointment in one of these no longer holds its practitioner's time or its room.
RELEASED_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
OPEN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)

# Which status may follow which. Anything else is refused by the model methods.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.NO_SHOW,
        }
    ),
    AppointmentStatus.CONFIRMED: frozenset(
        {AppointmentStatus.CHECKED_IN, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.CHECKED_IN: frozenset({AppointmentStatus.IN_PROGRESS, AppointmentStatus.CANCELLED}),
    # In progress -> cancelled: a treatment session stopped by the day-of re-screen (treatments).
    AppointmentStatus.IN_PROGRESS: frozenset({AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED}),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
}


# A status the front desk sets by hand, so one it may undo or revert when set by mistake. The
# others come from clinical work (a started or signed session) and are changed through it; a
# cancellation has cancelled the patient's messages and freed the time, so it is rebooked.
REVERSIBLE_STATUSES = (
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.NO_SHOW,
)


class StatusChangeRefused(ValidationError):
    pass


def _when(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return date_format(moment.astimezone(zone), "D j M, H:i")


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def holding_time(self) -> AppointmentQuerySet:
        """Appointments that hold their practitioner and room (not cancelled, not a no-show)."""
        return self.exclude(status__in=RELEASED_STATUSES)

    def overlapping(self, start: datetime, end: datetime) -> AppointmentQuerySet:
        return self.filter(start__lt=end, end__gt=start)

    def at_location(self, location_id: int) -> AppointmentQuerySet:
        return self.filter(location_id=location_id)

    def visible_to(self, user: User) -> AppointmentQuerySet:
        """Appointments at the locations ``user`` works at: any other is a 404, never a leak."""
        return self.filter(location_id__in=user.location_ids())

    def between(self, start: datetime, end: datetime) -> AppointmentQuerySet:
        return self.filter(start__gte=start, start__lt=end)

    def on_local_day(self, location: Location, day: date) -> AppointmentQuerySet:
        """Appointments at ``location`` starting on ``day`` as the clock there reads it."""
        return self.at_location(location.pk).between(*location.day_bounds(day))

    def for_practitioner(self, practitioner_id: int) -> AppointmentQuerySet:
        return self.filter(practitioner_id=practitioner_id)

    def for_room(self, room_id: int) -> AppointmentQuerySet:
        return self.filter(room_id=room_id)

    def with_related(self) -> AppointmentQuerySet:
        return self.select_related("patient", "practitioner", "room", "appointment_type", "location", "created_by")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Appointment(models.Model):
    appointment_type = models.ForeignKey(
        AppointmentType, verbose_name=_("appointment type"), on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        User, verbose_name=_("practitioner"), on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("starts at"))
    end = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True, max_length=REASON)
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            text_fits("appointment", "cancel_reason", REASON),
            text_fits("appointment", "notes", NOTE),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="appointment_ends_after_start",
                violation_error_message=_("An appointment ends after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(status=AppointmentStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="appointment_cancel_needs_reason",
                violation_error_message=_("Say why the appointment is cancelled."),
            ),
            # The database refuses double-booking, also under concurrent requests.
            ExclusionConstraint(
                name="appointment_practitioner_no_overlap",
                index_type="gist",
                expressions=[
                    (Int8Range("practitioner_id"), RangeOperators.OVERLAPS),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=RELEASED_STATUSES),
                violation_error_message=_("The practitioner is already booked at that time."),
            ),
            ExclusionConstraint(
                name="appointment_room_no_overlap",
                index_type="gist",
                expressions=[
                    (Int8Range("room_id"), RangeOperators.OVERLAPS),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=RELEASED_STATUSES),
                violation_error_message=_("The room is already booked at that time."),
            ),
        ]
        indexes = [
            models.Index(fields=["location", "start"], name="appointment_location_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_start"),
            # Free time: a room's bookings in a range of days, not every booking the room ever had.
            models.Index(fields=["room", "start"], name="appointment_room_start"),
            # The booking-messages sweeper's candidates (aftercare.services.booking_messages_sweep):
            # open bookings by when they were made, a small slice of the table.
            models.Index(fields=["created_at"], name="appointment_open_created", condition=Q(status__in=OPEN_STATUSES)),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type_id} for patient {self.patient_id} at {self.start.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("clinic:appointment_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_become(self, status: str) -> bool:
        return status in ALLOWED_TRANSITIONS[self.status]

    # One record changing its own state: each method checks the transition, saves only
    # the changed fields and writes the change row in the same transaction.
    def _change_status(self, *, to: str, by: User, reason: str = "", extra_fields: tuple[str, ...] = ()) -> None:
        with transaction.atomic():
            # Lock the row and read its status afresh: another desk may have changed it since
            # this instance was loaded (a stale "check in" must not revive a cancellation).
            self.status = Appointment.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
            if not self.can_become(to):
                raise StatusChangeRefused(
                    _("A %(current)s appointment cannot be marked %(new)s."),
                    params={"current": self.get_status_display(), "new": AppointmentStatus(to).label},
                    code="transition",
                )
            previous = self.status
            self.status = to
            self.save(update_fields=["status", *extra_fields])
            AppointmentStatusChange.objects.create(
                appointment=self, from_status=previous, to_status=to, by=by, reason=reason
            )

    # Statuses follow time: a patient is checked in on the appointment's day, and marked a
    # no-show only once the appointment has started. Both windows are settings.
    def check_in_window(self) -> tuple[datetime, datetime]:
        """From when until when the patient can be checked in (aware datetimes)."""
        location = self.location
        day_start, day_end = location.day_bounds(location.local(self.start).date())
        opens = max(day_start, self.start - timedelta(minutes=settings.APPOINTMENT_CHECK_IN_OPENS_MINUTES))
        return opens, day_end

    def no_show_from(self) -> datetime:
        return self.start + timedelta(minutes=settings.APPOINTMENT_NO_SHOW_AFTER_MINUTES)

    def check_in_open(self, now: datetime | None = None) -> bool:
        opens, closes = self.check_in_window()
        return opens <= (now or timezone.now()) < closes

    def no_show_open(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.no_show_from()

    def confirm(self, *, by: User) -> None:
        self._change_status(to=AppointmentStatus.CONFIRMED, by=by)

    def check_in(self, *, by: User) -> None:
        opens, closes = self.check_in_window()
        now = timezone.now()
        # A change that makes no sense at any time says so (the transition's message), not "too early".
        if self.can_become(AppointmentStatus.CHECKED_IN) and now < opens:
            raise StatusChangeRefused(
                _("Check-in opens on the appointment's day, from %(when)s."),
                params={"when": _when(opens, self.location.zone)},
                code="too_early",
            )
        if self.can_become(AppointmentStatus.CHECKED_IN) and now >= closes:
            raise StatusChangeRefused(
                _("The appointment's day is over: it can no longer be checked in."), code="too_late"
            )
        self._change_status(to=AppointmentStatus.CHECKED_IN, by=by)

    def begin(self, *, by: User) -> None:
        self._change_status(to=AppointmentStatus.IN_PROGRESS, by=by)

    def complete(self, *, by: User) -> None:
        self._change_status(to=AppointmentStatus.COMPLETED, by=by)

    def mark_no_show(self, *, by: User) -> None:
        if self.can_become(AppointmentStatus.NO_SHOW) and not self.no_show_open():
            raise StatusChangeRefused(
                _("A no-show can be marked only after the appointment has started (from %(when)s)."),
                params={"when": _when(self.no_show_from(), self.location.zone)},
                code="too_early",
            )
        self._change_status(to=AppointmentStatus.NO_SHOW, by=by)

    def last_status_change(self) -> AppointmentStatusChange | None:
        """The change that set the current status, when it is one the front desk may undo or revert."""
        change = self.status_changes.filter(old_start__isnull=True).select_related("by").order_by("-at", "-id").first()
        if (
            change is None
            or change.to_status != self.status
            or change.to_status not in REVERSIBLE_STATUSES
            or change.reverts_id is not None
        ):
            return None
        return change

    def undo_until(self, change: AppointmentStatusChange) -> datetime:
        return change.at + timedelta(seconds=settings.APPOINTMENT_UNDO_SECONDS)

    def revert_status(self, *, by: User, reason: str = "", undo: bool = False) -> AppointmentStatusChange:
        """Put back the status before the last change: one click within the undo window
        (``undo``), or later with a reason. The change history keeps both rows."""
        reason = reason.strip()
        with transaction.atomic():
            self.status = Appointment.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
            change = self.last_status_change()
            if change is None:
                raise StatusChangeRefused(_("There is no status change here to undo."), code="nothing")
            if undo and timezone.now() > self.undo_until(change):
                raise StatusChangeRefused(
                    _("The time to undo has passed: revert it with a reason instead."), code="undo_expired"
                )
            if not undo and not reason:
                raise StatusChangeRefused(_("Say why the status is reverted."), code="reason")
            previous, target = self.status, change.from_status or AppointmentStatus.BOOKED
            self.status = target
            self.save(update_fields=["status"])
            return AppointmentStatusChange.objects.create(
                appointment=self, from_status=previous, to_status=target, by=by, reason=reason, reverts=change
            )

    def cancel(self, *, by: User, reason: str) -> None:
        reason = reason.strip()
        if not reason:
            raise StatusChangeRefused(_("Say why the appointment is cancelled."), code="reason")
        self.cancel_reason = reason
        self._change_status(to=AppointmentStatus.CANCELLED, by=by, reason=reason, extra_fields=("cancel_reason",))


class AppointmentStatusChange(models.Model):
    """Every change to an appointment after it was booked: who, when, which status to which, why.

    The booking itself is on the appointment (created_by, created_at). A reschedule is a
    change row too (same status, old and new times). Append-only (a trigger refuses edits).
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=AppointmentStatus.choices)
    by = models.ForeignKey(User, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True, max_length=NOTE)
    old_start = models.DateTimeField(null=True, blank=True)
    new_start = models.DateTimeField(null=True, blank=True)
    # Set on an undo or a revert: the change it took back (each at most once).
    reverts = models.OneToOneField(
        "self", verbose_name=_("reverts"), null=True, blank=True, on_delete=models.PROTECT, related_name="reverted_by"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("appointment change")
        verbose_name_plural = _("appointment changes")
        indexes = [models.Index(fields=["appointment", "at"], name="appointment_change_at")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]
        constraints = [
            text_fits("appointmentstatuschange", "reason", NOTE),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id}: {self.from_status or '—'} → {self.to_status} at {self.at.isoformat()}"

    @property
    def is_reschedule(self) -> bool:
        return self.old_start is not None

    @property
    def is_undo(self) -> bool:
        """Taken back with one click within the undo window (a revert carries a reason)."""
        return self.reverts_id is not None and not self.reason


# --- Security events: sign-in, sign-out, lockouts, refusals --------------------------------


class SecurityEventKind(models.TextChoices):
    SIGNED_IN = "signed_in", _("Signed in (password)")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    LOCKED_OUT = "locked_out", _("Locked out")
    SECOND_FACTOR_PASSED = "second_factor_passed", _("Second factor passed")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor failed")
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("Second factor set up")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed", _("Recovery codes renewed")
    SIGNED_OUT = "signed_out", _("Signed out")
    IDLE_SIGNED_OUT = "idle_signed_out", _("Signed out after being idle")
    OTHER_SESSIONS_ENDED = "other_sessions_ended", _("Other sessions ended")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_SET_BY_MANAGER = "password_set", _("Password set by the manager")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    PASSWORD_RESET_THROTTLED = "password_reset_throttled", _("Password reset refused (too many)")
    PASSWORD_RESET_DONE = "password_reset_done", _("Password reset by email")
    ACCOUNT_UNLOCKED = "account_unlocked", _("Account unlocked")
    FORBIDDEN = "forbidden", _("Refused (403)")


class SecurityEventQuerySet(models.QuerySet["SecurityEvent"]):
    def since(self, moment: datetime) -> SecurityEventQuerySet:
        return self.filter(at__gte=moment)

    def of_kind(self, *kinds: SecurityEventKind) -> SecurityEventQuerySet:
        return self.filter(kind__in=kinds)


class SecurityEvent(models.Model):
    """Who signed in, failed, was locked out, signed out or was refused: when, from where.

    Append-only like the audit tables (a trigger refuses UPDATE and DELETE). ``user`` is the
    account concerned when one is known; ``username`` keeps what was typed, so failed
    attempts at names that do not exist are recorded too. ``actor`` is who acted when it is
    someone else (the manager unlocking an account).
    """

    kind = models.CharField(_("what"), max_length=32, choices=SecurityEventKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("account"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(_("username typed"), max_length=150, blank=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    path = models.CharField(_("page"), max_length=500, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["user", "-at"], name="security_event_user_at"),
            models.Index(fields=["kind", "-at"], name="security_event_kind_at"),
            models.Index(fields=["ip_address", "kind", "-at"], name="security_event_ip_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id or self.username} at {self.at:%Y-%m-%d %H:%M}"
