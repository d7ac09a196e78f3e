from django.urls import path

from consultations import views

app_name = "consultations"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/<int:appointment_pk>/", views.consultation_start, name="consultation_start"),
    path("<int:pk>/", views.consultation_detail, name="consultation_detail"),
    path("<int:pk>/edit/", views.consultation_edit, name="consultation_edit"),
    path("<int:pk>/hand-over/", views.consultation_hand_over, name="consultation_hand_over"),
    path("<int:pk>/preview/", views.consultation_preview, name="consultation_preview"),
    path("<int:pk>/addenda/", views.consultation_addendum, name="consultation_addendum"),
    path("<int:pk>/plan/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/consent/", views.plan_consent, name="plan_consent"),
    path("plans/to-book/", views.plans_to_book, name="plans_to_book"),
    path("plans/<int:pk>/book/", views.plan_book_session, name="plan_book_session"),
    path("appointments/<int:appointment_pk>/questionnaire-link/", views.questionnaire_link, name="questionnaire_link"),
    path(
        "appointments/<int:appointment_pk>/questionnaire-link/send/",
        views.questionnaire_link_send,
        name="questionnaire_link_send",
    ),
    path("questionnaire/<str:token>/", views.questionnaire, name="questionnaire"),
]
