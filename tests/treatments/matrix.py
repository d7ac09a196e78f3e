from __future__ import annotations

from tests.matrix import Row, only

ROWS: dict[str, Row] = {
    "treatments:home": Row("get", lambda w: "/treatments/", only("aesthetician")),
}
