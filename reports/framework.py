"""The report framework, written once: each report is a spec that builds tables and a chart.

A report's ``build`` reads aggregates from PostgreSQL (a fixed number of queries, whatever
the data's size) and returns tables of cells; every figure cell carries the link to the
records behind it (``drill``), and figures computed over a sample carry their ``n``. The
page, the CSV export and the drill-down views all read these same tables.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from clinic import phones, roles
from clinic.models import User
from reports.forms import Filters
from treatments.charts import Chart

StrOrPromise = str | Promise
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


# Not frozen, with slots: a big report makes thousands of cells, and a frozen dataclass's
# __init__ costs about four times as much (measured: 1.05 against 0.27 µs). Nothing changes a
# cell once made.
@dataclass(slots=True)
class Cell:
    text: str
    href: str = ""
    # The number of records a figure is computed over, shown beside it.
    n: int | None = None
    numeric: bool = False
    # What the CSV carries instead of ``text``, when that differs (a phone: E.164 there).
    csv: str | None = None

    @property
    def csv_text(self) -> str:
        if self.csv is not None:
            return self.csv
        return f"{self.text} (n={self.n})" if self.n is not None else self.text


def phone_cell(value: str | None) -> Cell:
    """A patient's phone: national form on screen (as everywhere in the app), E.164 in the CSV.

    The CSV keeps E.164 because what reads it is a dialer, an SMS gateway or a CRM import,
    which all take E.164 and cannot tell which country a national "07700 900101" is from.
    """
    return Cell(phones.display(value), csv=value or "")


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    key: str = "table"


@dataclass
class Report:
    tables: list[Table]
    chart: Chart | None = None
    figures: list[tuple[str, Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Drill:
    """Builds the link from a figure to the records behind it, keeping the report's filters."""

    slug: str
    filters: Filters

    @cached_property
    def _base(self) -> tuple[str, frozenset[str]]:
        # The records page and the filters' part of the query are the same for every figure of
        # a report: reversed and encoded once (a report links hundreds of figures).
        query = self.filters.query()
        return f"{reverse(f'reports:{self.slug}_records')}?{urlencode(query)}", frozenset(query)

    def __call__(self, **params: Any) -> str:
        base, keys = self._base
        if not params:
            return base
        if keys.isdisjoint(params):
            return f"{base}&{urlencode({k: str(v) for k, v in params.items()})}"
        query = self.filters.query() | {k: str(v) for k, v in params.items()}
        return f"{reverse(f'reports:{self.slug}_records')}?{urlencode(query)}"


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: StrOrPromise
    definition: StrOrPromise
    audience: str  # "operations" (manager) or "outcomes" (manager and specialist)
    build: Callable[[Filters, User, Drill], Report]
    records: Callable[[Filters, dict[str, str], User], Table]
    breakdowns: tuple[tuple[str, Any], ...] = ()
    uses_late_hours: bool = False

    def allowed(self, user: User) -> bool:
        if self.audience == "outcomes":
            return user.has_perm(roles.MANAGE_CLINIC) or user.has_perm(roles.WORK_CONSULTATIONS)
        return user.has_perm(roles.MANAGE_CLINIC)


def rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One query's rows as dicts (the aggregates a report reads; never raw records to count)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def base_params(filters: Filters) -> dict[str, Any]:
    return {
        "start": filters.start,
        "end": filters.end,
        "locs": list(filters.location_ids),
        "zone": filters.zone,
        "first": filters.first_day,
        "last": filters.last_day,
    }


def on_local_days(column: str, zone: str = "l.time_zone") -> str:
    """SQL: the time ``column`` falls on the report's days [first, last] as the local days of
    ``zone`` (the column of its location's time zone), as the day summaries count them. The
    bounds two days wider than the range in the viewer's zone (no two zones are more than 26
    hours apart) only let an index on ``column`` narrow the rows; the local day decides."""
    return (
        f"{column} >= %(start)s - interval '2 days' AND {column} < %(end)s + interval '2 days'\n"
        f"  AND ({column} AT TIME ZONE {zone})::date BETWEEN %(first)s AND %(last)s"
    )


def percent(part: int | float | None, whole: int | float | None, digits: int = 1) -> str:
    if not whole or part is None:
        return "—"
    return f"{100 * part / whole:.{digits}f}%"


def number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    # + 0.0 turns a rounded -0.0 into 0.0.
    return f"{round(value, digits) + 0.0:.{digits}f}"


def enough(n: int) -> bool:
    return n >= settings.REPORTS_MIN_N


def too_few() -> str:
    return _("too few to tell")


def to_csv(tables: Sequence[Table]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([table.caption])
        writer.writerow(table.headers)
        for row in table.rows:
            writer.writerow([_csv_safe(cell.csv_text) for cell in row])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection): names and
    # notes are typed by people, so such a cell gets a leading apostrophe. Negative numbers
    # ("-12.5%") are figures, not formulas, and keep their sign; a phone in E.164 ("+" and
    # digits only) carries no formula and keeps its "+" for the dialer.
    if E164.fullmatch(text):
        return text
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%").split(" ")[0])
    except ValueError:
        return False
    return True
