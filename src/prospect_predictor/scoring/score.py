"""Scoring: outcome probabilities, a recommendation, and why — per prospect.

Pure: a loaded bundle and a validated frame in, a :class:`Scores` out. Contributions are
SHAP values in **log-odds against the reference outcome** (``win_win`` when the model has
it): for outcome k, ``ln(P(k) / P(win_win))``. They add up exactly: the average
prospect's value plus the four reasons' (and context's) contributions equals the
prospect's own value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prospect_predictor.domain import BAD_OUTCOMES, CONTEXT, OUTCOMES, REASONS
from prospect_predictor.explaining.contributions import (
    feature_contributions,
    reason_contributions,
    relative_to_reference,
)
from prospect_predictor.language import texts
from prospect_predictor.modeling.calibration import softmax

MAX_DRIVERS = 3
NONE = ""  # top_reason when no reason raises the risk of a bad outcome


@dataclass
class Scores:
    """Everything scoring computed for a batch, in the bundle's class order."""

    ids: np.ndarray
    classes: list[str]
    reference: str
    proba: np.ndarray  # (rows, classes)
    base: np.ndarray  # (classes,) log-odds against the reference, average prospect
    values: np.ndarray  # (rows, features, classes) log-odds against the reference
    features: list[str]
    feature_values: pd.DataFrame  # the features as scored (typed)
    reasons: dict[str, np.ndarray]  # reason -> (rows, classes); absent: no data
    recommendation: np.ndarray
    top_reason: np.ndarray
    top_reason_outcome: np.ndarray
    top_drivers: list[list[tuple[str, float]]]  # per row: (feature, contribution)


def recommend(proba: np.ndarray, classes: list[str], thresholds: dict) -> np.ndarray:
    """``walk_away`` when the bad outcomes (win_lose + stalled) reach ``walk_away_min_bad``
    or ``declined`` reaches ``walk_away_min_declined``; else ``pursue`` when win_win reaches
    ``pursue_min_win_win``; else ``qualify`` (worth one more meeting to find out)."""
    column = {c: proba[:, k] for k, c in enumerate(classes)}
    zero = np.zeros(len(proba))
    bad = sum((column.get(c, zero) for c in BAD_OUTCOMES), zero)
    walk = (bad >= thresholds["walk_away_min_bad"]) | (
        column.get("declined", zero) >= thresholds["walk_away_min_declined"]
    )
    pursue = column.get("win_win", zero) >= thresholds["pursue_min_win_win"]
    return np.where(walk, "walk_away", np.where(pursue, "pursue", "qualify")).astype(object)


def risk_outcomes(classes: list[str], reference: str) -> list[str]:
    """The outcomes whose risk the top reason explains: the bad ones the model has, else
    every outcome but the reference (e.g. ``declined`` for a yes/no history)."""
    bad = [c for c in BAD_OUTCOMES if c in classes]
    return bad or [c for c in classes if c != reference]


def score(
    model, metadata: dict, frame: pd.DataFrame, row_numbers: np.ndarray | None = None
) -> Scores:
    """Score a validated frame (the bundle's feature columns, typed) with a bundle's model.

    Without an id column, prospects are named by ``row_numbers`` (their rows in the input
    file), else by their position from 1."""
    features = list(metadata["features"])
    classes = list(metadata["classes"])
    reference = classes[0]
    data = frame[features]
    absolute, base, logits = feature_contributions(model, data, with_logits=True)
    proba = softmax(logits)
    values, base = relative_to_reference(absolute, base)
    reasons = reason_contributions(values, features, metadata["feature_reasons"])
    candidates = risk_outcomes(classes, reference)
    top_reason, top_outcome, drivers = _top_reasons(
        values, reasons, features, metadata["feature_reasons"], classes, candidates
    )
    id_column = metadata.get("id_column")
    if id_column and id_column in frame:
        ids = frame[id_column].astype(str).to_numpy(dtype=object)
    else:
        numbers = np.arange(1, len(frame) + 1) if row_numbers is None else row_numbers
        ids = np.asarray(numbers).astype(str).astype(object)
    return Scores(
        ids,
        classes,
        reference,
        proba,
        base,
        values,
        features,
        data,
        reasons,
        recommend(proba, classes, metadata["recommendation"]),
        top_reason,
        top_outcome,
        drivers,
    )


