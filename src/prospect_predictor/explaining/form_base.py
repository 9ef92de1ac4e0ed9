"""What every kind of scoring form shares: the files, the errors, the interface, the
conversions, and the reading of a form's bytes, dispatched on its ``kind``.

A kind is a subclass of :class:`ScoringForm` declaring ``KIND``; it registers itself
when its module is imported, so read forms through
:mod:`prospect_predictor.explaining.scoring_form`, which imports every kind.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Union

import numpy as np

from prospect_predictor.modeling.calibration import softmax

if TYPE_CHECKING:
    import pandas as pd

# What a form reads: a frame, or (one lead, without pandas) a mapping of column -> values
# (a 1-D array or list each, None or NaN where missing).
Columns = Union["pd.DataFrame", Mapping[str, object]]

FORM_FORMAT = 1
JSON_FILE = "scoring.json"
ARRAYS_FILE = "scoring.npz"
FILES = (JSON_FILE, ARRAYS_FILE)
# Largest gap tolerated between a form and the scikit-learn path on the probe rows at
# export, relative to the row's largest logit or contribution (at least 1): see
# :mod:`prospect_predictor.explaining.compile_form` for what each kind reaches.
EXACT = 1e-12


class FormError(ValueError):
    """A scoring form that is unreadable or does not hold together, or a model that cannot
    be written as one (:class:`~prospect_predictor.explaining.compile_form.Unsupported`)."""


class UnknownForm(FormError):
    """A scoring form of another format or kind (e.g. written by a newer version)."""


def as_float(frame: Columns, columns: list[str]) -> np.ndarray:
    """``columns`` of ``frame`` as a float matrix: booleans (nullable) and numbers as floats;
    missing becomes NaN: the conversion of the Pipeline's ``model.as_float`` (which stays in
    model.py, where pickles find it); export checks that both paths agree."""
    if hasattr(frame, "iloc"):  # a DataFrame: its nullable booleans hold pandas' NA
        return frame[columns].astype("float64").to_numpy()
    return np.column_stack(
        [np.array([np.nan if v is None else v for v in frame[c]], dtype=float) for c in columns]
    )


def row_count(frame: Columns) -> int:
    """The rows of a frame, or of a mapping of column -> values."""
    if hasattr(frame, "iloc"):
        return len(frame)
    return len(next(iter(frame.values()))) if len(frame) else 0


def category_index(values, categories: list[str]) -> np.ndarray:
    """Each value's row in a per-category table laid out as: one row per category, then an
    unknown value's, then a missing value's. ``values``: a Series, or a sequence with None
    or NaN where missing."""
    rows = {category: row for row, category in enumerate(categories)}
    unknown = len(categories)
    if hasattr(values, "isna"):  # a Series: each distinct value looked up once
        import pandas as pd

        codes, distinct = pd.factorize(values)  # a blank's code is -1: the last row
        lookup = [rows.get(value, unknown) for value in distinct] + [unknown + 1]
        return np.array(lookup, dtype=np.int64)[codes]
    cells = list(values)
    blank = np.array([v is None or v != v for v in cells], dtype=bool)
    index = np.fromiter((rows.get(v, unknown) for v in cells), dtype=np.int64, count=len(cells))
    return np.where(blank, unknown + 1, index)


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
    """Raw SHAP values ``(rows, encoded features, outputs)``, base values and raw scores,
    to calibrated log-odds with features in ``feature_names`` and classes in ``classes``
    order. A binary model's single output is the logit of its second class."""
    if values.shape[2] == 1:
        values = np.concatenate([np.zeros_like(values), values], axis=2)
        base = np.array([0.0, base[0]])
        raw = np.column_stack([np.zeros(len(raw)), raw[:, 0]])
    class_order = [list(fitted_classes).index(c) for c in classes]
    feature_order = [list(encoded_names).index(f) for f in feature_names]
    rows, columns = np.array(feature_order, dtype=np.intp), np.array(class_order, dtype=np.intp)
    values = values[:, rows[:, None], columns] * scale
    bias = np.zeros(len(classes)) if bias is None else bias
    base = base[class_order] * scale + bias
    return values, base, raw[:, class_order] * scale + bias


