"""Scoring: outcome probabilities, a recommendation, and why — per prospect.

Pure: a loaded bundle and a validated frame in, a :class:`Scores` out. Contributions are
SHAP values in **log-odds against the reference outcome** (``win_win`` when the model has
it): for outcome k, ``ln(P(k) / P(win_win))``. They add up exactly: the average
prospect's value plus the four reasons' (and context's) contributions equals the
prospect's own value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.explaining.contributions import (
    feature_contributions,
    reason_contributions,
    relative_to_reference,
)
from prospect_predictor.language import texts
from prospect_predictor.modeling.calibration import softmax
from prospect_predictor.scoring.decision import advice, decide

if TYPE_CHECKING:
    import pandas as pd

    from prospect_predictor.explaining.form_base import Columns


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
    feature_values: Columns  # the features as scored (typed): a frame, or one lead's mapping
    reasons: dict[str, np.ndarray]  # reason -> (rows, classes); absent: no data
    recommendation: np.ndarray
    top_reason: np.ndarray  # a reason, or "" when no single reason stands out
    top_reason_outcome: np.ndarray  # the unwanted outcome the decision is about
    top_reason_points: np.ndarray  # points the top reason adds to that outcome (NaN: none)
    top_drivers: list[list[tuple[str, float]]]  # per row: (feature, points)
    incomplete: np.ndarray  # the blanks carry the explanation: the drivers are blank fields
    phrases: dict  # the pipeline's phrases for its features (the bundle's metadata)


def score(model, metadata: dict, frame: Columns, row_numbers: np.ndarray | None = None) -> Scores:
    """Score a validated frame (the bundle's feature columns, typed) with a bundle's model;
    or, with a scoring form, a mapping of column -> values (one lead without pandas:
    :mod:`prospect_predictor.scoring.one_lead`).

    Without an id column, prospects are named by ``row_numbers`` (their rows in the input
    file), else by their position from 1."""
    features = list(metadata["features"])
    classes = list(metadata["classes"])
    reference = classes[0]
    is_frame = hasattr(frame, "iloc")
    data = frame[features] if is_frame else {f: frame[f] for f in features}
    absolute, base, logits = feature_contributions(model, data, with_logits=True)
    proba = softmax(logits)
    values, base = relative_to_reference(absolute, base)
    reasons = reason_contributions(values, features, metadata["feature_reasons"])
    decision = decide(
        proba,
        base,
        values,
        reasons,
        features,
        metadata["feature_reasons"],
        classes,
        reference,
        metadata,
        missing=unknown_blanks(data, metadata),
    )
    id_column = metadata.get("id_column")
    if id_column and id_column in frame:
        column = frame[id_column]
        ids = (
            column.astype(str).to_numpy(dtype=object)
            if is_frame
            else np.array([str(v) for v in column], dtype=object)
        )
    else:
        numbers = np.arange(1, len(proba) + 1) if row_numbers is None else row_numbers
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
        decision.recommendation,
        decision.top_reason,
        decision.explained,
        decision.top_points,
        decision.drivers,
        decision.incomplete,
        dict(metadata.get("phrases") or {}),
    )


def unknown_blanks(data: Columns, metadata: dict) -> np.ndarray:
    """The blank cells that mean "unknown" ``(rows, features)``: a column whose blanks the
    schema gives a meaning (``blank_means``, e.g. never replied) is information, not a
    gap in the record. ``data``: a frame, or a mapping of column -> values (None or NaN
    when blank)."""
    columns = metadata["schema"]["columns"]
    if hasattr(data, "iloc"):
        blank = data.isna().to_numpy(dtype=bool)
    else:
        blank = np.array([[v is None or v != v for v in data[f]] for f in data], dtype=bool).T
    meaningful = [bool((columns.get(f) or {}).get("blank_means")) for f in data]
    blank[:, np.asarray(meaningful, dtype=bool)] = False
    return blank


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
            name,
            values[name],
            lang,
            kind=feature_types[name],
            unit=units.get(name),
            phrases=scores.phrases,
        )
        for name, _ in scores.top_drivers[row]
    ]


def advice_for(scores: Scores, row: int, lang: str) -> str:
    """The advice that fits the lead's tier and top reason (:func:`decision.advice`)."""
    return advice(
        scores.recommendation[row], scores.top_reason[row], lang, blank_fields(scores, row, lang)
    )


def blank_fields(scores: Scores, row: int, lang: str) -> list[str]:
    """The blank fields that carry an incomplete record's explanation, in words."""
    if not scores.incomplete[row]:
        return []
    return [texts.column_label(name, lang, scores.phrases) for name, _ in scores.top_drivers[row]]


REPORTED_OUTCOMES = tuple(o for o in OUTCOMES if o != "win_win")


def to_frame(
    scores: Scores, metadata: dict, lang: str, unknown_fields: list[str] | None = None
) -> pd.DataFrame:
    """One row per prospect with the documented, stable columns (see docs/scoring.md)."""
    import pandas as pd

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
    columns["top_reason_points"] = scores.top_reason_points
    for reason in (*REASONS, CONTEXT):
        for outcome in REPORTED_OUTCOMES:
            columns[f"reason_{reason}__{outcome}"] = (
                scores.reasons[reason][:, scores.classes.index(outcome)]
                if reason in scores.reasons and outcome in scores.classes
                else missing
            )
    columns["top_drivers"] = [
        texts.listed(describe_drivers(scores, i, feature_types, units, lang, row), lang)
        for i, row in enumerate(scores.feature_values.to_dict(orient="records"))
    ]
    columns["advice"] = [advice_for(scores, i, lang) for i in range(rows)]
    columns["incomplete_record"] = scores.incomplete
    # one constructor call: inserting 28 columns one by one cost more than scoring one lead
    out = pd.DataFrame(columns)
    out["no_data_reasons"] = ", ".join(r for r in REASONS if r not in scores.reasons)
    out["unknown_fields"] = ", ".join(unknown_fields or [])
    return out


def explain_rows(model, metadata: dict, raw: pd.DataFrame, lang: str | None = None):
    """Raw export rows (text, booleans, numbers) to the output columns of ``prospect score``
    (one row per lead, the pipeline's language unless ``lang``): what the registered MLflow
    model's ``predict`` returns. Invalid rows raise, naming the row and field
    (:func:`prospect_predictor.data.leads.leads_from_frame`)."""
    from prospect_predictor.data.leads import leads_from_frame

    leads = leads_from_frame(raw, metadata)
    scores = score(model, metadata, leads.frame, leads.rows)
    return to_frame(scores, metadata, lang or metadata.get("language", "en"), leads.unknown_fields)


def output_columns() -> list[tuple[str, str]]:
    """:func:`to_frame`'s columns in order, each with its kind (``text``, ``number`` or
    ``flag``): the schema a scorer must declare before it has scored a row (Spark)."""
    numbers = [f"p_{outcome}" for outcome in OUTCOMES]
    texts_ = ["recommendation", "top_reason", "top_reason_outcome"]
    reasons = [f"reason_{r}__{o}" for r in (*REASONS, CONTEXT) for o in REPORTED_OUTCOMES]
    return [
        ("prospect_id", "text"),
        *[(name, "number") for name in numbers],
        *[(name, "text") for name in texts_],
        ("top_reason_points", "number"),
        *[(name, "number") for name in reasons],
        ("top_drivers", "text"),
        ("advice", "text"),
        ("incomplete_record", "flag"),
        ("no_data_reasons", "text"),
        ("unknown_fields", "text"),
    ]
