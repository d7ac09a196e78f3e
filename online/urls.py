from django.urls import path

from online import views

app_name = "online"

urlpatterns = [
    # Public pages: no sign-in. Booking and the waitlist per location.
    path("book/<slug:slug>/", views.book, name="book"),
    path("book/<slug:slug>/time/", views.book_details, name="book_details"),
    path("book/<slug:slug>/sent/", views.book_sent, name="book_sent"),
    path("book/<slug:slug>/waitlist/", views.waitlist_join, name="waitlist_join"),
    # Patients' links from emails: signed, expiring tokens.
    path("o/confirm/<str:token>/", views.confirm, name="confirm"),
    path("o/appointment/<str:token>/", views.manage, name="manage"),
    path("o/appointment/<str:token>/move/", views.manage_move, name="manage_move"),
    path("o/offer/<str:token>/", views.offer, name="offer"),
    # The front desk.
    path("front-desk/online/", views.front_desk_online, name="front_desk"),
    path("front-desk/online/waitlist/<int:patient_pk>/", views.waitlist_add, name="waitlist_add"),
    path("front-desk/online/duplicates/<int:pk>/resolve/", views.duplicate_resolve, name="duplicate_resolve"),
]
