from django.urls import path

from photos import views

app_name = "photos"

urlpatterns = [
    path("patients/<int:pk>/", views.patient_photos, name="patient_photos"),
    path("patients/<int:pk>/consent/", views.consent_record, name="consent_record"),
    path("patients/<int:pk>/compare/", views.compare, name="compare"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("<uuid:public_id>/", views.photo_detail, name="photo_detail"),
    path("<uuid:public_id>/image/", views.photo_image, name="photo_image"),
    path("<uuid:public_id>/thumbnail/", views.photo_thumbnail, name="photo_thumbnail"),
    path("<uuid:public_id>/markers/", views.marker_add, name="marker_add"),
    path("markers/<int:pk>/remove/", views.marker_remove, name="marker_remove"),
]
