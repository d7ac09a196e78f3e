# ruff: noqa: S608
# The SQL here is built from table names (Model._meta), fixed fragments and choice values
# defined in code; every value that comes from a request is a bound parameter.
"""Outcome reports (specialist and manager): does the treatment work, and is it safe.

Change in present lesions from the baseline (the consultation's counts) to the first
progress review of the plan, by lesion type; the responder rate; GAGS and IGA shift tables;
adverse signals per 100 sessions. Aggregates only: names appear only in the drill-down, and
only for roles that may see the clinical record (clinic.field_groups).

Minimum n: a figure over fewer than ``settings.REPORTS_MIN_N`` (5 by default) plans or
sessions reads "too few to tell". Why 5: below it one patient moves a median or a rate by 20
points or more, and a group that small can identify a patient in an aggregate.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.field_groups import FieldGroup, sees
from clinic.models import Appointment, Location, Patient, User
from consultations.grading import Lesion
from consultations.models import Consultation, TreatmentPlan
from reports import summaries
from reports.forms import Filters
from reports.framework import (
    Cell,
    Drill,
    Report,
    ReportSpec,
    Table,
    base_params,
    enough,
    number,
    on_local_days,
    percent,
    phone_cell,
    rows,
    too_few,
)
from reports.summaries import PLAN_OUTCOME, SESSION_SIGNALS_DAY
from treatments.charts import bar_chart
from treatments.models import ExtractionMethod, Product, ProductLot, ProgressReview, TreatmentSession

T = {
    "appt": Appointment._meta.db_table,
    "location": Location._meta.db_table,
    "user": User._meta.db_table,
    "patient": Patient._meta.db_table,
    "consultation": Consultation._meta.db_table,
    "plan": TreatmentPlan._meta.db_table,
    "session": TreatmentSession._meta.db_table,
    "review": ProgressReview._meta.db_table,
    "lot": ProductLot._meta.db_table,
    "product": Product._meta.db_table,
    "message": "aftercare_message",
    "checkin": "aftercare_checkin",
}
RECORDS_LIMIT = 500
LESIONS = tuple(Lesion.values)
# Non-inflammatory: comedones. Inflammatory: papules, pustules, nodules and cysts (the usual
# split in acne trials; nodules and cysts are inflammatory lesions too).
NON_INFLAMMATORY = ("open_comedones", "closed_comedones")
INFLAMMATORY = ("papules", "pustules", "nodules", "cysts")


def _lesion_sum(column: str, lesion: str) -> str:
    # The counts are {zone: {lesion: count}}; ``lesion`` is one of Lesion.values (a constant).
    return f"(SELECT coalesce(sum((z.v ->> '{lesion}')::int), 0) FROM jsonb_each({column}) AS z(k, v))"


def _band(column: str) -> str:
    # consultations.grading's bands: 0 clear, 1-18 mild, 19-30 moderate, 31-38 severe, 39+ very severe.
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} = 0 THEN '0 clear' WHEN {column} <= 18 THEN '1 mild' "
        f"WHEN {column} <= 30 THEN '2 moderate' WHEN {column} <= 38 THEN '3 severe' ELSE '4 very severe' END"
    )


GROUP_EXPRESSIONS = {
    "method": "method",
    "aesthetician": "aesthetician",
    "sessions": "sessions::text",
    "fitzpatrick": "CASE WHEN fitzpatrick IS NULL THEN '' WHEN fitzpatrick <= 2 THEN 'I–II' "
    "WHEN fitzpatrick <= 4 THEN 'III–IV' ELSE 'V–VI' END",
    "product": "product",
}

BREAKDOWNS = (
    ("method", gettext_lazy("Extraction method")),
    ("aesthetician", gettext_lazy("Aesthetician")),
    ("sessions", gettext_lazy("Number of sessions")),
    ("fitzpatrick", gettext_lazy("Fitzpatrick group")),
    ("product", gettext_lazy("Product")),
)

# One row per plan with a progress review: baseline and first-review counts by lesion type,
# the grades, and what the plan's signed sessions (up to that review) most often used. The
# per-plan sums over the jsonb counts are the expensive part: the reports read them from the
# summary (a materialized view, reports/summaries.py) built from this query, through its
# (location, review time) index; the test compares the two.
PLAN_OUTCOME_SQL = f"""
WITH r AS (
  SELECT DISTINCT ON (r.plan_id) r.plan_id, r.lesions_present, r.iga, r.gags_total, r.decided_at
  FROM {T["review"]} r ORDER BY r.plan_id, r.decided_at, r.id
)
SELECT pl.id AS plan_id, pl.patient_id, ca.location_id, r.decided_at, co.iga AS iga0, r.iga AS iga1,
  co.gags_score AS gags0, r.gags_total AS gags1, co.fitzpatrick,
  {", ".join(f"{_lesion_sum('co.lesion_counts', x)} AS b_{x}" for x in LESIONS)},
  {", ".join(f"{_lesion_sum('r.lesions_present', x)} AS f_{x}" for x in LESIONS)},
  ss.method, ss.aesthetician, ss.product, ss.sessions