def _top_reasons(values, reasons, features, feature_reasons, classes, candidates):
    rows = values.shape[0]
    best = np.full(rows, 0.0)
    top_reason = np.full(rows, NONE, dtype=object)
    top_outcome = np.full(rows, NONE, dtype=object)
    for reason in REASONS:
        if reason not in reasons:
            continue
        for outcome in candidates:
            contribution = reasons[reason][:, classes.index(outcome)]
            better = contribution > best
            best = np.where(better, contribution, best)
            top_reason[better] = reason
            top_outcome[better] = outcome
    drivers: list[list[tuple[str, float]]] = []
    for i in range(rows):
        if top_reason[i] == NONE:
            drivers.append([])
            continue
        k = classes.index(top_outcome[i])
        own = [
            (f, float(values[i, j, k]))
            for j, f in enumerate(features)
            if feature_reasons.get(f) == top_reason[i] and values[i, j, k] > 0
        ]
        drivers.append(sorted(own, key=lambda item: -item[1])[:MAX_DRIVERS])
    return top_reason, top_outcome, drivers


def column_units(metadata: dict) -> dict[str, str | None]:
    """Each schema column's unit (e.g. EUR), for describing values in plain words."""
    return {name: spec.get("unit") for name, spec in metadata["schema"]["columns"].items()}


def describe_drivers(
    scores: Scores,
    row: int,
    feature_types: dict,
    units: dict,
    lang: str,
    values: dict | None = None,
) -> list[str]:
    """The top reason's drivers in plain words, e.g. ``3 postponements``. ``values``: the
    row's features as a dict when the caller has them (indexing a frame row by row is
    what made the output frame slow: measured 85 % of scoring 10,000 rows)."""
    if not scores.top_drivers[row]:
        return []
    values = scores.feature_values.iloc[row].to_dict() if values is None else values
    return [
        texts.describe_feature(
            name, values[name], lang, kind=feature_types[name], unit=units.get(name)
        )
        for name, _ in scores.top_drivers[row]
    ]


def advice_for(scores: Scores, row: int, lang: str) -> str:
    reason = scores.top_reason[row]
    return texts.advice(reason, lang) if reason != NONE else texts.ui("no_risk", lang)


REPORTED_OUTCOMES = tuple(o for o in OUTCOMES if o != "win_win")


def to_frame(
    scores: Scores, metadata: dict, lang: str, unknown_fields: list[str] | None = None
) -> pd.DataFrame:
    """One row per prospect with the documented, stable columns (see docs/scoring.md)."""
    feature_types = metadata["feature_types"]
    units = column_units(metadata)
    rows = len(scores.ids)
    missing = np.full(rows, np.nan)  # an outcome not modelled, or a reason without features
    columns: dict[str, object] = {"prospect_id": scores.ids}
    for outcome in OUTCOMES:
        columns[f"p_{outcome}"] = (
            scores.proba[:, scores.classes.index(outcome)] if outcome in scores.classes else missing
        )
    columns["recommendation"] = scores.recommendation
    columns["top_reason"] = scores.top_reason
    columns["top_reason_outcome"] = scores.top_reason_outcome
    for reason in (*REASONS, CONTEXT):
        for outcome in REPORTED_OUTCOMES:
            columns[f"reason_{reason}__{outcome}"] = (
                scores.reasons[reason][:, scores.classes.index(outcome)]
                if reason in scores.reasons and outcome in scores.classes
                else missing
            )
    columns["top_drivers"] = [
        "; ".join(describe_drivers(scores, i, feature_types, units, lang, row))
        for i, row in enumerate(scores.feature_values.to_dict(orient="records"))
    ]
    columns["advice"] = [advice_for(scores, i, lang) for i in range(rows)]
    # one constructor call: inserting 28 columns one by one cost more than scoring one lead
    out = pd.DataFrame(columns)
    out["no_data_reasons"] = ", ".join(r for r in REASONS if r not in scores.reasons)
    out["unknown_fields"] = ", ".join(unknown_fields or [])
    return out
