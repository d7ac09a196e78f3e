"""The report pages: one view draws any report, one lists the records behind a figure."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from clinic import roles
from clinic.http import AuthenticatedHttpRequest
from clinic.services import patients_listed_access
from reports import operations, outcomes
from reports.forms import LotChoiceForm, ReportFilterForm
from reports.framework import Drill, ReportSpec, to_csv
from treatments.models import ProductLot

SPECS: dict[str, ReportSpec] = {spec.slug: spec for spec in (*operations.SPECS, *outcomes.SPECS)}


def _spec(request: AuthenticatedHttpRequest, slug: str) -> ReportSpec:
    spec = SPECS.get(slug)
    if spec is None:
        raise Http404
    if not spec.allowed(request.user):
        raise PermissionDenied(_("This report is not available to your role."))
    return spec


def _form(request: AuthenticatedHttpRequest, spec: ReportSpec) -> ReportFilterForm:
    return ReportFilterForm(request.GET or None, user=request.user, breakdowns=spec.breakdowns)


def _zone(request: AuthenticatedHttpRequest):  # type: ignore[no-untyped-def]
    return request.location.zone if request.location else None


def _csv(filename: str, body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    visible = [spec for spec in SPECS.values() if spec.allowed(request.user)]
    may_recall = request.user.has_perm(roles.MANAGE_CLINIC) or request.user.has_perm(roles.WORK_CONSULTATIONS)
    if not visible:
        raise PermissionDenied(_("Reports are not available to your role."))
    return render(request, "reports/index.html", {"specs": visible, "may_recall": may_recall})


def report(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    spec = _spec(request, slug)
    form = _form(request, spec)
    filters = form.filters(zone=_zone(request))
    built = spec.build(filters, request.user, Drill(spec.slug, filters))
    if request.GET.get("export") == "csv" and not form.errors:
        return _csv(f"{spec.slug}-{filters.first_day}-{filters.last_day}", to_csv(built.tables))
    export_query = request.GET.copy()
    export_query["export"] = "csv"
    return render(
        request,
        "reports/report.html",
        {
            "spec": spec,
            "form": form,
            "filters": filters,
            "report": built,
            "export_url": f"{request.path}?{export_query.urlencode()}",
        },
    )


def records(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    spec = _spec(request, slug)
    form = _form(request, spec)
    filters = form.filters(zone=_zone(request))
    table = spec.records(filters, request.GET.dict(), request.user)
    if request.GET.get("export") == "csv":
        return _csv(f"{spec.slug}-records", to_csv([table]))
    back = request.GET.copy()
    for key in (
        "type",
        "status",
        "practitioner",
        "room",
        "day",
        "period",
        "step",
        "aesthetician",
        "rebooked",
        "kind",
        "answer",
        "group",
        "signal",
        "export",
    ):
        back.pop(key, None)
    export_query = request.GET.copy()
    export_query["export"] = "csv"
    return render(
        request,
        "reports/records.html",
        {
            "spec": spec,
            "table": table,
            "filters": filters,
            "back_url": f"{reverse(f'reports:{spec.slug}')}?{back.urlencode()}",
            "export_url": f"{request.path}?{export_query.urlencode()}",
        },
    )


def recall(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not (request.user.has_perm(roles.MANAGE_CLINIC) or request.user.has_perm(roles.WORK_CONSULTATIONS)):
        raise PermissionDenied(_("The lot recall is for the manager and the specialists."))
    lots = ProductLot.objects.select_related("product").order_by("product__name", "lot_number")
    form = LotChoiceForm(request.GET or None, lots=lots)
    table = None
    lot = None
    if form.is_bound and form.is_valid():
        lot = form.cleaned_data["lot"]
        locations = tuple(sorted(request.user.location_ids()))
        found = outcomes.lot_recall(lot_id=lot.pk, location_ids=locations)
        # A recall lists patients and how to reach them: each run is an access event per patient.
        patients_listed_access(
            acting_user=request.user,
            patient_ids=(row["patient_id"] for row in found),
            request=request,
            page=f"lot_recall:{lot.pk}",
        )
        table = outcomes.recall_table(found, _("Sessions that used lot %(lot)s") % {"lot": lot})
        if request.GET.get("export") == "csv":
            return _csv(f"recall-{lot.lot_number}", to_csv([table]))
    export_query = request.GET.copy()
    export_query["export"] = "csv"
    return render(
        request,
        "reports/recall.html",
        {"form": form, "table": table, "lot": lot, "export_url": f"{request.path}?{export_query.urlencode()}"},
    )
