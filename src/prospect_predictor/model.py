"""The fitted model as bundles pickle it: :class:`ProspectModel` (a fitted scikit-learn
Pipeline plus its calibration) and the two encoding functions its Pipeline refers to.

This module's path is part of the bundle format: a pickle names each class and function
by module and name (``prospect_predictor.model.as_float``), so these stay here, at the top
of the package, for bundles written by every version to unpickle, and for older versions
to unpickle new bundles. It belongs to the modeling stage (:mod:`prospect_predictor.modeling`
builds the Pipelines and fits them); nothing else should be added here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from prospect_predictor.modeling.calibration import softmax


# The Pipeline's FunctionTransformers pickle these by name (prospect_predictor.model.as_float):
# they stay here so that bundles unpickle with every version of the package.
def as_float(frame: pd.DataFrame) -> np.ndarray:
    """Booleans (nullable) and numbers as floats; missing becomes NaN."""
    return frame.astype("float64").to_numpy()


def as_object(frame: pd.DataFrame) -> np.ndarray:
    """Categories as Python objects with NaN for missing, as scikit-learn's encoders expect."""
    return frame.astype(object).where(frame.notna(), np.nan).to_numpy()


def raw_logits(pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The estimator's raw scores as one column per class (in ``classes_`` order).

    A binary model's single score s is the logit of its second class: as a softmax input
    that is the pair (0, s).
    """
    scores = pipeline.decision_function(frame)
    if scores.ndim == 1:
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


class ProspectModel(BaseEstimator, ClassifierMixin):
    """A fitted Pipeline plus its calibration, with classes in the product's outcome order.

    ``predict_proba`` = softmax(scale · raw logits + bias), columns in ``classes_`` order
    (a subset of win_win, win_lose, stalled, declined, in that order).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        classes: list[str],
        scale: float = 1.0,
        bias: np.ndarray | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.classes = classes
        self.scale = scale
        self.bias = bias

    @property
    def classes_(self) -> np.ndarray:
        return np.array(self.classes, dtype=object)

    @property
    def feature_names(self) -> list[str]:
        return list(self.pipeline.feature_names_in_)

    def _order(self) -> np.ndarray:
        fitted = list(self.pipeline.classes_)
        return np.array([fitted.index(c) for c in self.classes])

    def fit(self, X, y):  # noqa: N803 - scikit-learn's signature
        raise NotImplementedError("ProspectModel wraps a fitted pipeline; see modeling.train")

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated logits, one column per class in ``classes`` order."""
        raw = raw_logits(self.pipeline, frame)[:, self._order()]
        bias = np.zeros(raw.shape[1]) if self.bias is None else self.bias
        return self.scale * raw + bias

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return softmax(self.logits(frame))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(frame).argmax(axis=1)]
