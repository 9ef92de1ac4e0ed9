"""Compiling a fitted model into its scoring form, at export (needs scikit-learn).

:func:`compile_files` turns a :class:`~prospect_predictor.model.ProspectModel` of any
family :mod:`prospect_predictor.modeling.families` offers into the files of
:mod:`prospect_predictor.explaining.scoring_form`, reads them back, and returns them only
when they reproduce the scikit-learn path exactly on probe rows: every category, an
unknown and a missing value of each column, every split threshold of a number and its
neighbours (trees), and numbers from 0 to ±2**40 (linear). Otherwise it raises
:class:`Unsupported` with the reason; it never returns nothing.

Exactness: the gap is measured against both the Pipeline's explanation
(``feature_contributions``) and its own ``decision_function``, relative to the row's
largest logit or contribution (at least 1), and must be at most ``EXACT`` = 1e-12. 1e-12 is
reachable for every kind; measured on generated histories of 1,500 and 10,000 rows (probe
rows and 2,000 new prospects):

- ``depth2-hgb-ordinal``: the same lookup tables on both paths, so SHAP values, base values
  and logits are equal to the last bit; the tables' sums against ``decision_function``
  differ by summation order, at most 2e-15.
- ``trees-hgb-ordinal``: SHAP and base values from the same shap code over the same arrays,
  equal to the last bit; our traversal's logits equal ``decision_function`` to the last
  bit; the Pipeline's explanation sums its logits as shap's base plus values, at most
  8.5e-15 apart (1.6e-14 absolute, hgb_default).
- ``linear-logistic``: ``slope * x + term`` against scikit-learn's ``(x - mean) / scale``
  times the weights: at most 1.4e-15 (5e-15 absolute), extreme numbers included.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from prospect_predictor.explaining.form_base import (
    ARRAYS_FILE,
    EXACT,
    FORM_FORMAT,
    JSON_FILE,
    FormError,
    ScoringForm,
)
from prospect_predictor.explaining.linear_form import LinearForm
from prospect_predictor.explaining.tree_forms import Depth2Form, TreeForm

# Numbers probed for a linear model: the affine term is fitted on ±SPAN and checked on all.
SPAN = 2.0**40
LINEAR_PROBES = (0.0, 1.0, -1.0, 0.5, -2.5, 1e3, -1e3, 1e6, -1e6, 1e9, -1e9, SPAN, -SPAN)


class Unsupported(FormError):
    """A model that cannot be written as a scoring form reproducing it exactly; the
    message says why (another family, an unexpected encoding, a gap on the probe rows)."""


def compile_files(model) -> dict[str, bytes]:
    """The scoring form's files (``scoring.json``, ``scoring.npz``) for a ProspectModel.

    Raises :class:`Unsupported` (a :class:`~prospect_predictor.explaining.form_base.FormError`)
    with the reason when the model cannot be written as a form or the form read back
    disagrees with the model on the probe rows by more than ``EXACT``.
    """
    spec, arrays, probe = _compile(model)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    files = {
        JSON_FILE: (json.dumps(spec, indent=2, sort_keys=True) + "\n").encode("utf-8"),
        ARRAYS_FILE: buffer.getvalue(),
    }
    try:
        form = ScoringForm.from_bytes(files[JSON_FILE], files[ARRAYS_FILE])
    except FormError as exc:
        raise Unsupported(f"the {spec['kind']} form does not read back ({exc})") from None
    gap = disagreement(form, model, probe)
    if not gap <= EXACT:
        raise Unsupported(
            f"the {spec['kind']} form disagrees with the model by {gap:.1e} on probe rows "
            f"(tolerance {EXACT:.0e})"
        )
    return files


def disagreement(form: ScoringForm, model, frame: pd.DataFrame) -> float:
    """The largest gap between the form and the scikit-learn path on ``frame``: SHAP values,
    base values and logits against ``feature_contributions`` of the model, and logits against
    the model's own; each relative to its row's largest logit or value (at least 1)."""
    from prospect_predictor.explaining.contributions import feature_contributions

    values, base, logits = feature_contributions(model, frame, with_logits=True)
    own = model.logits(frame)
    got = form.feature_contributions(frame, with_logits=True)
    got_logits = form.logits(frame)
    if [a.shape for a in got] != [values.shape, base.shape, logits.shape] or (
        got_logits.shape != own.shape
    ):
        return np.inf
    row = np.maximum.reduce(
        [
            np.ones(len(frame)),
            np.abs(logits).max(axis=1, initial=0),
            np.abs(own).max(axis=1, initial=0),
            np.abs(values).reshape(len(frame), -1).max(axis=1, initial=0),
        ]
    )
    gaps = [
        np.abs(got[0] - values) / row[:, None, None],
        np.abs(got[1] - base) / np.maximum(1.0, np.abs(base)),
        np.abs(got[2] - logits) / row[:, None],
        np.abs(got_logits - own) / row[:, None],
    ]
    gap = max(float(g.max(initial=0)) for g in gaps)
    return np.inf if np.isnan(gap) else gap


# --- the model's parts -----------------------------------------------------------------


def _compile(model) -> tuple[dict, dict, pd.DataFrame]:
    from prospect_predictor.explaining.contributions import _compiled

    try:
        pipeline = model.pipeline
        steps = list(pipeline.named_steps)
        encoder, estimator = pipeline[0], pipeline[-1]
        header = {
            "format": FORM_FORMAT,
            "classes": [str(c) for c in model.classes],
            "fitted_classes": [str(c) for c in pipeline.classes_],
            "features": [str(f) for f in model.feature_names],
        }
        transformers = encoder.transformers_
        encoded_names = [str(n) for n in encoder.get_feature_names_out()]
        calibration = {
            "scale": np.array(float(model.scale)),
            "bias": np.zeros(len(header["classes"]))
            if model.bias is None
            else np.asarray(model.bias, dtype=float),
        }
    except (AttributeError, TypeError, IndexError, KeyError, ValueError) as exc:
        raise Unsupported(f"not a fitted model of ours ({type(exc).__name__}: {exc})") from None
    family = type(estimator).__name__
    if steps != ["encode", "model"]:
        raise Unsupported(f"a Pipeline with steps {steps} cannot be written as a scoring form")
    if family == "HistGradientBoostingClassifier":
        numeric, categorical, codes, probe_values = _ordinal_inputs(transformers, encoded_names)
        trees = _compiled(estimator)  # the tables explain uses, compiled once per model
        if trees is not None:
            kind, arrays = Depth2Form.KIND, trees.to_arrays()
            thresholds = _depth2_thresholds(trees, len(numeric))
        else:
            kind, arrays = TreeForm.KIND, _node_arrays(estimator)
            thresholds = _node_thresholds(arrays, len(numeric))
        for position, threshold in thresholds:  # each split threshold and its neighbours
            probe_values[numeric[position]] += [
                threshold,
                np.nextafter(threshold, -np.inf),
                np.nextafter(threshold, np.inf),
            ]
        arrays = {"codes": codes, **arrays}
    elif family == "LogisticRegression":
        kind = LinearForm.KIND
        numeric, categorical, arrays, probe_values = _linear_terms(model, transformers)
    else:
        raise Unsupported(f"family {family} cannot be written as a scoring form")
    arrays.update(calibration)
    spec = {
        **header,
        "kind": kind,
        "numeric": numeric,
        "categorical": [{"column": c, "categories": levels} for c, levels in categorical],
    }
    return spec, arrays, _probe_frame(probe_values, numeric, header["features"])


def _ordinal_inputs(transformers, encoded_names: list[str]):
    """The tree encoder's numbers and categories (each level's code, then an unseen and a
    missing value's, from the fitted encoder itself), and the probe values of each."""
    from prospect_predictor import model as model_module  # scikit-learn: loaded when exporting

    numeric: list[str] = []
    by_column: list[tuple[str, object, int]] = []  # column, its transformer, its place
    for name, transformer, columns in transformers:
        if name == "remainder" and transformer == "drop":
            continue
        if name == "numbers" and getattr(transformer, "func", None) is model_module.as_float:
            numeric += [str(c) for c in columns]
        elif (
            name == "categories"
            and len(getattr(transformer, "steps", ())) == 2
            and getattr(transformer[0], "func", None) is model_module.as_object
            and type(transformer[1]).__name__ == "OrdinalEncoder"
        ):
            by_column += [(str(c), transformer, p) for p, c in enumerate(columns)]
        else:
            raise Unsupported(f"unknown encoding step {name!r}")
    if numeric + [c for c, _, _ in by_column] != encoded_names:
        raise Unsupported("encoded columns out of the expected order")

    categorical, all_codes = [], []
    probe_values: dict[str, list] = {c: [np.nan, 0.0, 1.0, -1.0] for c in numeric}
    for column, transformer, position in by_column:
        categories = [str(v) for v in transformer[1].categories_[position]]
        unknown = _unseen(categories)
        # every category, then an unseen one, then a missing one, alone in its column
        inputs = [c for c, t, _ in by_column if t is transformer]
        probe = pd.DataFrame({c: None for c in inputs}, index=range(len(categories) + 2))
        probe[column] = [*categories, unknown, None]
        try:
            codes = np.asarray(transformer.transform(probe))
        except Exception as exc:  # noqa: BLE001 - e.g. an encoder that refuses unknown values
            raise Unsupported(f"{column}: {exc}") from None
        all_codes.append(codes[:, position].astype(float))
        categorical.append((column, categories))
        probe_values[column] = [*categories, unknown, None]
    codes = np.concatenate(all_codes) if all_codes else np.empty(0)
    return numeric, categorical, codes, probe_values


