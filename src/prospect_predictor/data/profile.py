"""The training data's profile: a compact numeric summary of each feature, kept in every
bundle (``profile.json``) and logged with every training run.

:func:`data_profile` summarises a typed frame (as :mod:`prospect_predictor.data.validate`
returns it) in JSON-ready numbers; drift checks (PSI) compare a later frame against it,
re-binning new numeric values with :func:`numeric_bin_shares` so both sides use one rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

FEATURE_TYPES = ("int", "float", "bool", "category")


def data_profile(
    frame: pd.DataFrame, feature_types: Mapping[str, str], bins: int = 10
) -> dict[str, Any]:
    """A compact, JSON-serialisable summary of each feature, to detect drift later.

    Returns ``{"n_rows": int, "features": {name: profile}}`` with features in
    ``feature_types`` order. Every profile has ``type`` and ``missing_share`` (share of all
    rows). Shares below are among known (non-missing) values and sum to 1.

    - ``int`` / ``float``: ``edges``, the unique quantiles of the known values at
      ``0, 1/bins, ..., 1`` (deciles by default; ``edges[0]`` is the minimum,
      ``edges[-1]`` the maximum; a constant column gets ``[c, c]``); ``shares``, one per
      bin, as :func:`numeric_bin_shares` counts them; ``mean``, ``std`` (ddof=1), ``min``,
      ``max``. With no known value: empty lists and ``None`` statistics.
    - ``bool``: ``share_true``, and ``shares`` as ``{"false": ..., "true": ...}``.
    - ``category``: ``shares``, ``{category: share}`` from most to least frequent.

    Only plain ``int``, ``float``, ``str``, ``list``, ``dict`` and ``None``: no numpy scalar,
    no NaN. ``bool`` statistics are ``None`` when no value is known.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    check_features(frame, feature_types)
    n_rows = len(frame)
    features: dict[str, Any] = {}
    for name, kind in feature_types.items():
        column = frame[name]
        missing = column.isna().to_numpy(dtype=bool)
        entry: dict[str, Any] = {
            "type": kind,
            "missing_share": float(missing.mean()) if n_rows else 0.0,
        }
        if kind in ("int", "float"):
            entry.update(_numeric_profile(known_numbers(column), bins))
        elif kind == "bool":
            known = column.dropna().astype(bool).to_numpy()
            share_true = float(known.mean()) if len(known) else None
            entry["share_true"] = share_true
            entry["shares"] = (
                {"false": 1.0 - share_true, "true": share_true} if share_true is not None else {}
            )
        else:
            entry["shares"] = category_shares(column)
        features[name] = entry
    return {"n_rows": int(n_rows), "features": features}


def numeric_bin_shares(values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> list[float]:
    """Share of ``values`` in each bin of ``edges`` (NaN ignored), as :func:`data_profile` counts.

    Bin ``i`` holds ``edges[i] <= v < edges[i+1]``; the last bin also holds ``edges[-1]``.
    The end bins are open: values below ``edges[0]`` count in the first bin, values above
    ``edges[-1]`` in the last, so new data outside the training range still lands in a
    bin. Returns ``len(edges) - 1`` shares summing to 1, or zeros if no value is known.
    """
    edges_array = np.asarray(edges, dtype=float)
    if edges_array.ndim != 1 or len(edges_array) < 2:
        raise ValueError(f"need at least two bin edges, got {len(edges_array)}")
    if np.any(np.diff(edges_array) < 0):
        raise ValueError("bin edges must be sorted")
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    n_bins = len(edges_array) - 1
    if len(array) == 0:
        return [0.0] * n_bins
    index = np.searchsorted(edges_array[1:-1], array, side="right")
    counts = np.bincount(index, minlength=n_bins)
    return [float(c) for c in counts / len(array)]


def _numeric_profile(values: np.ndarray, bins: int) -> dict[str, Any]:
    if len(values) == 0:
        return {"edges": [], "shares": [], "mean": None, "std": None, "min": None, "max": None}
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return {
        "edges": [float(e) for e in edges],
        "shares": numeric_bin_shares(values, edges),
        "mean": float(np.mean(values)),
        "std": std,
        "min": float(np.min(values)),
        "max": float(np.max(values)),
    }


def category_shares(column: pd.Series) -> dict[str, float]:
    """Each known category's share, most frequent first (ties by name)."""
    known = column.dropna().astype(str)
    if known.empty:
        return {}
    counts = known.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {str(name): float(count / len(known)) for name, count in ordered}


def known_numbers(column: pd.Series) -> np.ndarray:
    """The known (non-missing) values of a number column, as floats."""
    array = pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return array[~np.isnan(array)]


def check_features(frame: pd.DataFrame, feature_types: Mapping[str, str]) -> None:
    """Every feature is a column of ``frame`` and of a type this module profiles."""
    absent = [name for name in feature_types if name not in frame.columns]
    if absent:
        raise ValueError(f"features not in the frame: {', '.join(absent)}")
    unknown = {name: kind for name, kind in feature_types.items() if kind not in FEATURE_TYPES}
    if unknown:
        listed = ", ".join(f"{name} ({kind!r})" for name, kind in unknown.items())
        raise ValueError(f"unknown feature types: {listed}; expected one of {FEATURE_TYPES}")
