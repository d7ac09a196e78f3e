from django.urls import URLPattern, path

from reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("recall/", views.recall, name="recall"),
]
for _slug in views.SPECS:
    urlpatterns += [
        path(f"{_slug}/", views.report, {"slug": _slug}, name=_slug),
        path(f"{_slug}/records/", views.records, {"slug": _slug}, name=f"{_slug}_records"),
    ]
