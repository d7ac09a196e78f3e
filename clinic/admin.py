from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clinic.models import (
    AccessEvent,
    Appointment,
    AppointmentType,
    Location,
    Patient,
    Room,
    StaffSchedule,
    TimeOff,
    User,
)
from clinic.services import patient_record_access, patients_listed_access


class PatientDataAdmin[M: Any](admin.ModelAdmin[M]):
    """An admin page that shows patient data writes access events like the app's own pages.

    The change page is a read of one patient's record; the list, one event per patient on it.
    """

    def patient_id_of(self, obj: M) -> int | None:
        return getattr(obj, "patient_id", None)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = (response.context_data or {}).get("cl") if isinstance(response, TemplateResponse) else None
        if changelist is not None and request.user.is_authenticated:
            shown = (self.patient_id_of(obj) for obj in changelist.result_list)
            patients_listed_access(
                acting_user=request.user,
                patient_ids=shown,
                request=request,
                page=f"admin:{self.opts.label_lower}:list",
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (response.context_data or {}).get("original") if isinstance(response, TemplateResponse) else None
        patient_id = self.patient_id_of(original) if original is not None else None
        if patient_id is not None and request.user.is_authenticated:
            patient_record_access(
                acting_user=request.user,
                patient=Patient(pk=patient_id),
                request=request,
                page=f"admin:{self.opts.label_lower}:change",
            )
        return response


@admin.register(User)
class StaffAdmin(UserAdmin[User]):
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Clinic", {"fields": ("home_location",)}))

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # Staff are deactivated ("Active" off), never deleted: deleting a user would take
        # their admin history with them. The database refuses it too (User's trigger).
        return False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ("name", "time_zone", "is_active")


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin[Patient]):
    list_display = ("last_name", "first_name", "date_of_birth", "email", "phone")
    search_fields = ("last_name", "first_name", "email", "phone")

    def patient_id_of(self, obj: Patient) -> int | None:
        return obj.pk


@admin.register(AccessEvent)
class AccessEventAdmin(PatientDataAdmin[AccessEvent]):
    list_display = ("at", "user", "patient", "page")
    list_select_related = ("user", "patient")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ("name", "location", "is_active")
    list_filter = ("location",)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin[AppointmentType]):
    list_display = ("name", "kind", "duration_minutes", "performed_by", "is_active")


@admin.register(StaffSchedule)
class StaffScheduleAdmin(admin.ModelAdmin[StaffSchedule]):
    list_display = ("staff", "location", "weekday", "start_time", "end_time")
    list_select_related = ("staff", "location")


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin[TimeOff]):
    list_display = ("staff", "start", "end", "reason")
    list_select_related = ("staff",)


@admin.register(Appointment)
class AppointmentAdmin(PatientDataAdmin[Appointment]):
    """Read-only: bookings change through the front desk's pages, which enforce the rules."""

    list_display = ("start", "patient", "practitioner", "room", "status")
    list_select_related = ("patient", "practitioner", "room")
    list_filter = ("status", "location")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
