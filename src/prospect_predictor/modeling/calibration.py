"""Calibration: an affine map of the logits (one scale, one bias per class), and the
softmax that turns logits into probabilities.

NumPy only at import (SciPy is imported when fitting): scoring uses :func:`softmax`
without scikit-learn or SciPy.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, one row per prospect (shifted by each row's maximum)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> tuple[float, np.ndarray]:
    """Scale ``a`` and per-class bias ``b`` minimising the log loss of softmax(a·logits + b).

    An affine map of the logits keeps SHAP values additive (each is multiplied by ``a``)
    while correcting over- or under-confidence and the class-prior shift of class weights.
    """
    from scipy.optimize import minimize

    k = logits.shape[1]
    rows = np.arange(len(y_index))

    def loss(theta: np.ndarray) -> float:
        z = theta[0] * logits + np.concatenate([[0.0], theta[1:]])
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[rows, y_index] - np.log(np.exp(z).sum(axis=1))).mean())

    result = minimize(
        loss,
        np.concatenate([[1.0], np.zeros(k - 1)]),
        method="L-BFGS-B",
        bounds=[(0.05, 20.0)] + [(-10.0, 10.0)] * (k - 1),
    )
    return float(result.x[0]), np.concatenate([[0.0], result.x[1:]])