class ScoringForm:
    """Scores and explains like the bundle's ProspectModel, from plain arrays.

    Every kind has ``classes``, ``feature_names``, ``feature_contributions``, ``logits``
    and ``predict_proba``; its constructor takes the parsed JSON and the arrays and raises
    :class:`FormError` when they do not hold together. ``ScoringForm(spec, arrays)`` makes
    the spec's kind (:class:`UnknownForm` for another format or kind).
    """

    KIND: ClassVar[str] = ""
    KINDS: ClassVar[dict[str, type[ScoringForm]]] = {}

    classes: list[str]
    fitted_classes: list[str]
    feature_names: list[str]
    scale: float
    bias: np.ndarray | None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.KIND:
            ScoringForm.KINDS[cls.KIND] = cls

    def __new__(cls, spec: dict | None = None, arrays=None):
        if spec is None:  # copy.copy makes an empty instance first
            return super().__new__(cls)
        if not isinstance(spec, dict):
            raise FormError("unreadable scoring form")
        name = spec.get("kind")
        kind = ScoringForm.KINDS.get(name) if isinstance(name, str) else None
        if spec.get("format") != FORM_FORMAT or kind is None or not issubclass(kind, cls):
            raise UnknownForm(f"unknown scoring form {name!r} {spec.get('format')!r}")
        return super().__new__(kind)  # then Python runs the kind's __init__

    @classmethod
    def from_bytes(cls, spec_bytes: bytes, arrays_bytes: bytes) -> ScoringForm:
        """The form written as ``scoring.json`` + ``scoring.npz``, as its kind's class;
        :class:`UnknownForm` for another format or kind, :class:`FormError` for files that
        cannot be read or do not hold together. Nothing is unpickled."""
        try:
            spec = json.loads(spec_bytes.decode("utf-8"))
            with np.load(io.BytesIO(arrays_bytes), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (
            UnicodeDecodeError,
            json.JSONDecodeError,
            OSError,
            ValueError,
            EOFError,
            zipfile.BadZipFile,  # e.g. a truncated scoring.npz
        ) as exc:
            raise FormError(f"unreadable scoring form ({exc})") from None
        if not isinstance(spec, dict):
            raise FormError("unreadable scoring form")
        return cls(spec, arrays)

    def feature_contributions(self, frame: Columns, with_logits: bool = False):
        """As :func:`~prospect_predictor.explaining.contributions.feature_contributions`."""
        raise NotImplementedError

    def calibrated_output(self, explained: tuple, names: list[str], with_logits: bool):
        """A kind's raw SHAP values, base values and raw scores (features in ``names``
        order) as :meth:`feature_contributions` returns them (:func:`calibrated`)."""
        values, base, logits = calibrated(
            *explained,
            self.fitted_classes,
            self.classes,
            names,
            self.feature_names,
            self.scale,
            self.bias,
        )
        return (values, base, logits) if with_logits else (values, base)

    def logits(self, frame: Columns) -> np.ndarray:
        """Calibrated logits, one column per class in ``classes`` order."""
        return self.feature_contributions(frame, with_logits=True)[2]

    def predict_proba(self, frame: Columns) -> np.ndarray:
        return softmax(self.logits(frame))


def read_header(spec: dict) -> tuple[list[str], list[str], list[str]]:
    """``classes``, ``fitted_classes`` (the estimator's order) and ``features`` of a spec."""
    classes = [str(c) for c in spec["classes"]]
    fitted_classes = [str(c) for c in spec["fitted_classes"]]
    features = [str(f) for f in spec["features"]]
    return classes, fitted_classes, features


def read_calibration(arrays, classes: list[str]) -> tuple[float, np.ndarray]:
    scale = float(arrays["scale"])
    bias = np.asarray(arrays["bias"], dtype=float)
    if bias.shape != (len(classes),):
        raise ValueError(f"bias has shape {bias.shape}")
    return scale, bias


def read_columns(spec: dict) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The numeric columns and, per category column, its categories."""
    numeric = [str(c) for c in spec["numeric"]]
    categorical = [
        (str(c["column"]), [str(v) for v in c["categories"]]) for c in spec["categorical"]
    ]
    return numeric, categorical


def consistent(
    classes: list[str],
    fitted_classes: list[str],
    features: list[str],
    encoded_names: list[str],
    n_outputs: int,
) -> bool:
    """Whether the class and feature lists agree with each other and with the outputs."""
    return (
        sorted(encoded_names) == sorted(features)
        and len(set(features)) == len(features)
        and sorted(fitted_classes) == sorted(classes)
        and len(set(classes)) == len(classes) >= 2
        and n_outputs == (1 if len(classes) == 2 else len(classes))
    )
