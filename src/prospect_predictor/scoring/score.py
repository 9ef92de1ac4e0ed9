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
from prospect_predictor.scoring.decision import Decision, advice, decide

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
    decision: Decision  # the drivers as arrays (feature indices and points per row)
    incomplete: np.ndarray  # the blanks carry the explanation: the drivers are blank fields
    phrases: dict  # the pipeline's phrases for its features (the bundle's metadata)

    @property
    def top_drivers(self) -> list[list[tuple[str, float]]]:
        """Per row: (feature, points), largest first."""
        return self.decision.drivers


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
        decision,
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
    drivers = scores.decision.drivers_of(row)
    if not drivers:
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
        for name, _ in drivers
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
    return [
        texts.column_label(name, lang, scores.phrases)
        for name, _ in scores.decision.drivers_of(row)
    ]


REPORTED_OUTCOMES = tuple(o for o in OUTCOMES if o != "win_win")


def to_frame(
    scores: Scores, metadata: dict, lang: str, unknown_fields: list[str] | None = None
) -> pd.DataFrame:
    """One row per prospect with the documented, stable columns (see docs/scoring.md)."""
    import pandas as pd

    return pd.DataFrame(batch_columns(scores, metadata, lang, unknown_fields))


def batch_columns(
    scores: Scores, metadata: dict, lang: str, unknown_fields: list[str] | None = None
) -> dict[str, np.ndarray]:
    """:func:`to_frame`'s columns as arrays, in order (what the writers write). The text
    columns are gathered from phrases and advice worded once per distinct value in the
    batch (:func:`driver_texts`, :func:`advice_texts`), not once per row."""
    rows = len(scores.ids)
    missing = np.full(rows, np.nan)  # an outcome not modelled, or a reason without features
    columns: dict[str, np.ndarray] = {"prospect_id": scores.ids}
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
    columns["top_drivers"] = driver_texts(scores, metadata, lang)
    columns["advice"] = advice_texts(scores, lang)
    columns["incomplete_record"] = scores.incomplete
    columns["no_data_reasons"] = np.full(
        rows, ", ".join(r for r in REASONS if r not in scores.reasons), dtype=object
    )
    columns["unknown_fields"] = np.full(rows, ", ".join(unknown_fields or []), dtype=object)
    return columns


def driver_texts(scores: Scores, metadata: dict, lang: str) -> np.ndarray:
    """Each row's drivers in plain words, listed ("2 postponements; never replied"), as
    :func:`describe_drivers` words them row by row: each feature's phrase is worded once
    per distinct value among the rows it drives, then gathered."""
    import pandas as pd

    index = scores.decision.driver_index
    rows, width = index.shape
    slots = np.full((rows, width), None, dtype=object)
    feature_types, units = metadata["feature_types"], column_units(metadata)
    # every (row, slot) holding a driver, grouped by feature in one sort (a lead names a
    # feature once, so each group's rows are distinct and in order)
    at = np.flatnonzero(index.ravel() >= 0)
    at = at[np.argsort(index.ravel()[at], kind="stable")]
    features = index.ravel()[at]
    starts = np.flatnonzero(np.r_[True, features[1:] != features[:-1]]) if len(at) else []
    for start, end in zip(starts, [*starts[1:], len(at)][: len(starts)], strict=True):
        name = scores.features[features[start]]
        at_row, at_slot = np.divmod(at[start:end], width)
        codes, distinct = pd.factorize(scores.feature_values[name].array.take(at_row))
        # the last: a blank value (code -1)
        values = [*pd.Series(distinct, dtype=distinct.dtype).tolist(), None]
        words = _phrases(name, values, lang, feature_types[name], units.get(name), scores.phrases)
        slots[at_row, at_slot] = np.asarray(words, dtype=object)[codes]
    listed = np.full(rows, "", dtype=object)
    separator = texts.listed(["", ""], lang)
    for slot in range(width):
        filled = np.flatnonzero(slots[:, slot] != None)  # noqa: E711 (element-wise)
        if len(filled):
            listed[filled] = (listed[filled] + separator if slot else "") + slots[filled, slot]
    return listed


_PHRASES: dict = {}  # (feature's wording context, value type, value) -> phrase, per process
PHRASES_KEPT = 200_000  # distinct phrases remembered (about 40 MB at most)


def _phrases(name: str, values: list, lang: str, kind: str, unit, phrases: dict) -> list[str]:
    """``texts.describe_feature`` of each value, remembered from batch to batch (a file's
    batches repeat most values: "13.7 days", "3 postponements"). The key holds everything
    the wording depends on, so two bundles or languages never share a phrase."""
    import json

    context = (name, lang, kind, unit, json.dumps(phrases.get(name), sort_keys=True))
    found = []
    for value in values:
        key = (context, type(value), value)
        phrase = _PHRASES.get(key)
        if phrase is None:
            phrase = texts.describe_feature(
                name, value, lang, kind=kind, unit=unit, phrases=phrases
            )
            if len(_PHRASES) >= PHRASES_KEPT:
                _PHRASES.clear()
            _PHRASES[key] = phrase
        found.append(phrase)
    return found


def advice_texts(scores: Scores, lang: str) -> np.ndarray:
    """Each row's advice (:func:`advice_for`), worded once per distinct tier and reason, or
    per distinct set of blank fields for an incomplete record."""
    import pandas as pd

    index = scores.decision.driver_index
    out = np.empty(len(index), dtype=object)
    blanks = scores.incomplete & (index[:, 0] >= 0)
    other = np.flatnonzero(~blanks)
    if len(other):
        tier_codes, tiers = pd.factorize(scores.recommendation[other])
        reason_codes, reasons = pd.factorize(scores.top_reason[other])
        pairs = tier_codes * len(reasons) + reason_codes
        distinct, inverse = np.unique(pairs, return_inverse=True)
        words = [
            advice(tiers[d // len(reasons)], reasons[d % len(reasons)], lang) for d in distinct
        ]
        out[other] = np.asarray(words, dtype=object)[inverse]
    if blanks.any():
        distinct, inverse = np.unique(index[blanks], axis=0, return_inverse=True)
        words = [
            advice(
                "",
                "",
                lang,
                [
                    texts.column_label(scores.features[j], lang, scores.phrases)
                    for j in combo
                    if j >= 0
                ],
            )
            for combo in distinct.tolist()
        ]
        out[blanks] = np.asarray(words, dtype=object)[inverse.ravel()]
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