FROM r JOIN {T["plan"]} pl ON pl.id = r.plan_id
JOIN {T["consultation"]} co ON co.id = pl.consultation_id
JOIN {T["appt"]} ca ON ca.id = co.appointment_id
CROSS JOIN LATERAL (
  SELECT count(*) AS sessions,
    coalesce(mode() WITHIN GROUP (ORDER BY s.extraction_method), '') AS method,
    coalesce(mode() WITHIN GROUP (ORDER BY concat_ws(' ', u.first_name, u.last_name)), '') AS aesthetician,
    coalesce(mode() WITHIN GROUP (ORDER BY pr.name), '') AS product
  FROM {T["session"]} s JOIN {T["user"]} u ON u.id = s.aesthetician_id
  LEFT JOIN {T["lot"]} l ON l.id = s.product_lot_id LEFT JOIN {T["product"]} pr ON pr.id = l.product_id
  WHERE s.plan_id = pl.id AND s.status = 'signed' AND s.started_at <= r.decided_at
) ss
"""

# One row per plan whose first progress review falls in the range.
OUTCOME_CTE = f"""
WITH plans AS (
  SELECT * FROM {PLAN_OUTCOME}
  WHERE decided_at >= %(start)s AND decided_at < %(end)s AND location_id = ANY(%(locs)s)
), t AS (
  SELECT plans.*,
    {" + ".join(f"b_{x}" for x in NON_INFLAMMATORY + INFLAMMATORY)} AS b_total,
    {" + ".join(f"f_{x}" for x in NON_INFLAMMATORY + INFLAMMATORY)} AS f_total
  FROM plans
)
"""


def _outcome_sql(group: str) -> str:
    expression = GROUP_EXPRESSIONS[group]
    medians = ", ".join(
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY 100.0 * (f_{x} - b_{x}) / b_{x})"
        f" FILTER (WHERE b_{x} > 0) AS m_{x}, "
        f"count(*) FILTER (WHERE b_{x} > 0) AS n_{x}"
        for x in LESIONS
    )
    return (
        OUTCOME_CTE
        + f"""
SELECT {expression} AS grp, grouping({expression}) AS is_all, count(*) AS n,
  count(*) FILTER (WHERE b_total > 0) AS responder_n,
  count(*) FILTER (WHERE b_total > 0 AND f_total <= 0.5 * b_total) AS responders,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY 100.0 * (f_total - b_total) / b_total)
    FILTER (WHERE b_total > 0) AS m_total,
  {medians}
FROM t GROUP BY GROUPING SETS (({expression}), ()) ORDER BY is_all DESC, grp
"""
    )


SHIFT_SQL = (
    OUTCOME_CTE
    + f"""
