from __future__ import annotations

from tests.matrix import Row, only

ROWS: dict[str, Row] = {
    "consultations:home": Row("get", lambda w: "/consultations/", only("specialist")),
}
