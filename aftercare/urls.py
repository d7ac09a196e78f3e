from django.urls import path

from aftercare import views

app_name = "aftercare"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
    path("sequence/", views.sequence, name="sequence"),
    path("sequence/<int:pk>/", views.template_edit, name="template_edit"),
    path("patients/<int:pk>/messages/", views.patient_messages, name="patient_messages"),
    path("queue/", views.specialist_queue, name="specialist_queue"),
    path("queue/<int:pk>/resolve/", views.queue_resolve, name="queue_resolve"),
    path(
        "reschedule-requests/<int:pk>/handled/",
        views.reschedule_request_handled,
        name="reschedule_request_handled",
    ),
    # Patients' links from emails: no sign-in, signed and expiring tokens.
    path("c/<str:token>/", views.checkin, name="checkin"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("a/<str:token>/", views.appointment_reply, name="appointment_reply"),
]
