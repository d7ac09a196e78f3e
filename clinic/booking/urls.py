"""The front desk's URLs. Included by clinic/urls.py into the ``clinic`` namespace, so
their names are ``clinic:front_desk_home``, ``clinic:appointment_new``, …"""

from __future__ import annotations

from django.urls import path

from clinic.booking import views

urlpatterns = [
    path("front-desk/", views.front_desk_home, name="front_desk_home"),
    path("front-desk/week/", views.schedule_week, name="schedule_week"),
    path("front-desk/day-sheet/", views.schedule_print, name="schedule_print"),
    path("front-desk/book/", views.slot_book, name="slot_book"),
    path("patients/<int:patient_pk>/book/", views.appointment_book_view, name="appointment_new"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/move/", views.appointment_reschedule_view, name="appointment_reschedule"),
    path("appointments/<int:pk>/status/", views.appointment_status, name="appointment_status"),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel_view, name="appointment_cancel"),
    path("appointments/<int:pk>/drop/", views.appointment_drop, name="appointment_drop"),
    path("appointments/<int:pk>/revert/", views.appointment_revert_view, name="appointment_revert"),
]
