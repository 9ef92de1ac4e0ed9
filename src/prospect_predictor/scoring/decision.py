"""One decision per lead: the recommendation, the outcome it is about, the reason behind it
and its drivers, computed together so that what an advisor reads never contradicts itself.

The rule (docs/scoring.md states it for advisors):

1. **Tier.** Relative tiers (the default) compare each outcome's odds with its odds in the
   training history (its *lift*): ``walk_away`` when some unwanted outcome — any outcome
   but win_win: win_lose, stalled or declined — has a lift of at least
   ``walk_away_min_lift``; else ``pursue`` when win_win's lift reaches
   ``pursue_min_win_win_lift``; else ``qualify``. Absolute tiers (fixed probabilities) are
   the rule of earlier versions.
2. **The outcome explained** is the unwanted outcome that drives the tier: for
   ``walk_away``, the one that crossed its threshold (the likeliest if several did); for
   ``qualify`` and ``pursue``, the unwanted outcome most raised above its usual odds
   (relative tiers) or the likeliest one (absolute tiers).
3. **The top reason** is the reason that adds the most probability to that outcome —
   measured as the percentage points the outcome would lose without the reason's
   contribution to its own odds against win_win — and is named only from
   ``min_reason_points``; below, no single reason stands out.
4. **Drivers** are the top reason's features that each add at least
   ``min_driver_points`` to that outcome, largest first, at most ``max_drivers``.
5. **Blanks** that together add at least ``min_reason_points`` to that outcome, and at
   least as much as any reason adds from its known values, make the record *incomplete*:
   no reason is named, the drivers are the blank fields, and the advice is to complete
   them.

Advice then follows from the tier and the reason (:func:`advice`): the article's advice
to part ways only for ``walk_away`` and ``qualify``; for ``pursue``, what to watch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prospect_predictor.config.defaults import (
    ABSOLUTE_TIERS,
    EXPLANATION,
    RELATIVE_TIERS,
    outcome_rates,
    tier_mode,
)
from prospect_predictor.domain import BAD_OUTCOMES, REASONS
from prospect_predictor.language import texts

NONE = ""  # top_reason when no reason stands out; explained outcome when there is none
TIERS = ("pursue", "qualify", "walk_away")
ONE_TIER_SHARE = 0.95  # tiers that put this share of the holdout in one tier are warned about
RATE_FLOOR = 1e-6  # an outcome rate of 0 or 1 has no finite odds


@dataclass
class Decision:
    """Per lead, in the input's order."""

    recommendation: np.ndarray  # pursue / qualify / walk_away
    explained: np.ndarray  # the unwanted outcome the tier is about ("" if the model has none)
    top_reason: np.ndarray  # a reason, or "" when none stands out
    top_points: np.ndarray  # percentage points the top reason adds to the explained outcome
    # per lead, its drivers largest first: feature indices (-1 after the last) and points
    driver_index: np.ndarray  # (leads, max_drivers) int
    driver_points: np.ndarray  # (leads, max_drivers) float, -inf after the last
    incomplete: np.ndarray  # the blanks, not a reason, carry the explanation
    features: list[str]

    @property
    def drivers(self) -> list[list[tuple[str, float]]]:
        """Per lead: (feature, points), largest first (built on demand: a batch's text is
        built from the arrays)."""
        return [self.drivers_of(i) for i in range(len(self.driver_index))]

    def drivers_of(self, row: int) -> list[tuple[str, float]]:
        return [
            (self.features[j], float(p))
            for j, p in zip(self.driver_index[row], self.driver_points[row], strict=True)
            if j >= 0
        ]


def tier_rules(metadata: dict) -> dict:
    """The bundle's tiers with defaults filled in; relative tiers get the history's outcome
    rates (from the bundle's training rows when it predates ``base_rates``)."""
    given = dict(metadata.get("recommendation") or {})
    mode = tier_mode(given)
    rules = {"mode": mode, **(ABSOLUTE_TIERS if mode == "absolute" else RELATIVE_TIERS)}
    rules.update({k: v for k, v in given.items() if k in rules and v is not None})
    if mode == "relative":
        rates = given.get("base_rates") or outcome_rates(
            (metadata.get("data") or {}).get("rows_per_class") or {}
        )
        rules["base_rates"] = rates
    return rules


