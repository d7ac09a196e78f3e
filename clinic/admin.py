from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ("last_name", "first_name", "date_of_birth", "email", "phone")
    search_fields = ("last_name", "first_name", "email", "phone")


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin[AccessEvent]):
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
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
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
