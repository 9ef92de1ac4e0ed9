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

from prospect_predictor.domain import CONTEXT, REASONS
from prospect_predictor.errors import ProspectError
from prospect_predictor.explaining.scoring_form import ScoringForm, calibrated

if TYPE_CHECKING:  # importing the model module imports scikit-learn; scoring may not need it
    from prospect_predictor.explaining.form_base import Columns
    from prospect_predictor.model import ProspectModel

TREE_FAMILIES = ("HistGradientBoostingClassifier",)
LINEAR_FAMILIES = ("LogisticRegression",)


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
    model: ProspectModel | ScoringForm, frame: Columns, with_logits: bool = False
):
    """Exact (path-dependent TreeSHAP) values ``(rows, features, classes)`` and the base
    values ``(classes,)``; features in ``model.feature_names`` order, classes in
    ``model.classes`` order. With ``with_logits``, also the calibrated logits (so that a
    caller needs no separate prediction: they are the same trees' sums).

    Depth-2 tree models are explained by lookup tables
    (:mod:`prospect_predictor.explaining.fastshap`, equal to shap's TreeExplainer to ~1e-15);
    deeper trees by shap's TreeExplainer; the linear family by :func:`linear_shap`. A
    bundle's :class:`~prospect_predictor.explaining.scoring_form.ScoringForm`, of whichever
    kind, gives the same values from plain arrays, without scikit-learn.
    """
    if isinstance(model, ScoringForm):
        return model.feature_contributions(frame, with_logits=with_logits)
    estimator = model.pipeline[-1]
    family = type(estimator).__name__
    if family not in (*TREE_FAMILIES, *LINEAR_FAMILIES):
        raise ProspectError(
            f"explanations are available for {', '.join((*TREE_FAMILIES, *LINEAR_FAMILIES))}; "
            f"this model is a {family}"
        )
    encoder = model.pipeline[:-1]
    encoded = encoder.transform(frame)
    compiled = _compiled(estimator) if family in TREE_FAMILIES else None
    names = list(encoder.get_feature_names_out())
    if family in LINEAR_FAMILIES:
        values, base, raw = linear_shap(model, encoded)
        names = list(model.feature_names)  # linear_shap sums encoded columns per feature
    elif compiled is not None:
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
        names,
        model.feature_names,
        model.scale,
        model.bias,
    )
    return (values, base, logits) if with_logits else (values, base)


def linear_shap(model: ProspectModel, encoded: np.ndarray):
    """Exact SHAP values of a linear model over its encoded columns, summed per feature.

    For logits ``W x + b`` and independent inputs, the SHAP value of encoded column j is
    ``W[:, j] (x_j - mean_j)`` with the training means (``model.encoded_mean``, kept at
    fit); a feature's value is the sum over the columns it was encoded into (its scaled
    value and missing indicator, or its one-hot columns). Base ``b + W mean``; base plus
    values is the model's own decision function, exactly. Returns ``(values, base, raw)``
    as the tree path does, features in ``model.feature_names`` order."""
    mean = getattr(model, "encoded_mean", None)
    if mean is None:
        raise ProspectError(
            "this linear model was trained before linear explanations existed: retrain it "
            "(prospect train) to explain its scores"
        )
    estimator = model.pipeline[-1]
    weights = np.asarray(estimator.coef_, dtype=float)  # (outputs, encoded columns)
    centred = np.asarray(encoded, dtype=float) - mean
    owners = encoded_owners(model)
    features = list(model.feature_names)
    index = np.array([features.index(f) for f in owners])
    per_column = centred[:, :, None] * weights.T[None, :, :]  # (rows, columns, outputs)
    values = np.zeros((len(centred), len(features), weights.shape[0]))
    np.add.at(values, (slice(None), index), per_column)
    base = np.asarray(estimator.intercept_, dtype=float) + weights @ mean
    return values, base, base + values.sum(axis=1)


def encoded_owners(model: ProspectModel) -> list[str]:
    """The feature behind each encoded column of the linear family's encoder
    (:func:`prospect_predictor.modeling.families.linear_encoder`), from the fitted
    transformers' public attributes: scaled numbers, then their missing indicators; each
    category column's one-hot columns (its infrequent levels share one, last)."""
    encoder = model.pipeline[0]
    owners = [""] * sum(s.stop - s.start for s in encoder.output_indices_.values())
    for name, transformer, columns in encoder.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        where = encoder.output_indices_[name]
        columns = list(columns)
        if name == "numbers":
            imputer = transformer[1]
            indicated = list(imputer.indicator_.features_) if imputer.indicator_ else []
            produced = columns + [columns[i] for i in indicated]
        else:
            onehot = transformer[-1]
            infrequent = onehot.infrequent_categories_
            produced = []
            for i, column in enumerate(columns):
                rare = 0 if infrequent[i] is None else len(infrequent[i])
                produced += [column] * (len(onehot.categories_[i]) - rare + (1 if rare else 0))
        if len(produced) != where.stop - where.start:
            raise ProspectError(f"cannot tell which feature each of {name!r}'s columns encodes")
        owners[where] = produced
    return owners


def relative_to_reference(values: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contributions to ``log(p_k / p_ref)``, the log-odds of each outcome against the
    reference outcome (the first class: ``win_win`` when the model has it).

    A softmax's logits are defined only up to a shared shift, so a contribution to one
    outcome's logit alone is not meaningful; against a reference it is, and it stays
    additive: ``base_rel[k] + values_rel[:, :, k].sum(axis=1) == log(p_k / p_ref)``.
    The reference's own column is zero.
    """
    return values - values[:, :, :1], base - base[0]


def against_reference(
    values: np.ndarray, base: np.ndarray, classes: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Each other outcome's contributions to its log-odds against the reference (the first
    class, ``win_win``), as the advisor reads them: ``(rows, features, classes - 1)`` and
    those outcomes' names. The reference's own column, always zero, is left out."""
    relative, _ = relative_to_reference(values, base)
    return relative[:, :, 1:], list(classes[1:])


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
