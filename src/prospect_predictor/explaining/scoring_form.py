"""The model's *scoring form*: what scoring needs, as plain arrays, without scikit-learn.

Unpickling the bundle's scikit-learn Pipeline imports scikit-learn and SciPy, about three
times as long as importing pandas: most of a one-lead ``prospect score``. For the default
model (depth-2 HistGradientBoosting trees over ordinal-encoded categories) everything
scoring computes is small and plain:

- the encoding: numbers and booleans as floats (missing stays NaN), each category as the
  code the fitted OrdinalEncoder gives it (rare levels pooled into one code), plus the
  codes it gives an unknown and a missing value;
- the trees as :mod:`prospect_predictor.explaining.fastshap` lookup tables, which give both the raw
  scores and the exact SHAP values;
- the calibration (scale, per-class bias) and the class and feature orders.

:func:`compile_files` writes them at export (``scoring.json`` + ``scoring.npz``, no pickle),
after checking on probe rows (every category, unknown and missing values, every split
threshold and its neighbours) that they reproduce the scikit-learn path exactly; a model
that cannot be compiled (another family, deeper trees) gets no form, and scoring falls
back to unpickling. :class:`ScoringForm` scores from them, importing only NumPy and pandas.

This module also defines :func:`softmax`, which both paths use.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from prospect_predictor.explaining.fastshap import CompiledTrees

FORM_FORMAT = 1
KIND = "depth2-hgb-ordinal"
JSON_FILE = "scoring.json"
ARRAYS_FILE = "scoring.npz"
FILES = (JSON_FILE, ARRAYS_FILE)
# Largest gap tolerated between the form and the scikit-learn path on the probe rows at
# export; both use the same lookup tables, so in practice they agree to the last bit.
EXACT = 1e-12


def as_float(frame: pd.DataFrame) -> np.ndarray:
    """Booleans (nullable) and numbers as floats; missing becomes NaN: the conversion of
    the Pipeline's ``model.as_float`` (which stays in model.py, where pickles find it);
    export checks that both paths agree."""
    return frame.astype("float64").to_numpy()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def calibrated(
    values: np.ndarray,
    base: np.ndarray,
    raw: np.ndarray,
    fitted_classes: list[str],
    classes: list[str],
    encoded_names: list[str],
    feature_names: list[str],
    scale: float,
    bias: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw tree SHAP values ``(rows, encoded features, outputs)``, base values and raw
    scores, to calibrated log-odds with features in ``feature_names`` and classes in
    ``classes`` order. A binary model's single output is the logit of its second class."""
    if values.shape[2] == 1:
        values = np.concatenate([np.zeros_like(values), values], axis=2)
        base = np.array([0.0, base[0]])
        raw = np.column_stack([np.zeros(len(raw)), raw[:, 0]])
    class_order = [list(fitted_classes).index(c) for c in classes]
    feature_order = [list(encoded_names).index(f) for f in feature_names]
    values = values[:, feature_order, :][:, :, class_order] * scale
    bias = np.zeros(len(classes)) if bias is None else bias
    base = base[class_order] * scale + bias
    return values, base, raw[:, class_order] * scale + bias


class FormError(ValueError):
    """Scoring-form files that are unreadable or do not hold together."""


class UnknownForm(FormError):
    """A scoring form of another format or kind (e.g. written by a newer version)."""


