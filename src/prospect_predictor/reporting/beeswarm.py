"""Shap's beeswarm without shap's pyplot: per unwanted outcome, one dot per prospect and
feature at its contribution to the outcome's log-odds against ``win_win``, coloured by the
feature's value. Drawn on :mod:`prospect_predictor.reporting.charts`' Agg figures (no
pyplot state); matplotlib is imported inside the functions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from prospect_predictor.reporting.charts import REFERENCE, new_figure, save_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NO_VALUE_COLOR = "#9a9a9a"  # a dot whose feature value has no place on the scale


def beeswarm_png(
    values: np.ndarray,
    frame: pd.DataFrame,
    features: Sequence[str],
    outcomes: Sequence[str],
    path: Path,
    top: int = 12,
    reference: str = REFERENCE,
) -> Path:
    """One panel per outcome, shap's beeswarm: for its ``top`` features by mean
    |contribution|, one dot per prospect at its contribution to the outcome's log-odds
    against ``reference`` (``values[:, j, k]``, features in ``features`` order, outcomes in
    ``outcomes`` order), stacked where dots crowd, coloured by the prospect's value of the
    feature (``frame[feature]``: low blue to high red, between its 5th and 95th
    percentiles; grey for a category or a missing value)."""
    return save_png(_beeswarm_figure(values, frame, features, outcomes, top, reference), path)


def _beeswarm_figure(
    values: np.ndarray,
    frame: pd.DataFrame,
    features: Sequence[str],
    outcomes: Sequence[str],
    top: int,
    reference: str,
) -> Figure:
    values = np.asarray(values, dtype=float)
    if values.ndim != 3 or values.shape[1:] != (len(features), len(outcomes)):
        raise ValueError(
            f"values must have shape (rows, {len(features)} features, {len(outcomes)} "
            f"outcomes), got {values.shape}"
        )
    if len(frame) != values.shape[0]:
        raise ValueError(f"frame has {len(frame)} rows but values {values.shape[0]}")
    if top < 1 or not len(outcomes):
        raise ValueError("nothing to draw: no outcome, or top below 1")
    shown = min(top, len(features))
    colours = {f: beeswarm_colours(frame[f]) for f in features}
    longest = max((len(f) for f in features), default=10)
    fig = new_figure(
        (len(outcomes) * (3.4 + 0.06 * longest), 1.4 + 0.36 * shown), layout="constrained"
    )
    axes = fig.subplots(1, len(outcomes), squeeze=False, sharex=True).ravel()
    image = None
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        order = np.argsort(-np.abs(values[:, :, k]).mean(axis=0), kind="stable")[:shown]
        for row, j in enumerate(order):
            x = values[:, j, k]
            image = ax.scatter(
                x,
                row + swarm_offsets(x),
                c=colours[features[j]],
                s=5,
                linewidths=0,
                rasterized=True,
            )
        ax.axvline(0.0, color="#555555", linewidth=0.8)
        ax.set_yticks(range(shown), [features[j] for j in order], fontsize=8)
        ax.set_ylim(shown - 0.5, -0.5)
        ax.set_title(f"{outcome} against {reference}", fontsize=10)
        ax.set_xlabel(f"contribution to log-odds against {reference}", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    if image is not None:
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        scale = ScalarMappable(Normalize(0, 1), colormaps[BEESWARM_CMAP])
        bar = fig.colorbar(scale, ax=list(axes), ticks=[0, 1], aspect=40)
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("feature value (grey: category or missing)")
    fig.suptitle(
        f"Each prospect's contributions, per outcome against {reference} "
        f"({values.shape[0]:,} prospects)"
    )
    return fig


BEESWARM_CMAP = "coolwarm"


def beeswarm_colours(column: pd.Series) -> np.ndarray:
    """RGBA per row: a number or boolean on the colour scale between its 5th and 95th
    percentiles (clipped), low blue to high red; a category or a missing value grey."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    grey = np.array(to_rgba(NO_VALUE_COLOR))
    out = np.tile(grey, (len(column), 1))
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        return out
    numbers = pd.to_numeric(column.astype("Float64"), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    known = ~np.isnan(numbers)
    if not known.any():
        return out
    low, high = np.percentile(numbers[known], [5, 95])
    if high <= low:
        low, high = numbers[known].min(), numbers[known].max()
    scaled = np.clip((numbers[known] - low) / (high - low), 0, 1) if high > low else 0.5
    out[known] = colormaps[BEESWARM_CMAP](np.broadcast_to(scaled, (int(known.sum()),)))
    return out


def swarm_offsets(x: np.ndarray, bins: int = 100, width: float = 0.4) -> np.ndarray:
    """Vertical offsets that stack dots of nearby x (shap's beeswarm): x is cut into
    ``bins`` bins; the dots of a bin alternate above and below the line, further out as
    the bin fills, scaled so that the fullest bin spans ±``width``."""
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return np.zeros(0)
    span = x.max() - x.min()
    binned = np.zeros(len(x), dtype=int) if span == 0 else np.round(bins * (x - x.min()) / span)
    order = np.argsort(binned, kind="stable")
    sorted_bins = binned[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_bins)) + 1]
    layer = np.arange(len(x)) - np.repeat(starts, np.diff(np.r_[starts, len(x)]))
    signed = np.where(layer % 2 == 0, 1, -1) * np.ceil(layer / 2)
    offsets = np.zeros(len(x))
    offsets[order] = signed
    peak = np.abs(offsets).max()
    return offsets * (width / peak) if peak > 0 else offsets
