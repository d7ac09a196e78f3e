from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from clinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/verify/", views.verify, name="verify"),
    path("account/", views.account, name="account"),
    path("account/second-factor/", views.enrol, name="enrol"),
    path("account/recovery-codes/", views.recovery_codes_renew, name="recovery_codes_renew"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/other-sessions/", views.sessions_end_others, name="sessions_end_others"),
    path("account/keep-alive/", views.keep_alive, name="keep_alive"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("clinic/staff/<int:pk>/security/", views.staff_security, name="staff_security"),
    path("clinic/security-events/", views.security_events, name="security_events"),
]
