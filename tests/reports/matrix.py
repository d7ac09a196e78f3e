"""The reports' URLs in the permission matrix: operations for the manager, outcomes and the
lot recall for the manager and the specialists."""

from __future__ import annotations

from reports.views import SPECS
from tests.matrix import Row, only

OUTCOMES_READERS = ("manager", "specialist")

ROWS: dict[str, Row] = {
    "reports:index": Row("get", lambda w: "/reports/", only(*OUTCOMES_READERS)),
    "reports:recall": Row("get", lambda w: "/reports/recall/", only(*OUTCOMES_READERS)),
}
for _slug, _spec in SPECS.items():
    _readers = OUTCOMES_READERS if _spec.audience == "outcomes" else ("manager",)
    ROWS[f"reports:{_slug}"] = Row("get", lambda w, s=_slug: f"/reports/{s}/", only(*_readers))
    ROWS[f"reports:{_slug}_records"] = Row("get", lambda w, s=_slug: f"/reports/{s}/records/", only(*_readers))