SELECT 'iga' AS scale, iga0::text AS before, iga1::text AS after, count(*) AS n FROM t
WHERE iga0 IS NOT NULL AND iga1 IS NOT NULL GROUP BY iga0, iga1
UNION ALL
SELECT 'gags', {_band("gags0")}, {_band("gags1")}, count(*) FROM t
WHERE gags0 IS NOT NULL AND gags1 IS NOT NULL GROUP BY 2, 3
"""
)

IGA_LABELS = ("0", "1", "2", "3", "4")
GAGS_BANDS = ("0 clear", "1 mild", "2 moderate", "3 severe", "4 very severe")


FITZPATRICK_GROUPS = ("I–II", "III–IV", "V–VI")


def _group_order(group: str, value: str | None) -> tuple[int, int, str]:
    """The order groups are listed in: phototypes I–II, III–IV, V–VI and sessions 1, 2, … 10 in
    their natural order (as text, "III–IV" sorts before "I–II" and "10" before "2"); the rest
    alphabetically; "not recorded" last."""
    if not value:
        return (1, 0, "")
    if group == "fitzpatrick" and value in FITZPATRICK_GROUPS:
        return (0, FITZPATRICK_GROUPS.index(value), "")
    if group == "sessions" and value.isdigit():
        return (0, int(value), "")
    return (0, 0, value.casefold())


def _group_label(group: str, value: str) -> str:
    if group == "method":
        return str(dict(ExtractionMethod.choices).get(value, value or _("not recorded")))
    return value or _("not recorded")


def _figure(value: float | None, n: int, href: str, *, suffix: str = "%") -> Cell:
    if not enough(n):
        return Cell(too_few(), href, n, True)
    return Cell(f"{value:+.0f}{suffix}" if value is not None else "—", href, n, True)


def outcomes_build(filters: Filters, user: User, drill: Drill) -> Report:
    group = filters.by if filters.by in GROUP_EXPRESSIONS else "method"
    params = base_params(filters)
    found = sorted(rows(_outcome_sql(group), params), key=lambda r: (not r["is_all"], _group_order(group, r["grp"])))
    table_rows = []
    for r in found:
        value = "" if r["is_all"] else (r["grp"] or "")
        link_params = {} if r["is_all"] else {"group": value}
        href = drill(**link_params)
        responder_cell = (
            Cell(percent(r["responders"], r["responder_n"], 0), href, r["responder_n"], True)
            if enough(r["responder_n"])
            else Cell(too_few(), href, r["responder_n"], True)
        )
        table_rows.append(
            (
                Cell(_("All plans") if r["is_all"] else _group_label(group, value)),
                Cell(str(r["n"]), href, numeric=True),
                responder_cell,
                _figure(r["m_total"], r["responder_n"], href),
                *(_figure(r[f"m_{x}"], r[f"n_{x}"], href) for x in LESIONS),
            )
        )
    shifts = rows(SHIFT_SQL, params)
    tables = [
        Table(
            _("Change in present lesions, baseline → progress review"),
            (
                str(dict(BREAKDOWNS)[group]),
                _("Plans"),
                _("Responders (≥50% fewer)"),
                _("Median change, all counted"),
                *(str(Lesion(x).label) for x in LESIONS),
            ),
            tuple(table_rows),
            key="change",
        )
    ]
    for scale, labels, caption in (
        ("iga", IGA_LABELS, _("IGA: baseline (rows) → progress review (columns)")),
        ("gags", GAGS_BANDS, _("GAGS band: baseline (rows) → progress review (columns)")),
    ):
        counts = {(s["before"], s["after"]): s["n"] for s in shifts if s["scale"] == scale}
        tables.append(
            Table(
                caption,
                (_("Baseline"), *labels),
                tuple(
                    (Cell(before), *(Cell(str(counts.get((before, after), 0)), numeric=True) for after in labels))
                    for before in labels
                ),
                key=scale,
            )
        )
    # Only groups with enough plans to tell: a point drawn for n=1 would read as a finding.
    by_group = [r for r in found if not r["is_all"] and enough(r["responder_n"])]
    chart = bar_chart(
        title=_("Responder rate (%%) by %(group)s") % {"group": str(dict(BREAKDOWNS)[group]).lower()},
        x_labels=[_group_label(group, r["grp"] or "") for r in by_group] or [_("none")],
        series=[
            (
                _("Responders"),
                [round(100 * r["responders"] / r["responder_n"]) if r["responder_n"] else 0 for r in by_group] or [0],
            )
        ],
    )
    return Report(tables, chart, notes=[summaries.refreshed_note(PLAN_OUTCOME, filters.zone)])


def outcome_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    group = filters.by if filters.by in GROUP_EXPRESSIONS else "method"
    value = params.get("group")
    found = rows(
        OUTCOME_CTE
        + f"""SELECT t.plan_id, t.decided_at, t.b_total, t.f_total, t.sessions, p.first_name, p.last_name
        FROM t JOIN {T["patient"]} p ON p.id = t.patient_id
        WHERE (%(value)s::text IS NULL OR {GROUP_EXPRESSIONS[group]} = %(value)s)
        ORDER BY t.decided_at, t.plan_id LIMIT {RECORDS_LIMIT}""",
        base_params(filters) | {"value": value},
    )
    show_names = sees(user, FieldGroup.CLINICAL_DECISION)
    headers: tuple[str, ...] = (_("Reviewed"), _("Sessions"), _("Baseline total"), _("At review"), _("Change"))
    if show_names:
        headers = (*headers, _("Patient"))
    result = []
    for x in found:
        cells = [
            Cell(
                timezone.localtime(x["decided_at"]).strftime("%Y-%m-%d"),
                reverse("consultations:plan_detail", args=[x["plan_id"]]) if show_names else "",
            ),
            Cell(str(x["sessions"]), numeric=True),
            Cell(str(x["b_total"]), numeric=True),
            Cell(str(x["f_total"]), numeric=True),
            Cell(percent(x["f_total"] - x["b_total"], x["b_total"], 0), numeric=True),
        ]
        if show_names:
            cells.append(Cell(f"{x['first_name']} {x['last_name']}"))
        result.append(tuple(cells))
    return Table(_("Plans reviewed"), headers, tuple(result))


# --- Adverse signals -------------------------------------------------------------------------

# The report's groups, over the session-signals summary or the live sessions (both "s"): the
# display names of the aesthetician and the lot are joined at read time (u, l, pr).
ADVERSE_GROUPS = {
    "method": "s.extraction_method",
    "aesthetician": "concat_ws(' ', u.first_name, u.last_name)",
    "lot": "concat_ws(' · ', pr.name, l.lot_number)",
}
ADVERSE_BREAKDOWNS = (
    ("method", gettext_lazy("Extraction method")),
    ("aesthetician", gettext_lazy("Aesthetician")),
    ("lot", gettext_lazy("Product lot")),
)


# The figures sum the session-signals summary's rows of the chosen breakdown (reports/summaries.py):
# a few per location and local day whatever the number of sessions, read through its key's
# (location, breakdown, day) prefix. A range is of local days of each location, as in the
# summary. Summed by the summary's key first (k), then named: the names (a display name may be
# shared) are made once per key, not once per day. The other breakdowns' rows have 0 for the
# aesthetician and lot (and a session without a lot has lot 0): LEFT JOINs, which match nothing
# there. coalesce: with no session at all, the total row still reads 0.
ADVERSE_SQL = f"""
WITH k AS (
  SELECT s.extraction_method, s.aesthetician_id, s.product_lot_id, sum(s.sessions) AS sessions,
    sum(s.complication) AS complication, sum(s.worried) AS worried, sum(s.still_red) AS still_red
  FROM {SESSION_SIGNALS_DAY} s
  WHERE s.location_id = ANY(%(locs)s) AND s.breakdown = %(breakdown)s AND s.day BETWEEN %(first)s AND %(last)s
  GROUP BY 1, 2, 3
), g AS (
  SELECT s.sessions, s.complication, s.worried, s.still_red, {{group}} AS grp
  FROM k s LEFT JOIN {T["user"]} u ON u.id = s.aesthetician_id
  LEFT JOIN {T["lot"]} l ON l.id = s.product_lot_id LEFT JOIN {T["product"]} pr ON pr.id = l.product_id
)
SELECT grp, grouping(grp) AS is_all, coalesce(sum(sessions), 0)::bigint AS n,
  coalesce(sum(complication), 0)::bigint AS complication, coalesce(sum(worried), 0)::bigint AS worried,
  coalesce(sum(still_red), 0)::bigint AS still_red
