"""The metrics every training and evaluation run reports, under stable names.

All take ``y_true`` (class names) and ``proba`` (one column per class, in ``classes``
order). Names: ``log_loss``, ``brier``, ``roc_auc_macro``, ``balanced_accuracy``, ``ece``,
and per class ``roc_auc_<class>``, ``pr_auc_<class>``, ``recall_<class>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    recall_score,
    roc_auc_score,
)

ECE_BINS = 10


def calibration_bins(
    is_class: np.ndarray, p: np.ndarray, bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One class's reliability: per non-empty bin the mean predicted probability, the
    observed share and the count, and the class's ECE. Bin ``i`` holds
    ``i/bins <= p < (i+1)/bins``; the last bin also holds ``p == 1``."""
    index = np.clip(np.floor(p * bins).astype(int), 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=is_class.astype(float), minlength=bins)
    kept = counts > 0
    mean_p = sum_p[kept] / counts[kept]
    observed = sum_y[kept] / counts[kept]
    ece = float(np.sum(counts[kept] / len(p) * np.abs(mean_p - observed)))
    return mean_p, observed, counts[kept], ece


def expected_calibration_error(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], bins: int = ECE_BINS
) -> float:
    """Classwise ECE, averaged over the classes (0 is perfect, at most 1).

    For each class k (one-vs-rest), ``proba[:, k]`` is cut into ``bins`` equal-width bins
    (see :func:`calibration_bins`) and
    ``ECE_k = sum over non-empty bins of (n_bin / n) * |mean p in bin - share of class k in bin|``.
    """
    y = np.asarray(y_true, dtype=object)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape != (len(y), len(classes)):
        raise ValueError(
            f"proba must have shape (n_rows, n_classes) = ({len(y)}, {len(classes)}), got {p.shape}"
        )
    return float(
        np.mean([calibration_bins(y == c, p[:, k], bins)[3] for k, c in enumerate(classes)])
    )


def multiclass_log_loss(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> float:
    """Mean negative log probability of the true class (columns in ``classes`` order).

    Written out because scikit-learn's ``log_loss`` assumes its columns are in sorted label
    order, while ours follow the product's outcome order.
    """
    index = pd.Index(list(classes)).get_indexer(np.asarray(y_true, dtype=object))
    if (index < 0).any():
        raise ValueError(
            f"outcome(s) not among the model's classes: {set(np.asarray(y_true)[index < 0])}"
        )
    picked = proba[np.arange(len(index)), index]
    return float(-np.log(np.clip(picked, 1e-15, 1.0)).mean())


def brier_score(y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]) -> float:
    """Multi-class Brier score: mean over rows of the squared distance to the one-hot truth."""
    onehot = (np.asarray(y_true)[:, None] == np.asarray(classes)[None, :]).astype(float)
    return float(((proba - onehot) ** 2).sum(axis=1).mean())


def classification_metrics(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str]
) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=object)
    classes = list(classes)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    metrics = {
        "log_loss": multiclass_log_loss(y_true, proba, classes),
        "brier": brier_score(y_true, proba, classes),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, predicted)),
        "ece": expected_calibration_error(y_true, proba, classes),
    }
    present = [k for k, c in enumerate(classes) if (y_true == c).any() and (y_true != c).any()]
    for k in present:
        hit = y_true == classes[k]
        metrics[f"roc_auc_{classes[k]}"] = float(roc_auc_score(hit, proba[:, k]))
        metrics[f"pr_auc_{classes[k]}"] = float(average_precision_score(hit, proba[:, k]))
    if len(classes) == 2:
        metrics["roc_auc_macro"] = metrics.get(f"roc_auc_{classes[1]}", float("nan"))
    elif len(present) == len(classes):
        metrics["roc_auc_macro"] = float(np.mean([metrics[f"roc_auc_{c}"] for c in classes]))
    recalls = recall_score(y_true, predicted, labels=classes, average=None, zero_division=0)
    for name, value in zip(classes, recalls, strict=True):
        metrics[f"recall_{name}"] = float(value)
    return metrics
