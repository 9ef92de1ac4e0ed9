"""The product's defaults for the decision per lead, as plain values: the pipeline config
(pydantic) and scoring (which must start fast, and reads bundles written with any of
them) take them from here, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping

ABSOLUTE_TIERS = {
    "pursue_min_win_win": 0.40,
    "walk_away_min_bad": 0.55,
    "walk_away_min_declined": 0.75,
}
"""Fixed probabilities: the tiers of earlier versions (``mode = "absolute"``)."""

RELATIVE_TIERS = {"pursue_min_win_win_lift": 1.5, "walk_away_min_lift": 2.0}
"""Odds ratios against the history's outcome rates (the default mode)."""

EXPLANATION = {"min_reason_points": 5.0, "min_driver_points": 1.0, "max_drivers": 3}
"""When a reason and a driver are worth naming."""


def tier_mode(given: Mapping) -> str:
    """``mode`` when given, else absolute when any absolute threshold is, else relative."""
    if given.get("mode"):
        return given["mode"]
    return "absolute" if any(given.get(k) is not None for k in ABSOLUTE_TIERS) else "relative"


def outcome_rates(rows_per_class: Mapping[str, int]) -> dict[str, float]:
    """Each outcome's share of the training rows: what relative tiers compare with."""
    total = sum(rows_per_class.values())
    return {c: n / total for c, n in rows_per_class.items()} if total else {}