FROM g GROUP BY GROUPING SETS ((grp), ()) ORDER BY is_all DESC, grp
"""

# The drill-down lists the live sessions, by the same definition as the summary: signed, the
# appointment's start on a local day of its location in the range (framework.on_local_days).
ADVERSE_CTE = f"""
WITH s AS (
  SELECT s.id, s.patient_id, s.started_at, s.session_number, s.extraction_method,
    cardinality(s.complications) > 0 AS complication,
    EXISTS (SELECT 1 FROM {T["message"]} m JOIN {T["checkin"]} c ON c.message_id = m.id
      WHERE m.source = 'treatment_session:' || s.id AND c.answer = 'worried') AS worried,
    EXISTS (SELECT 1 FROM {T["message"]} m JOIN {T["checkin"]} c ON c.message_id = m.id
      WHERE m.source = 'treatment_session:' || s.id AND c.answer = 'red_or_sensitive') AS still_red,
    {{group}} AS grp
  FROM {T["session"]} s JOIN {T["appt"]} a ON a.id = s.appointment_id
  JOIN {T["location"]} lo ON lo.id = a.location_id
  JOIN {T["user"]} u ON u.id = s.aesthetician_id
  LEFT JOIN {T["lot"]} l ON l.id = s.product_lot_id LEFT JOIN {T["product"]} pr ON pr.id = l.product_id
  WHERE s.status = 'signed' AND a.location_id = ANY(%(locs)s)
    AND {on_local_days("a.start", "lo.time_zone")}
)
"""

SIGNALS = (
    ("complication", gettext_lazy("Complications logged")),
    ("worried", gettext_lazy("“Worried” check-ins")),
    ("still_red", gettext_lazy("“Still red” check-ins")),
)


def adverse_build(filters: Filters, user: User, drill: Drill) -> Report:
    group = filters.by if filters.by in ADVERSE_GROUPS else "method"
    found = rows(ADVERSE_SQL.format(group=ADVERSE_GROUPS[group]), base_params(filters) | {"breakdown": group})
    table_rows = []
    for r in found:
        value = "" if r["is_all"] else (r["grp"] or "")
        extra = {} if r["is_all"] else {"group": value}
        cells = [
            Cell(_("All sessions") if r["is_all"] else _group_label(group if group == "method" else "", value)),
            Cell(str(r["n"]), drill(**extra), numeric=True),
        ]
        for key, _label in SIGNALS:
            href = drill(signal=key, **extra)
            if enough(r["n"]):
                cells.append(Cell(number(100 * r[key] / r["n"]), href, r["n"], True))
            else:
                cells.append(Cell(too_few(), href, r["n"], True))
            cells.append(Cell(str(r[key]), href, numeric=True))
        table_rows.append(tuple(cells))
    headers = [str(dict(ADVERSE_BREAKDOWNS)[group]), _("Sessions")]
    for _key, label in SIGNALS:
        headers += [_("%(signal)s per 100 sessions") % {"signal": label}, _("count")]
    by_group = [r for r in found if not r["is_all"] and enough(r["n"])]
    chart = bar_chart(
        title=_("Signals per 100 sessions"),
        x_labels=[_group_label(group if group == "method" else "", r["grp"] or "") for r in by_group] or [_("none")],
        series=[
            (str(label), [round(100 * r[key] / r["n"]) if r["n"] else 0 for r in by_group] or [0])
            for key, label in SIGNALS
        ],
    )
    return Report(
        [Table(_("Adverse signals per 100 signed sessions"), tuple(headers), tuple(table_rows))],
        chart,
        notes=[summaries.refreshed_note(SESSION_SIGNALS_DAY, filters.zone)],
    )


def adverse_records(filters: Filters, params: dict[str, str], user: User) -> Table:
    group = filters.by if filters.by in ADVERSE_GROUPS else "method"
    signal = params.get("signal", "")
    condition = signal if signal in dict(SIGNALS) else "true"
    found = rows(
        ADVERSE_CTE.format(group=ADVERSE_GROUPS[group])
        + f"""SELECT s.id, s.started_at, s.session_number, s.grp, p.first_name, p.last_name
        FROM s JOIN {T["patient"]} p ON p.id = s.patient_id
        WHERE {condition} AND (%(value)s::text IS NULL OR s.grp = %(value)s)
        ORDER BY s.started_at, s.id LIMIT {RECORDS_LIMIT}""",
        base_params(filters) | {"value": params.get("group")},
    )
    show_names = sees(user, FieldGroup.SESSION_LOG)
    headers: tuple[str, ...] = (_("Session"), _("Number"), str(dict(ADVERSE_BREAKDOWNS)[group]))
    if show_names:
        headers = (*headers, _("Patient"))
    result = []
    for x in found:
        cells = [
            Cell(
                timezone.localtime(x["started_at"]).strftime("%Y-%m-%d %H:%M"),
                reverse("treatments:session_detail", args=[x["id"]]) if show_names else "",
            ),
            Cell(str(x["session_number"]), numeric=True),
            Cell(_group_label(group if group == "method" else "", x["grp"] or "")),
        ]
        if show_names:
            cells.append(Cell(f"{x['first_name']} {x['last_name']}"))
        result.append(tuple(cells))
    return Table(_("Sessions"), headers, tuple(result))


# --- Lot recall ------------------------------------------------------------------------------

RECALL_SQL = f"""
SELECT s.id, s.started_at, s.status, p.id AS patient_id, p.first_name, p.last_name, p.phone, p.email,
  p.preferred_contact, u.first_name AS staff_first, u.last_name AS staff_last