def _depth2_thresholds(trees, n_numeric: int):
    for tables in trees.outputs:
        for position, threshold in zip(
            tables["positions"].ravel(), tables["thresholds"].ravel(), strict=True
        ):
            if 0 <= position < n_numeric:
                yield int(position), float(threshold)


def _node_arrays(estimator) -> dict[str, np.ndarray]:
    """A fitted HGB's trees as node arrays ``(outputs, iterations, nodes)`` (see
    :class:`~prospect_predictor.explaining.tree_forms.TreeForm`), as shap converts them."""
    try:
        predictors = estimator._predictors
        baseline = np.asarray(estimator._baseline_prediction, dtype=float).ravel()
        trees = [[predictor.nodes for predictor in iteration] for iteration in predictors]
        fields = trees[0][0].dtype.names
    except (AttributeError, IndexError, TypeError) as exc:
        raise Unsupported(f"not a fitted HistGradientBoosting model ({exc})") from None
    needed = ("value", "count", "feature_idx", "num_threshold", "missing_go_to_left")
    if any(name not in fields for name in (*needed, "left", "right", "is_leaf", "is_categorical")):
        raise Unsupported(f"unknown tree layout {fields}")
    outputs, iterations = len(baseline), len(trees)
    if any(len(iteration) != outputs for iteration in trees):
        raise Unsupported("a boosting iteration without one tree per output")
    width = max(len(nodes) for iteration in trees for nodes in iteration)
    shape = (outputs, iterations, width)
    arrays = {
        "nodes_left": np.full(shape, -1, dtype=np.int64),
        "nodes_right": np.full(shape, -1, dtype=np.int64),
        "nodes_default": np.full(shape, -1, dtype=np.int64),
        "nodes_feature": np.full(shape, -2, dtype=np.int64),
        "nodes_threshold": np.zeros(shape),
        "nodes_value": np.zeros(shape),
        "nodes_weight": np.zeros(shape),
        "nodes_count": np.zeros(shape[:2], dtype=np.int64),
        "baseline": baseline,
    }
    for i, iteration in enumerate(trees):
        for k, nodes in enumerate(iteration):
            if nodes["is_categorical"].any():
                raise Unsupported("native categorical splits")
            n, leaf = len(nodes), nodes["is_leaf"].astype(bool)
            left = np.where(leaf, -1, nodes["left"].astype(np.int64))  # unsigned in HGB
            right = np.where(leaf, -1, nodes["right"].astype(np.int64))
            to_left = nodes["missing_go_to_left"].astype(bool)
            arrays["nodes_left"][k, i, :n] = left
            arrays["nodes_right"][k, i, :n] = right
            arrays["nodes_default"][k, i, :n] = np.where(to_left, left, right)
            arrays["nodes_feature"][k, i, :n] = np.where(
                leaf, -2, nodes["feature_idx"].astype(np.int64)
            )
            arrays["nodes_threshold"][k, i, :n] = nodes["num_threshold"]
            arrays["nodes_value"][k, i, :n] = nodes["value"]
            arrays["nodes_weight"][k, i, :n] = nodes["count"]
            arrays["nodes_count"][k, i] = n
    return arrays