def explanation_rules(metadata: dict) -> dict:
    return {**EXPLANATION, **(metadata.get("explanation") or {})}


def unwanted_outcomes(classes: list[str], reference: str) -> list[str]:
    """Every outcome but win_win (the reference when the model has no win_win)."""
    keep = "win_win" if "win_win" in classes else reference
    return [c for c in classes if c != keep]


def lifts(proba: np.ndarray, classes: list[str], base_rates: dict) -> np.ndarray:
    """Each outcome's odds over its odds in the history, ``(rows, classes)``."""
    p = np.clip(proba, RATE_FLOOR, 1 - RATE_FLOOR)
    base = np.clip(
        np.array([float(base_rates.get(c, np.nan)) for c in classes]), RATE_FLOOR, 1 - RATE_FLOOR
    )
    return (p / (1 - p)) / (base / (1 - base))


def recommend(
    proba: np.ndarray, classes: list[str], rules: dict, reference: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The tier of each lead and the index (in ``classes``) of the unwanted outcome it is
    about, -1 when the model has no unwanted outcome."""
    rows = len(proba)
    unwanted = [classes.index(c) for c in unwanted_outcomes(classes, reference or classes[0])]
    column = {c: proba[:, k] for k, c in enumerate(classes)}
    zero = np.zeros(rows)
    if not unwanted:  # nothing unwanted can happen
        return np.full(rows, "pursue", dtype=object), np.full(rows, -1)
    if rules["mode"] == "relative":
        lift = lifts(proba, classes, rules["base_rates"])
        known = np.array([c in rules["base_rates"] for c in classes])
        lift[:, ~known] = -np.inf  # no rate to compare with: never drives a tier
        worst = np.asarray(unwanted)[lift[:, unwanted].argmax(axis=1)]
        walk = lift[np.arange(rows), worst] >= rules["walk_away_min_lift"]
        ww = classes.index("win_win") if "win_win" in classes else None
        pursue = lift[:, ww] >= rules["pursue_min_win_win_lift"] if ww is not None else zero > 0
        explained = worst
    else:
        bad_cols = [classes.index(c) for c in BAD_OUTCOMES if c in classes]
        bad = proba[:, bad_cols].sum(axis=1) if bad_cols else zero
        walk_bad = bad >= rules["walk_away_min_bad"]
        walk_declined = column.get("declined", zero) >= rules["walk_away_min_declined"]
        walk = walk_bad | walk_declined
        pursue = column.get("win_win", zero) >= rules["pursue_min_win_win"]
        # the likeliest unwanted outcome among those that crossed a threshold, else overall
        crossed = np.zeros((rows, len(classes)), dtype=bool)
        crossed[:, bad_cols] = walk_bad[:, None]
        if "declined" in classes:
            crossed[:, classes.index("declined")] |= walk_declined
        candidates = np.zeros((rows, len(classes)), dtype=bool)
        candidates[:, unwanted] = True
        candidates = np.where(crossed.any(axis=1, keepdims=True), crossed, candidates)
        explained = np.where(candidates, proba, -np.inf).argmax(axis=1)
    tier = np.where(walk, "walk_away", np.where(pursue, "pursue", "qualify")).astype(object)
    return tier, explained


def points_without(
    total: np.ndarray, part: np.ndarray, k: np.ndarray, with_part: np.ndarray | None = None
) -> np.ndarray:
    """Percentage points that outcome ``k`` (per row) loses when ``part``'s contribution to
    *its own* log-odds is taken out of ``total`` (both ``(..., classes)`` against the
    reference). Only k's own odds: a good fit that makes a refusal unlikely also leaves
    more room for a stall, but it is no reason for the stall. ``with_part``: outcome k's
    probability from ``total`` (``(...,)``), when the caller has it (the same numbers)."""
    shape = total.shape[:-1]
    k = np.broadcast_to(k, shape).ravel()
    columns = _columns(total)
    parts = _columns(part)
    without = [np.where(k == j, column - parts[j], column) for j, column in enumerate(columns)]
    if with_part is None:
        with_part = share_of(columns, k)
    return (100.0 * (with_part.ravel() - share_of(without, k))).reshape(shape)


def own_share(total: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Outcome ``k``'s probability (per row) from the log-odds ``total``."""
    shape = total.shape[:-1]
    return share_of(_columns(total), np.broadcast_to(k, shape).ravel()).reshape(shape)


def _columns(values: np.ndarray) -> list[np.ndarray]:
    """Each class's values as one contiguous array (rows of every leading axis)."""
    flat = values.reshape(-1, values.shape[-1])
    return [np.ascontiguousarray(flat[:, j]) for j in range(flat.shape[1])]


def share_of(columns: list[np.ndarray], k: np.ndarray) -> np.ndarray:
    """``calibration.softmax`` of the logits given class by class, at class ``k`` of each
    row: the same operations in the same order (shift by the row's maximum, exponentials,
    their sum from the first class to the last, one division), so the same bits
    (``tests/scoring/test_decision.py``), on contiguous arrays instead of rows of four."""
    top = columns[0]
    for column in columns[1:]:
        top = np.maximum(top, column)
    exps = [np.exp(column - top) for column in columns]
    total = exps[0]
    for value in exps[1:]:
        total = total + value
    return np.choose(k, exps) / total


def decide(
    proba: np.ndarray,
    base: np.ndarray,
    values: np.ndarray,
    reasons: dict[str, np.ndarray],
    features: list[str],
    feature_reasons: dict[str, str],
    classes: list[str],
    reference: str,
    metadata: dict,
    missing: np.ndarray | None = None,
) -> Decision:
    """The decision for a batch: ``values`` are the SHAP values ``(rows, features,
    classes)`` and ``base`` the average prospect's log-odds, both against ``reference``;
    ``reasons`` their sums per reason; ``missing`` marks the blank features ``(rows,
    features)``. When the blank features together add at least ``min_reason_points`` to
    the outcome explained, and at least as much as any reason does from its known values,
    the record is *incomplete*: no reason is named, the drivers are the blank fields."""
    rows = len(proba)
    tier, explained = recommend(proba, classes, tier_rules(metadata), reference)
    rules = explanation_rules(metadata)
    names = np.array([*classes, NONE], dtype=object)[explained]  # -1: the last, NONE
    top_reason = np.full(rows, NONE, dtype=object)
    top_points = np.full(rows, np.nan)
    width = int(rules["max_drivers"])
    driver_index = np.full((rows, width), -1, dtype=np.int64)
    driver_points = np.full((rows, width), -np.inf)
    incomplete = np.zeros(rows, dtype=bool)
    present = [r for r in REASONS if r in reasons]

    def decision() -> Decision:
        return Decision(
            tier, names, top_reason, top_points, driver_index, driver_points, incomplete, features
        )

    if not present or (explained < 0).all():
        return decision()
    k = np.maximum(explained, 0)
    total = base[None, :] + values.sum(axis=1)  # ln(P(c) / P(reference)) per lead
    share = own_share(total, k)  # the explained outcome's probability, computed once
    points = np.column_stack([points_without(total, reasons[r], k, share) for r in present])
    best = points.argmax(axis=1)
    best_points = points[np.arange(rows), best]
    named = (best_points >= rules["min_reason_points"]) & (explained >= 0)
    if missing is not None and missing.any():
        blank_values = values * missing[:, :, None]
        blank_points = points_without(total, blank_values.sum(axis=1), k, share)
        # each reason's points from its known values only: what could be said without blanks
        known_points = np.column_stack(
            [
                points_without(
                    total,
                    reasons[r]
                    - blank_values[:, [feature_reasons.get(f) == r for f in features], :].sum(
                        axis=1
                    ),
                    k,
                    share,
                )
                for r in present
            ]
        ).max(axis=1)
        incomplete = (
            (explained >= 0)
            & (blank_points >= rules["min_reason_points"])
            & (blank_points >= known_points)
        )
        named &= ~incomplete
    top_reason[named] = np.asarray(present, dtype=object)[best[named]]
    top_points[named] = best_points[named]
    chosen = np.flatnonzero(named | incomplete)
    if len(chosen):  # drivers: for the leads that get them, of the features that can be
        count = len(features)  # (the top reason's, or the blank ones), in one array pass
        code = {reason: index for index, reason in enumerate(present)}
        reason_code = np.array([code.get(feature_reasons.get(f), -1) for f in features])
        blank = missing[chosen] if missing is not None else np.zeros((len(chosen), count), bool)
        candidate = np.where(
            incomplete[chosen, None], blank, reason_code[None, :] == best[chosen, None]
        )
        row, feature = np.nonzero(candidate)
        lead = chosen[row]
        pair_points = points_without(total[lead], values[lead, feature], k[lead], share[lead])
        kept = pair_points >= rules["min_driver_points"]
        feature_points = np.full((len(chosen), count), -np.inf)
        feature_points[row[kept], feature[kept]] = pair_points[kept]
        order = np.argsort(-feature_points, axis=1, kind="stable")[:, :width]
        ranked = np.take_along_axis(feature_points, order, axis=1)
        driver_index[chosen, : order.shape[1]] = np.where(ranked > -np.inf, order, -1)
        driver_points[chosen, : order.shape[1]] = ranked
    return decision()


def advice(
    recommendation: str, reason: str, lang: str, blank_fields: list[str] | None = None
) -> str:
    """What to do: complete the record when its blanks carry the explanation; else the
    article's advice for the reason when the tier is walk_away or qualify; what to watch
    when it is pursue; a plain word when no reason stands out."""
    if blank_fields:
        return texts.ui("incomplete_advice", lang, fields=", ".join(blank_fields))
    if reason == NONE:
        return texts.ui(f"no_single_reason_{recommendation}", lang)
    if recommendation == "pursue":
        return texts.watch(reason, lang)
    return texts.advice(reason, lang)


@dataclass
class TierTable:
    """How labelled prospects (the holdout) fall into the tiers, and how each tier's
    prospects really turned out: the evidence that ``pursue`` wins more."""

    rows: int
    counts: dict[str, int]  # tier -> prospects
    outcome_mix: dict[str, dict[str, float]]  # tier -> realised outcome -> share
    warnings: list[str]

    def share(self, tier: str) -> float:
        return self.counts[tier] / self.rows if self.rows else 0.0

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "tiers": {
                t: {
                    "share": self.share(t),
                    "count": self.counts[t],
                    "outcomes": self.outcome_mix[t],
                }
                for t in TIERS
            },
            "warnings": self.warnings,
        }

    def metrics(self) -> dict[str, float]:
        values = {f"tier_share_{t}": self.share(t) for t in TIERS}
        for t in TIERS:
            if self.counts[t]:  # an empty tier has no outcome mix
                values.update({f"tier_{t}_rate_{o}": s for o, s in self.outcome_mix[t].items()})
        return values


