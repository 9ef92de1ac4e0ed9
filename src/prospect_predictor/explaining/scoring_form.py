"""The model's *scoring form*: what scoring needs, as plain arrays, without scikit-learn.

Unpickling the bundle's scikit-learn Pipeline imports scikit-learn and SciPy, about three
times as long as importing pandas: most of a one-lead ``prospect score``. For the default
model (depth-2 HistGradientBoosting trees over ordinal-encoded categories) everything
scoring computes is small and plain:

- the encoding: numbers and booleans as floats (missing stays NaN), each category as the
  code the fitted OrdinalEncoder gives it (rare levels pooled into one code), plus the
  codes it gives an unknown and a missing value;
- the trees as :mod:`prospect_predictor.explaining.fastshap` lookup tables, which give both
  the raw scores and the exact SHAP values;
- the calibration (scale, per-class bias) and the class and feature orders.

:func:`prospect_predictor.explaining.compile_form.compile_files` writes them at export
(``scoring.json`` + ``scoring.npz``, no pickle), after checking on probe rows (every
category, unknown and missing values, every split threshold and its neighbours) that they
reproduce the scikit-learn path exactly; a model
that cannot be compiled (another family, deeper trees) gets no form, and scoring falls
back to unpickling. :class:`ScoringForm` scores from them, importing only NumPy and pandas.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from prospect_predictor.explaining.fastshap import CompiledTrees
from prospect_predictor.modeling.calibration import softmax

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