def _node_thresholds(arrays: dict[str, np.ndarray], n_numeric: int):
    split = arrays["nodes_left"] >= 0
    features = arrays["nodes_feature"][split]
    thresholds = arrays["nodes_threshold"][split]
    pairs = {(int(f), float(t)) for f, t in zip(features, thresholds, strict=True)}
    return sorted((f, t) for f, t in pairs if 0 <= f < n_numeric)


def _linear_terms(model, transformers):
    """Each feature's term in each class's raw logit, by running the fitted encoder on
    probe frames: one feature at a time, the others missing. The encoded columns that move
    with a feature are its own (whatever their order: scaled values, missing indicators,
    one-hot columns); each must belong to exactly one feature."""
    pipeline = model.pipeline
    encoder, estimator = pipeline[0], pipeline[-1]
    mean = getattr(model, "encoded_mean", None)
    if mean is None:
        raise Unsupported(
            "this linear model was trained before linear explanations existed (no "
            "encoded_mean): retrain it to write its scoring form"
        )
    numeric: list[str] = []
    categorical: list[tuple[str, list[str]]] = []
    for name, transformer, columns in transformers:
        if name == "remainder" and transformer == "drop":
            continue
        if name == "numbers":
            numeric += [str(c) for c in columns]
        elif name == "categories" and type(transformer[-1]).__name__ == "OneHotEncoder":
            levels = transformer[-1].categories_
            categorical += [(str(c), [str(v) for v in levels[i]]) for i, c in enumerate(columns)]
        else:
            raise Unsupported(f"unknown encoding step {name!r}")
    weights = np.asarray(estimator.coef_, dtype=float)  # (outputs, encoded columns)
    intercept = np.asarray(estimator.intercept_, dtype=float)
    mean = np.asarray(mean, dtype=float)
    features = model.feature_names
    if sorted(numeric + [c for c, _ in categorical]) != sorted(features) or (
        mean.shape != (weights.shape[1],)
    ):
        raise Unsupported("the linear encoder's columns do not match the model's features")

    owner = np.full(weights.shape[1], -1)
    probe_values: dict[str, list] = {}
    per_feature: dict[str, np.ndarray] = {}
    for j, column in enumerate(numeric + [c for c, _ in categorical]):
        if column in numeric:
            values = [np.nan, -SPAN, 0.0, SPAN]
            probe_values[column] = [np.nan, *LINEAR_PROBES]
        else:
            levels = dict(categorical)[column]
            values = [*levels, _unseen(levels), None]
            probe_values[column] = values
        encoded = _encode_one(encoder, features, numeric, column, values)
        moved = np.flatnonzero((encoded != encoded[:1]).any(axis=0))
        if (owner[moved] >= 0).any() or not len(moved):
            raise Unsupported(f"{column}: its encoded columns are not its own")
        owner[moved] = j
        # the term: what its own columns add to each class's logit
        per_feature[column] = encoded[:, moved] @ weights[:, moved].T
    if (owner < 0).any():
        raise Unsupported("an encoded column moves with no feature")

    terms = {column: per_feature[column] for column in numeric}
    arrays = {
        "intercept": intercept,
        "numeric_slope": np.array(
            [(terms[c][3] - terms[c][1]) / (2 * SPAN) for c in numeric]
        ).reshape(len(numeric), -1),
        "numeric_term_at_zero": np.array([terms[c][2] for c in numeric]).reshape(len(numeric), -1),
        "numeric_term_missing": np.array([terms[c][0] for c in numeric]).reshape(len(numeric), -1),
        "category_terms": np.concatenate(
            [per_feature[c] for c, _ in categorical] or [np.empty((0, len(intercept)))]
        ),
        "expected_terms": np.array(
            [
                weights[:, owner == j] @ mean[owner == j]
                for j in range(len(numeric) + len(categorical))
            ]
        ).reshape(-1, len(intercept)),
    }
    return numeric, categorical, arrays, probe_values


