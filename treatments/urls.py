from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/<int:appointment_pk>/", views.session_start, name="session_start"),
    path("sessions/<int:pk>/hand-over/", views.session_hand_over, name="session_hand_over"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/rescreen/", views.session_rescreen, name="session_rescreen"),
    path("sessions/<int:pk>/log/", views.session_log, name="session_log"),
    path("sessions/<int:pk>/addenda/", views.session_addendum, name="session_addendum"),
    path("patients/<int:pk>/progress/", views.treatment_record_page, name="treatment_record"),
    path("plans/<int:plan_pk>/review/", views.progress_review, name="progress_review"),
    path("alerts/<int:pk>/seen/", views.alert_resolve, name="alert_resolve"),
    path("alerts/<int:pk>/resume/", views.alert_resume, name="alert_resume"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/lots/new/", views.lot_create, name="lot_create"),
    path("lots/<int:pk>/withdraw/", views.lot_withdraw, name="lot_withdraw"),
]