class ScoringForm:
    """Scores and explains like the bundle's ProspectModel, from plain arrays."""

    def __init__(self, spec: dict, arrays) -> None:
        if spec.get("format") != FORM_FORMAT or spec.get("kind") != KIND:
            raise UnknownForm(f"unknown scoring form {spec.get('kind')!r} {spec.get('format')!r}")
        try:
            self.classes = [str(c) for c in spec["classes"]]
            self.fitted_classes = [str(c) for c in spec["fitted_classes"]]
            self.feature_names = [str(f) for f in spec["features"]]
            self.numeric = [str(c) for c in spec["numeric"]]
            self.categorical = [
                (str(c["column"]), [str(v) for v in c["categories"]]) for c in spec["categorical"]
            ]
            self.scale = float(arrays["scale"])
            self.bias = np.asarray(arrays["bias"], dtype=float)
            # per category column: one code per category, then an unknown's, a missing's
            codes = np.asarray(arrays["codes"], dtype=float)
            ends = np.cumsum([len(cats) + 2 for _, cats in self.categorical], dtype=np.int64)
            if codes.shape != (int(ends[-1]) if len(ends) else 0,):
                raise ValueError(f"codes has shape {codes.shape}")
            self.codes = np.split(codes, ends[:-1]) if len(ends) else []
            self.trees = CompiledTrees.from_arrays(arrays)
        except (KeyError, TypeError, ValueError) as exc:
            raise FormError(f"incomplete scoring form ({exc})") from None
        self.encoded_names = self.numeric + [c for c, _ in self.categorical]
        if (
            sorted(self.encoded_names) != sorted(self.feature_names)
            or len(set(self.feature_names)) != len(self.feature_names)
            or self.trees.n_features != len(self.encoded_names)
            or sorted(self.fitted_classes) != sorted(self.classes)
            or self.bias.shape != (len(self.classes),)
            or self.trees.n_outputs != (1 if len(self.classes) == 2 else len(self.classes))
        ):
            raise FormError("inconsistent scoring form")

    @classmethod
    def from_bytes(cls, spec_bytes: bytes, arrays_bytes: bytes) -> ScoringForm:
        try:
            spec = json.loads(spec_bytes.decode("utf-8"))
            with np.load(io.BytesIO(arrays_bytes), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (UnicodeDecodeError, json.JSONDecodeError, OSError, ValueError) as exc:
            raise FormError(f"unreadable scoring form ({exc})") from None
        if not isinstance(spec, dict):
            raise FormError("unreadable scoring form")
        return cls(spec, arrays)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """The matrix the trees read, columns in ``encoded_names`` order (as the Pipeline's
        ColumnTransformer: numbers first, then categories)."""
        parts = [as_float(frame[self.numeric])] if self.numeric else []
        for (column, categories), codes in zip(self.categorical, self.codes, strict=True):
            values = frame[column]
            # codes: one per category, then an unknown value's, then a missing value's
            index = pd.Index(categories, dtype=object).get_indexer(values.to_numpy(object))
            index = np.where(index < 0, len(categories), index)
            index = np.where(values.isna().to_numpy(), len(categories) + 1, index)
            parts.append(codes[index][:, None])
        return np.hstack(parts) if parts else np.empty((len(frame), 0))

    def feature_contributions(self, frame: pd.DataFrame, with_logits: bool = False):
        """As :func:`~prospect_predictor.explaining.contributions.feature_contributions`."""
        values, base, raw = self.trees.explain(self.encode(frame))
        values, base, logits = calibrated(
            values,
            base,
            raw,
            self.fitted_classes,
            self.classes,
            self.encoded_names,
            self.feature_names,
            self.scale,
            self.bias,
        )
        return (values, base, logits) if with_logits else (values, base)

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        return self.feature_contributions(frame, with_logits=True)[2]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return softmax(self.logits(frame))


# --- compiling (at export; needs the fitted scikit-learn model) ---------------------------


def compile_files(model) -> dict[str, bytes]:
    """The scoring form's files for a ProspectModel, or ``{}`` when it cannot be compiled
    exactly (then the bundle is scored by unpickling, as before). The form is only a faster
    way to the same numbers, so nothing here may fail an export: any failure means no form.
    """
    try:
        spec, arrays, probe = _compile(model)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        files = {
            JSON_FILE: (json.dumps(spec, indent=2, sort_keys=True) + "\n").encode("utf-8"),
            ARRAYS_FILE: buffer.getvalue(),
        }
        form = ScoringForm.from_bytes(files[JSON_FILE], files[ARRAYS_FILE])
        return files if _agrees(form, model, probe) else {}
    except Exception:  # noqa: BLE001 - Unsupported, or a model shaped unlike ours
        return {}


class Unsupported(Exception):
    """Not a model the scoring form can reproduce exactly."""


def _compile(model) -> tuple[dict, dict, pd.DataFrame]:
    from prospect_predictor import model as model_module  # scikit-learn: loaded when exporting
    from prospect_predictor.explaining.contributions import _compiled

    try:
        pipeline = model.pipeline
        steps = list(pipeline.named_steps)
        encoder, estimator = pipeline[0], pipeline[-1]
        transformers = encoder.transformers_
        encoded_names = [str(n) for n in encoder.get_feature_names_out()]
        fitted_classes = [str(c) for c in pipeline.classes_]
        classes = [str(c) for c in model.classes]
        feature_names = [str(f) for f in model.feature_names]
    except (AttributeError, TypeError, IndexError, KeyError, ValueError) as exc:
        raise Unsupported(str(exc)) from None
    if steps != ["encode", "model"] or type(estimator).__name__ != "HistGradientBoostingClassifier":
        raise Unsupported("not an HGB pipeline")
    trees = _compiled(estimator)  # the tables explain uses, compiled once per model
    if trees is None:
        raise Unsupported("trees fastshap cannot compile (deeper than 2, or categorical)")

    numeric: list[str] = []
    categorical: list[tuple[str, object, int]] = []  # column, its transformer, its place
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
            categorical += [(str(c), transformer, p) for p, c in enumerate(columns)]
        else:
            raise Unsupported(f"unknown encoding step {name!r}")
    if numeric + [c for c, _, _ in categorical] != encoded_names:
        raise Unsupported("encoded columns out of the expected order")

    spec_categorical, all_codes, arrays = [], [], {}
    probe_values: dict[str, list] = {c: [np.nan, 0.0, 1.0, -1.0] for c in numeric}
    for column, transformer, position in categorical:
        categories = [str(v) for v in transformer[1].categories_[position]]
        unknown = _unseen(categories)
        # every category, then an unseen one, then a missing one, alone in its column
        inputs = [c for c, t, _ in categorical if t is transformer]
        probe = pd.DataFrame({c: None for c in inputs}, index=range(len(categories) + 2))
        probe[column] = [*categories, unknown, None]
        try:
            codes = np.asarray(transformer.transform(probe))
        except Exception as exc:  # e.g. an encoder that refuses unknown values
            raise Unsupported(f"{column}: {exc}") from None
        all_codes.append(codes[:, position].astype(float))
        spec_categorical.append({"column": column, "categories": categories})
        probe_values[column] = [*categories, unknown, None]
    for tables in trees.outputs:  # each split threshold of a number and its neighbours
        for position, threshold in zip(
            tables["positions"].ravel(), tables["thresholds"].ravel(), strict=True
        ):
            if position >= 0 and position < len(numeric):
                column = numeric[position]
                probe_values[column] += [
                    threshold,
                    np.nextafter(threshold, -np.inf),
                    np.nextafter(threshold, np.inf),
                ]
    arrays["codes"] = np.concatenate(all_codes) if all_codes else np.empty(0)
    arrays.update(trees.to_arrays())
    bias = np.zeros(len(classes)) if model.bias is None else np.asarray(model.bias, dtype=float)
    arrays.update({"scale": np.array(float(model.scale)), "bias": bias})
    spec = {
        "format": FORM_FORMAT,
        "kind": KIND,
        "classes": classes,
        "fitted_classes": fitted_classes,
        "features": feature_names,
        "numeric": numeric,
        "categorical": spec_categorical,
    }
    return spec, arrays, _probe_frame(probe_values, numeric, feature_names)


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


def _agrees(form: ScoringForm, model, probe: pd.DataFrame) -> bool:
    from prospect_predictor.explaining.contributions import feature_contributions

    expected = feature_contributions(model, probe, with_logits=True)
    got = form.feature_contributions(probe, with_logits=True)
    return all(
        a.shape == b.shape and np.allclose(a, b, rtol=0, atol=EXACT, equal_nan=False)
        for a, b in zip(got, expected, strict=True)
    )
