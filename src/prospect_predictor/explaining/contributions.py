"""SHAP explanations, per feature and summed per reason, in calibrated log-odds.

Unit: each value is a contribution to the model's calibrated logit of an outcome (the
softmax input), so that for every row and outcome
``base[k] + sum over features of values[:, j, k] == model.logits(frame)[:, k]``.
A reason's contribution is the sum of its features' values (SHAP values are additive).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from prospect_predictor.domain import CONTEXT, REASONS
from prospect_predictor.errors import ProspectError
from prospect_predictor.explaining.scoring_form import ScoringForm, calibrated

if TYPE_CHECKING:  # importing the model module imports scikit-learn; scoring may not need it
    from prospect_predictor.model import ProspectModel

TREE_FAMILIES = ("HistGradientBoostingClassifier",)


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(estimator):
    """The estimator's SHAP lookup tables (compiled once per loaded model), or None when
    only shap can explain it (deeper trees, another family)."""
    from prospect_predictor.explaining.fastshap import CompiledTrees, Unsupported

    if estimator not in _COMPILED:
        try:
            _COMPILED[estimator] = CompiledTrees(estimator)
        except Unsupported:
            _COMPILED[estimator] = None
    return _COMPILED[estimator]


def feature_contributions(
    model: ProspectModel | ScoringForm, frame: pd.DataFrame, with_logits: bool = False
):
    """Exact (path-dependent TreeSHAP) values ``(rows, features, classes)`` and the base
    values ``(classes,)``; features in ``model.feature_names`` order, classes in
    ``model.classes`` order. With ``with_logits``, also the calibrated logits (so that a
    caller needs no separate prediction: they are the same trees' sums).

    Depth-2 tree models are explained by lookup tables
    (:mod:`prospect_predictor.explaining.fastshap`, equal to shap's TreeExplainer to ~1e-15);
    others by shap's TreeExplainer. A bundle's
    :class:`~prospect_predictor.explaining.scoring_form.ScoringForm` (the same tables as plain
    arrays) gives the same values without scikit-learn.
    """
    if isinstance(model, ScoringForm):
        return model.feature_contributions(frame, with_logits=with_logits)
    estimator = model.pipeline[-1]
    if type(estimator).__name__ not in TREE_FAMILIES:
        raise ProspectError(
            f"explanations are available for tree models ({', '.join(TREE_FAMILIES)}); this "
            f"model is a {type(estimator).__name__}"
        )
    encoder = model.pipeline[:-1]
    encoded = encoder.transform(frame)
    compiled = _compiled(estimator)
    if compiled is not None:
        values, base, raw = compiled.explain(encoded)
    else:
        import shap

        explainer = shap.TreeExplainer(estimator)
        values = np.asarray(explainer.shap_values(encoded, check_additivity=False), dtype=float)
        base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        if values.ndim == 2:
            values = values[:, :, None]
        raw = base + values.sum(axis=1)
    values, base, logits = calibrated(
        values,
        base,
        raw,
        list(model.pipeline.classes_),
        list(model.classes),
        list(encoder.get_feature_names_out()),
        model.feature_names,
        model.scale,
        model.bias,
    )
    return (values, base, logits) if with_logits else (values, base)


def relative_to_reference(values: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contributions to ``log(p_k / p_ref)``, the log-odds of each outcome against the
    reference outcome (the first class: ``win_win`` when the model has it).

    A softmax's logits are defined only up to a shared shift, so a contribution to one
    outcome's logit alone is not meaningful; against a reference it is, and it stays
    additive: ``base_rel[k] + values_rel[:, :, k].sum(axis=1) == log(p_k / p_ref)``.
    The reference's own column is zero.
    """
    return values - values[:, :, :1], base - base[0]


def reason_contributions(
    values: np.ndarray, feature_names: list[str], feature_reasons: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Sum feature values per reason (and ``context``): reason -> ``(rows, classes)``.

    Reasons without any feature are absent from the result: "no data", not zero.
    """
    result = {}
    for reason in (*REASONS, CONTEXT):
        index = [j for j, f in enumerate(feature_names) if feature_reasons.get(f) == reason]
        if index:
            result[reason] = values[:, index, :].sum(axis=1)
    return result


def global_importance(
    values: np.ndarray,
    feature_names: list[str],
    feature_reasons: Mapping[str, str],
    classes: list[str],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float | None]]]:
    """Mean |contribution| per outcome: by feature ``{outcome: {feature: v}}`` and by reason
    ``{reason: {outcome: v}}`` (``None`` for a reason with no feature)."""
    by_feature = {
        c: {f: float(np.abs(values[:, j, k]).mean()) for j, f in enumerate(feature_names)}
        for k, c in enumerate(classes)
    }
    reasons = reason_contributions(values, feature_names, feature_reasons)
    by_reason: dict[str, dict[str, float | None]] = {}
    for reason in (*REASONS, CONTEXT):
        if reason in reasons:
            by_reason[reason] = {
                c: float(np.abs(reasons[reason][:, k]).mean()) for k, c in enumerate(classes)
            }
        elif reason != CONTEXT:
            by_reason[reason] = None
    return by_feature, by_reason