FROM {T["session"]} s JOIN {T["appt"]} a ON a.id = s.appointment_id
JOIN {T["patient"]} p ON p.id = s.patient_id JOIN {T["user"]} u ON u.id = s.aesthetician_id
WHERE s.product_lot_id = %(lot)s AND a.location_id = ANY(%(locs)s)
ORDER BY s.started_at, s.id
"""


def lot_recall(*, lot_id: int, location_ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """Every session that used the lot, at these locations, with the patient and how to reach them."""
    return rows(RECALL_SQL, {"lot": lot_id, "locs": list(location_ids)})


def recall_table(found: list[dict[str, Any]], caption: str) -> Table:
    return Table(
        caption,
        (_("Session"), _("Patient"), _("Phone"), _("Email"), _("Prefers"), _("Aesthetician")),
        tuple(
            (
                Cell(timezone.localtime(x["started_at"]).strftime("%Y-%m-%d %H:%M")),
                Cell(f"{x['first_name']} {x['last_name']}", reverse("clinic:patient_detail", args=[x["patient_id"]])),
                phone_cell(x["phone"]),
                Cell(x["email"]),
                Cell(x["preferred_contact"]),
                Cell(f"{x['staff_first']} {x['staff_last']}".strip()),
            )
            for x in found
        ),
    )


SPECS = (
    ReportSpec(
        slug="outcomes",
        title=gettext_lazy("Outcomes"),
        definition=gettext_lazy(
            "Plans whose first progress review falls in the range: the median % change in present lesions from "
            "the consultation's counts, by type; a responder has at least 50% fewer non-inflammatory plus "
            "inflammatory lesions."
        ),
        audience="outcomes",
        build=outcomes_build,
        records=outcome_records,
        breakdowns=BREAKDOWNS,
    ),
    ReportSpec(
        slug="adverse",
        title=gettext_lazy("Adverse signals"),
        definition=gettext_lazy(
            "Signed sessions in the range (by the local day of each location): those with a complication "
            "logged, a “worried” or a “still red” check-in answer, per 100 sessions."
        ),
        audience="outcomes",
        build=adverse_build,
        records=adverse_records,
        breakdowns=ADVERSE_BREAKDOWNS,
    ),
)
