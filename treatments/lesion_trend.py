"""The lesion trend over a programme: counts from the consultation's baseline, then each session.

Pure functions over plain data (no database, no clock), so every figure is unit-tested.

What is compared: like with like. The baseline is the consultation's lesion counts (what was
present); each session contributes what was present when it started (counted before
extraction), and each progress review its own present count. Change from the baseline is
always present against present. What a session extracted is kept beside it as a separate
series: it measures the work done, not the skin (issue 10: comparing extracted with present
made Grace's counts fall 45% while her GAGS stayed at 12).
Severity is the GAGS grade of each point's present counts (``consultations.grading``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from consultations.grading import FACE_ZONES, OPTIONAL_ZONES, Band, Counts, Lesion, Zone, gags, gags_band

BASELINE = "baseline"
SESSION = "session"
REVIEW = "review"


@dataclass(frozen=True)
class Point:
    """One measurement of what is present: the baseline, a session (before extraction) or a review."""

    kind: str  # BASELINE, SESSION or REVIEW
    on: date
    counts: Counts  # lesions present
    number: int | None = None  # the session's number in the programme
    # What the session extracted (None for the baseline and reviews): a separate series.
    extracted: Counts | None = None

    def lesion_totals(self) -> dict[str, int]:
        totals = dict.fromkeys(Lesion.values, 0)
        for per_lesion in self.counts.values():
            for lesion, count in per_lesion.items():
                totals[Lesion(lesion).value] += count
        return totals

    def zone_total(self, zone: str) -> int:
        return sum(self.counts.get(zone, {}).values())

    @property
    def total(self) -> int:
        return sum(sum(per_lesion.values()) for per_lesion in self.counts.values())

    @property
    def gags_total(self) -> int:
        return gags(self.counts).total

    @property
    def extracted_total(self) -> int | None:
        if self.extracted is None:
            return None
        return sum(sum(per_lesion.values()) for per_lesion in self.extracted.values())


def percent_change(baseline: int, now: int) -> float | None:
    """The change from ``baseline`` to ``now`` in percent (negative is fewer); None without a baseline."""
    if baseline <= 0:
        return None
    return round((now - baseline) * 100 / baseline, 1)


@dataclass(frozen=True)
class Row:
    """One point's figures, as the trend's table and charts show them."""

    point: Point
    lesions: dict[str, int]
    zones: dict[str, int]
    total: int
    gags_total: int
    band: Band
    total_change: float | None  # vs the baseline, in percent


@dataclass(frozen=True)
class Change:
    label: str
    baseline: int
    latest: int
    percent: float | None


@dataclass(frozen=True)
class LesionTrend:
    rows: tuple[Row, ...]
    zones: tuple[Zone, ...]

    @property
    def baseline(self) -> Row | None:
        return self.rows[0] if self.rows and self.rows[0].point.kind == BASELINE else None

    @property
    def latest(self) -> Row | None:
        return self.rows[-1] if self.rows else None

    @property
    def has_comparison(self) -> bool:
        return self.baseline is not None and len(self.rows) > 1

    def lesion_series(self) -> dict[str, list[int]]:
        return {lesion: [row.lesions[lesion] for row in self.rows] for lesion in Lesion.values}

    def zone_series(self) -> dict[str, list[int]]:
        return {zone.value: [row.zones[zone.value] for row in self.rows] for zone in self.zones}

    def total_series(self) -> list[int]:
        return [row.total for row in self.rows]

    def gags_series(self) -> list[int]:
        return [row.gags_total for row in self.rows]

    def extracted_rows(self) -> list[Row]:
        """The sessions' rows, for the separate "extracted" series (the baseline and reviews extract nothing)."""
        return [row for row in self.rows if row.point.extracted is not None]

    def extracted_series(self) -> list[int]:
        return [row.point.extracted_total or 0 for row in self.extracted_rows()]

    def zone_changes(self) -> list[Change]:
        """Per zone: baseline, latest and percent change (zones with nothing at either end left out)."""
        if not self.has_comparison:
            return []
        first, last = self.rows[0], self.rows[-1]
        return [
            Change(
                str(zone.label),
                first.zones[zone.value],
                last.zones[zone.value],
                percent_change(first.zones[zone.value], last.zones[zone.value]),
            )
            for zone in self.zones
            if first.zones[zone.value] or last.zones[zone.value]
        ]

    def lesion_changes(self) -> list[Change]:
        if not self.has_comparison:
            return []
        first, last = self.rows[0], self.rows[-1]
        return [
            Change(
                str(Lesion(lesion).label),
                first.lesions[lesion],
                last.lesions[lesion],
                percent_change(first.lesions[lesion], last.lesions[lesion]),
            )
            for lesion in Lesion.values
            if first.lesions[lesion] or last.lesions[lesion]
        ]


def lesion_trend(points: Sequence[Point]) -> LesionTrend:
    """The figures for ``points``, in order: the baseline first when there is one, then visits by date.

    The optional zones (chest, back) are included only when some point counted there.
    """
    ordered = sorted(points, key=lambda p: (p.kind != BASELINE, p.on, p.number or 0))
    used_optional = tuple(zone for zone in OPTIONAL_ZONES if any(p.zone_total(zone.value) for p in ordered))
    zones = (*FACE_ZONES, *used_optional)
    baseline_total = ordered[0].total if ordered and ordered[0].kind == BASELINE else None
    rows = []
    for point in ordered:
        total = point.total
        gags_total = point.gags_total
        rows.append(
            Row(
                point=point,
                lesions=point.lesion_totals(),
                zones={zone.value: point.zone_total(zone.value) for zone in zones},
                total=total,
                gags_total=gags_total,
                band=gags_band(gags_total),
                total_change=(
                    percent_change(baseline_total, total)
                    if baseline_total is not None and point.kind != BASELINE
                    else None
                ),
            )
        )
    return LesionTrend(rows=tuple(rows), zones=zones)