def _encode_one(encoder, features: list[str], numeric: list[str], column: str, values: list):
    """The encoder's output for ``values`` of ``column``, every other feature missing."""
    frame = pd.DataFrame(
        {f: np.full(len(values), np.nan) if f in numeric else None for f in features},
        index=range(len(values)),
    )
    frame[column] = np.array(values, dtype=float if column in numeric else object)
    try:
        return np.asarray(encoder.transform(frame), dtype=float)
    except Exception as exc:  # noqa: BLE001 - e.g. an encoder that refuses unknown values
        raise Unsupported(f"{column}: {exc}") from None


def _unseen(categories: list[str]) -> str:
    unknown = "(unseen)"
    while unknown in categories:
        unknown += "_"
    return unknown


def _probe_frame(probe_values: dict[str, list], numeric: list[str], features: list[str]):
    """Rows that visit every probe value of every column, in two different pairings."""
    longest = max((len(v) for v in probe_values.values()), default=1)
    rows = 2 * longest
    columns = {}
    for j, name in enumerate(features):
        values = list(dict.fromkeys(probe_values[name]))  # unique (NaN kept once)
        picks = [values[i % len(values)] for i in range(longest)]
        picks += [values[(i * (j + 2) + j) % len(values)] for i in range(longest)]
        columns[name] = (
            np.array(picks, dtype=float) if name in numeric else np.array(picks, dtype=object)
        )
    return pd.DataFrame(columns, index=range(rows))
