from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from clinic import views
from clinic.forms import SignInForm

app_name = "clinic"

clinic_patterns: list[URLPattern | URLResolver] = [
    path("", include("clinic.booking.urls")),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", views.patient_edit, name="patient_edit"),
    path("clinic/", views.manager_home, name="manager_home"),
    path("clinic/audit/", views.audit, name="audit"),
    path("clinic/staff/new/", views.staff_create, name="staff_create"),
    path("clinic/staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("clinic/setup/working-hours/staff/<int:pk>/", views.working_hours_week, name="working_hours_week"),
    path("clinic/setup/<slug:section>/", views.setup_list, name="setup_list"),
    path("clinic/setup/<slug:section>/new/", views.setup_edit, name="setup_create"),
    path("clinic/setup/<slug:section>/<int:pk>/", views.setup_edit, name="setup_edit"),
    path("clinic/setup/<slug:section>/<int:pk>/delete/", views.setup_delete, name="setup_delete"),
    path("location/", views.switch_location, name="switch_location"),
    path("clinic/role-grants/", views.role_grants, name="role_grants"),
    path("clinic/role-grants/<int:pk>/", views.role_grant_decide_view, name="role_grant_decide"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(authentication_form=SignInForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("", include((clinic_patterns, "clinic"))),
    path("", include("clinic.accounts.urls")),
    path("consultations/", include("consultations.urls")),
    path("treatments/", include("treatments.urls")),
    path("aftercare/", include("aftercare.urls")),
    path("reports/", include("reports.urls")),
    path("photos/", include("photos.urls")),
    path("", include("online.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler403 = "clinic.views.permission_denied"