def tier_table(proba: np.ndarray, classes: list[str], y_true: np.ndarray, rules: dict) -> TierTable:
    """The tiers of labelled prospects against their realised outcomes, with a warning
    when one tier holds :data:`ONE_TIER_SHARE` of them or more, and when ``pursue`` did not
    turn out win-win more often than the other tiers."""
    tier, _ = recommend(proba, classes, rules)
    y_true = np.asarray(y_true, dtype=object)
    counts = {t: int((tier == t).sum()) for t in TIERS}
    mix = {
        t: {
            c: float((y_true[tier == t] == c).mean()) if counts[t] else float("nan")
            for c in classes
        }
        for t in TIERS
    }
    rows = len(tier)
    warnings = []
    crowded = [t for t in TIERS if rows and counts[t] / rows >= ONE_TIER_SHARE]
    if crowded:
        warnings.append(
            f"the tiers put {counts[crowded[0]] / rows:.0%} of the holdout in "
            f"{crowded[0]}: they do not separate these prospects; review [recommendation]"
        )
    if "win_win" in classes and counts["pursue"]:
        others = [t for t in TIERS if t != "pursue" and counts[t]]
        won = mix["pursue"]["win_win"]
        beaten = [t for t in others if mix[t]["win_win"] >= won]
        if beaten:
            warnings.append(
                f"pursue prospects became win-win {won:.0%} of the time, no more than "
                + ", ".join(f"{t} ({mix[t]['win_win']:.0%})" for t in beaten)
                + ": the tiers do not rank these prospects"
            )
    return TierTable(rows, counts, mix, warnings)
