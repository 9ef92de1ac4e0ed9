"""The model's *scoring form*: what scoring needs, as plain arrays, without scikit-learn.

Unpickling the bundle's scikit-learn Pipeline imports scikit-learn and SciPy, about three
times as long as importing pandas: most of a one-lead ``prospect score``; and a pickle
runs code when loaded. Every model family has a form instead, ``scoring.json`` (the kind,
classes, features, category levels) + ``scoring.npz`` (NumPy arrays, read with
``allow_pickle=False``), with the calibration (scale, per-class bias) and the class and
feature orders:

- ``depth2-hgb-ordinal`` (the default model, depth-2 HistGradientBoosting trees over
  ordinal-encoded categories): the trees as
  :mod:`prospect_predictor.explaining.fastshap` lookup tables
  (:class:`~prospect_predictor.explaining.tree_forms.Depth2Form`), NumPy only;
- ``trees-hgb-ordinal`` (deeper trees, ``hgb`` with ``max_depth`` > 2 and
  ``hgb_default``): the trees as node arrays
  (:class:`~prospect_predictor.explaining.tree_forms.TreeForm`); scores by our own
  traversal, SHAP values by shap's TreeExplainer over the same arrays (imported when
  explaining);
- ``linear-logistic`` (the ``logistic`` family): each feature's term in each class's
  logit (:class:`~prospect_predictor.explaining.linear_form.LinearForm`), NumPy only.

Every kind reads a frame, or a mapping of column -> values (one lead, without pandas).

:func:`prospect_predictor.explaining.compile_form.compile_files` writes them at export,
after checking on probe rows that they reproduce the scikit-learn path exactly, and raises
rather than write none. :meth:`ScoringForm.from_bytes` reads any kind (this module imports
them all) into an object with the same interface: ``classes``, ``feature_names``,
``feature_contributions``, ``logits``, ``predict_proba``.
"""

from __future__ import annotations

from prospect_predictor.explaining.form_base import (
    ARRAYS_FILE,
    EXACT,
    FILES,
    FORM_FORMAT,
    JSON_FILE,
    FormError,
    ScoringForm,
    UnknownForm,
    as_float,
    calibrated,
)
from prospect_predictor.explaining.linear_form import LinearForm
from prospect_predictor.explaining.tree_forms import Depth2Form, TreeForm

KIND = Depth2Form.KIND  # the default model's
KINDS = {form.KIND: form for form in (Depth2Form, TreeForm, LinearForm)}

__all__ = [
    "ARRAYS_FILE",
    "EXACT",
    "FILES",
    "FORM_FORMAT",
    "JSON_FILE",
    "KIND",
    "KINDS",
    "Depth2Form",
    "FormError",
    "LinearForm",
    "ScoringForm",
    "TreeForm",
    "UnknownForm",
    "as_float",
    "calibrated",
    "load_form",
]


def load_form(spec_bytes: bytes, arrays_bytes: bytes) -> ScoringForm:
    """The form in ``scoring.json`` + ``scoring.npz``, whatever its kind."""
    return ScoringForm.from_bytes(spec_bytes, arrays_bytes)
