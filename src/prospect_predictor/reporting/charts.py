"""Evaluation results as PNG charts (MLflow artifacts); one prospect's waterfall is in
:mod:`prospect_predictor.reporting.waterfall` and the beeswarm in
:mod:`prospect_predictor.reporting.beeswarm`, which draw with this module's figure tools.

Pure functions: each chart function takes plain inputs, writes one PNG and returns its
path; nothing here talks to MLflow or reads files. Figures are drawn on matplotlib's Agg
canvas without pyplot (no global figure registry, no backend switch for the caller), so
every figure is freed once the function returns. matplotlib is imported inside the
functions: this module is only imported by training and evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prospect_predictor.data.profile import category_shares, check_features, known_numbers
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
FIGSIZE = (7.0, 5.0)
REFERENCE = OUTCOMES[0]  # contributions are log-odds against it (explaining.contributions)
NO_REASON_DATA = "no data for this reason"
UNASSIGNED = "no reason given"
MAX_CATEGORY_BARS = 12

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
OUTCOME_COLORS = {
    "win_win": "#009E73",
    "win_lose": "#E69F00",
    "stalled": "#56B4E9",
    "declined": "#D55E00",
}
REASON_COLORS = {
    "poor_fit": "#0072B2",
    "difficult_expectations": "#E69F00",
    "product_mismatch": "#009E73",
    "strung_along": "#CC79A7",
    CONTEXT: "#999999",
    UNASSIGNED: "#444444",
}
_SPARE_COLORS = ("#F0E442", "#000000", "#882255", "#44AA99", "#117733", "#332288")


# --------------------------------------------------------------------------- charts


def confusion_matrix_png(
    y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str], path: Path
) -> Path:
    """Confusion matrix: rows are the true outcome, columns the predicted one.

    Each cell shows the count and its share of the row (the true outcome); cells are
    shaded by that share, so the diagonal reads as per-class recall. A class that is
    never predicted (or never true) still gets its column (row), of zeros.
    """
    return save_png(_confusion_figure(y_true, y_pred, classes), path)


def calibration_curves_png(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    path: Path,
    bins: int = 10,
) -> Path:
    """Reliability curves, one per class (one-vs-rest), with the diagonal.

    For each class, ``proba[:, k]`` is cut into ``bins`` equal-width bins over [0, 1]; each
    non-empty bin is a point (mean predicted probability, observed share of the class).
    The legend gives each class's ECE (see ``metrics.expected_calibration_error``).
    """
    return save_png(_calibration_figure(y_true, proba, classes, bins), path)


def reason_importance_png(
    importance: Mapping[str, Mapping[str, float | None] | None],
    path: Path,
    title: str | None = None,
    reference: str = REFERENCE,
) -> Path:
    """Grouped horizontal bars: one group per reason, one bar per outcome.

    ``importance[reason][outcome]`` is the mean |contribution| to the outcome's log-odds
    against ``reference`` (the advisor's unit; the reference has no bars). Reasons come in
    the product's order (``poor_fit``, ``difficult_expectations``, ``product_mismatch``,
    ``strung_along``, ``context``), only those present; any other key follows, in the
    given order. A reason whose value is ``None`` (no feature speaks to it in the
    pipeline), or whose outcomes are all ``None``, is shown with the text
    "no data for this reason" instead of bars.
    """
    title = title or f"What drives each outcome against {reference}, by reason"
    return save_png(_reason_figure(importance, title, reference), path)


def feature_importance_png(
    importance: Mapping[str, Mapping[str, float]],
    feature_reason: Mapping[str, str],
    path: Path,
    top: int = 20,
    reference: str = REFERENCE,
) -> Path:
    """One panel per outcome: the ``top`` features by mean |contribution| to the outcome's
    log-odds against ``reference``.

    ``importance[outcome][feature]``; bars are coloured by ``feature_reason[feature]`` (a
    feature missing from that mapping is shown as "no reason given"). Panels share their
    x axis so that outcomes can be compared; NaN or ``None`` importances are left out.
    """
    return save_png(_feature_figure(importance, feature_reason, top, reference), path)


def data_profile_png(frame: pd.DataFrame, feature_types: Mapping[str, str], path: Path) -> Path:
    """A grid of small charts, one per feature, with its missing share in the title.

    Numerics: histogram of the share of known values, clipped to the 1st-99th percentile
    (values beyond are counted in the end bins; the title says so); ``int`` features whose
    values span at most 25 get one bar per value instead. Booleans and categories: bars of
    the share of known values (the most frequent categories, the rest grouped as "other").
    """
    return save_png(_profile_figure(frame, feature_types), path)


# --------------------------------------------------------------------------- figures


def new_figure(figsize: tuple[float, float] = FIGSIZE, **kwargs: Any) -> Figure:
    """A figure on the Agg canvas, outside pyplot's registry (freed when dropped)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fig.get_layout_engine() is None:
            fig.tight_layout()
        fig.savefig(path, format="png", dpi=DPI)
    finally:
        fig.clear()
    return path


def _confusion_counts(
    y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]
) -> np.ndarray:
    true = _as_labels(y_true, classes, "y_true")
    pred = _as_labels(y_pred, classes, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} labels but y_pred has {len(pred)}")
    if len(true) == 0:
        raise ValueError("no labels to compare")
    k = len(classes)
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _confusion_figure(
    y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]
) -> Figure:
    counts = _confusion_counts(y_true, y_pred, classes)
    row_totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(row_totals > 0, counts / np.maximum(row_totals, 1), np.nan)
    k = len(classes)
    fig = new_figure()
    ax = fig.add_subplot()
    image = ax.imshow(np.nan_to_num(shares), cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            share = "—" if np.isnan(shares[i, j]) else f"{shares[i, j]:.0%}"
            dark = not np.isnan(shares[i, j]) and shares[i, j] > 0.55
            ax.text(
                j,
                i,
                f"{counts[i, j]:,}\n{share}",
                ha="center",
                va="center",
                fontsize=10 if k <= 6 else 8,
                color="white" if dark else "black",
            )
    labels = list(classes)
    ax.set_xticks(range(k), labels, rotation=30, ha="right")
    ax.set_yticks(
        range(k), [f"{c} (n={int(t):,})" for c, t in zip(labels, row_totals[:, 0], strict=True)]
    )
    ax.set_xlabel("predicted outcome")
    ax.set_ylabel("true outcome")
    ax.set_title(f"Confusion matrix ({int(counts.sum()):,} prospects; shares of each row)")
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label("share of the true outcome's row")
    return fig


def _calibration_figure(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], bins: int
) -> Figure:
    # metrics imports scikit-learn's metrics and SciPy: not at import time, since scoring a
    # file imports this module for the drift check's binning
    from prospect_predictor.monitoring.metrics import calibration_bins

    y, p = _check_proba(y_true, proba, classes, bins)
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="#777777", linewidth=1, label="perfect")
    colors = _colors(classes, OUTCOME_COLORS)
    for k, name in enumerate(classes):
        mean_p, observed, counts, ece = calibration_bins(y == k, p[:, k], bins)
        ax.plot(
            mean_p,
            observed,
            marker="o",
            markersize=4,
            linewidth=1.5,
            color=colors[name],
            label=f"{name} (ECE {ece:.3f})",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability (in bin)")
    ax.set_ylabel("observed share of the outcome (in bin)")
    ax.set_title(f"Calibration, one outcome vs the rest ({len(y):,} prospects, {bins} bins)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig


def _check_proba(
    y_true: Sequence[str], proba: np.ndarray, classes: Sequence[str], bins: int
) -> tuple[np.ndarray, np.ndarray]:
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    y = _as_labels(y_true, classes, "y_true")
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape != (len(y), len(classes)):
        raise ValueError(
            f"proba must have shape (n_rows, n_classes) = ({len(y)}, {len(classes)}), got {p.shape}"
        )
    if len(y) == 0:
        raise ValueError("no rows to evaluate")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("proba must hold probabilities in [0, 1], without NaN")
    return y, p


def _as_labels(labels: Sequence[str], classes: Sequence[str], what: str) -> np.ndarray:
    """Labels as indices into ``classes``; a label outside ``classes`` is an error."""
    position = {name: i for i, name in enumerate(classes)}
    if len(position) != len(classes):
        raise ValueError(f"classes repeat a name: {list(classes)}")
    values = list(labels)
    unknown = sorted({str(v) for v in values if v not in position})
    if unknown:
        raise ValueError(f"{what} holds labels outside {list(classes)}: {', '.join(unknown)}")
    return np.array([position[v] for v in values], dtype=int)


def _reason_figure(
    importance: Mapping[str, Mapping[str, float | None] | None],
    title: str,
    reference: str = REFERENCE,
) -> Figure:
    product_order = [*REASONS, CONTEXT]
    reasons = [r for r in product_order if r in importance]
    reasons += [r for r in importance if r not in product_order]
    outcomes = _ordered_outcomes(
        name for values in importance.values() if values for name in values
    )
    colors = _colors(outcomes, OUTCOME_COLORS)
    n_out = max(len(outcomes), 1)
    bar_height = 0.8 / n_out
    height = max(FIGSIZE[1], 1.0 + 0.22 * max(len(reasons), 1) * (n_out + 1))
    fig = new_figure((FIGSIZE[0], height))
    ax = fig.add_subplot()
    x_max = max(
        (
            _number(v)
            for values in importance.values()
            if values
            for v in values.values()
            if not math.isnan(_number(v))
        ),
        default=0.0,
    )
    x_max = x_max if x_max > 0 else 1.0
    plotted: set[str] = set()
    for g, reason in enumerate(reasons):
        values = importance[reason] or {}
        numbers = {o: _number(values.get(o)) for o in outcomes}
        if all(math.isnan(v) for v in numbers.values()):
            ax.text(
                0.02 * x_max,
                g,
                NO_REASON_DATA,
                va="center",
                ha="left",
                style="italic",
                color="#555555",
            )
            continue
        for j, outcome in enumerate(outcomes):
            value = numbers[outcome]
            if math.isnan(value):
                continue
            y = g - 0.4 + bar_height * (j + 0.5)
            ax.barh(
                y,
                value,
                height=bar_height * 0.9,
                color=colors[outcome],
                label=outcome if outcome not in plotted else None,
            )
            plotted.add(outcome)
            ax.text(value, y, f" {value:.2f}", va="center", ha="left", fontsize=7)
    ax.set_yticks(range(len(reasons)), [r.replace("_", " ") for r in reasons])
    ax.set_ylim(len(reasons) - 0.5, -0.5)
    ax.set_xlim(0, x_max * 1.15)
    ax.set_xlabel(f"mean |contribution| to the outcome's log-odds against {reference}")
    ax.set_ylabel("reason")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if plotted:
        handles, labels = ax.get_legend_handles_labels()
        by_label = dict(zip(labels, handles, strict=True))
        ordered = [o for o in outcomes if o in by_label]
        ax.legend(
            [by_label[o] for o in ordered], ordered, title="outcome", loc="lower right", fontsize=8
        )
    return fig


def _feature_figure(
    importance: Mapping[str, Mapping[str, float]],
    feature_reason: Mapping[str, str],
    top: int,
    reference: str = REFERENCE,
) -> Figure:
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    outcomes = _ordered_outcomes(importance)
    if not outcomes:
        raise ValueError("no outcome to show")
    panels = {}
    for outcome in outcomes:
        values = {f: _number(v) for f, v in importance[outcome].items()}
        kept = sorted(
            ((f, v) for f, v in values.items() if not math.isnan(v)), key=lambda fv: -fv[1]
        )
        panels[outcome] = kept[:top]
    n_cols = min(2, len(outcomes))
    n_rows = math.ceil(len(outcomes) / n_cols)
    longest = max((len(f) for kept in panels.values() for f, _ in kept), default=10)
    n_bars = max((len(kept) for kept in panels.values()), default=1)
    width = max(FIGSIZE[0], n_cols * (3.2 + 0.065 * longest))
    height = max(FIGSIZE[1], n_rows * (1.0 + 0.24 * n_bars) + 0.6)
    fig = new_figure((width, height), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, squeeze=False).ravel()
    reasons_used: list[str] = []
    all_reasons = [*REASONS, CONTEXT]
    extra = sorted({r for r in feature_reason.values() if r not in all_reasons})
    colors = _colors([*all_reasons, *extra, UNASSIGNED], REASON_COLORS)
    for ax, outcome in zip(axes, outcomes, strict=False):
        kept = panels[outcome]
        names = [f for f, _ in kept]
        reasons = [feature_reason.get(f, UNASSIGNED) for f in names]
        reasons_used += [r for r in reasons if r not in reasons_used]
        ax.barh(
            range(len(kept)),
            [v for _, v in kept],
            color=[colors[r] for r in reasons],
        )
        ax.set_yticks(range(len(kept)), names, fontsize=8)
        ax.set_ylim(max(len(kept), 1) - 0.5, -0.5)
        ax.set_title(f"{outcome}: top {len(kept)} features", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_xlabel(f"mean |contribution| (log-odds against {reference})", fontsize=9)
        if not kept:
            ax.text(0.5, 0.5, "no feature importance", transform=ax.transAxes, ha="center")
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    from matplotlib.patches import Patch

    ordered = [r for r in [*all_reasons, *extra, UNASSIGNED] if r in reasons_used]
    if ordered:
        fig.legend(
            [Patch(color=colors[r]) for r in ordered],
            [r.replace("_", " ") for r in ordered],
            title="reason",
            loc="outside lower center",
            ncols=min(len(ordered), 6),
            fontsize=9,
        )
    fig.suptitle(f"Feature importance per outcome, in log-odds against {reference}")
    return fig


def _profile_figure(frame: pd.DataFrame, feature_types: Mapping[str, str]) -> Figure:
    check_features(frame, feature_types)
    names = list(feature_types)
    if not names:
        raise ValueError("no feature to profile")
    n_cols = min(3, len(names))
    n_rows = math.ceil(len(names) / n_cols)
    fig = new_figure((max(FIGSIZE[0], 3.6 * n_cols), max(3.0, 2.9 * n_rows)), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        kind = feature_types[name]
        column = frame[name]
        missing = float(column.isna().mean()) if len(column) else 0.0
        note = _draw_numeric(ax, column, kind) if kind in ("int", "float") else None
        if kind == "bool":
            known = column.dropna().astype(bool)
            shares = {"false": float((~known).mean()), "true": float(known.mean())}
            _draw_bars(ax, shares if len(known) else {})
        elif kind == "category":
            _draw_bars(ax, _top_shares(category_shares(column)))
        title = f"{name} ({kind})\nmissing {missing:.1%}"
        if note:
            title += f" · {note}"
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_ylabel("share of known", fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Data profile ({len(frame):,} rows)", fontsize=11)
    return fig


def _draw_numeric(ax: Axes, column: pd.Series, kind: str) -> str | None:
    """Histogram of the known values; returns a note for the title (clipping), if any."""
    from matplotlib.ticker import EngFormatter, MaxNLocator

    values = known_numbers(column)
    if len(values) == 0:
        _no_values(ax)
        return None
    weights = np.full(len(values), 1.0 / len(values))
    whole = np.all(values == np.round(values))
    if kind == "int" and whole and values.max() - values.min() <= 25:
        distinct = np.unique(values)
        ax.bar(distinct, [np.mean(values == v) for v in distinct], width=0.8, color="#0072B2")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        return None
    low, high = np.percentile(values, [1, 99])
    note = None
    if high > low and (values.min() < low or values.max() > high):
        values = np.clip(values, low, high)
        note = "clipped to p1–p99"
    ax.hist(values, bins=30, weights=weights, color="#0072B2")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    return note


def _draw_bars(ax: Axes, shares: Mapping[str, float]) -> None:
    if not shares:
        _no_values(ax)
        return
    labels = list(shares)
    ax.bar(range(len(labels)), list(shares.values()), color="#0072B2")
    rotate = len(labels) > 2 or max(len(label) for label in labels) > 8
    ax.set_xticks(
        range(len(labels)),
        labels,
        rotation=40 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=7,
    )


def _top_shares(shares: Mapping[str, float]) -> dict[str, float]:
    if len(shares) <= MAX_CATEGORY_BARS:
        return dict(shares)
    items = list(shares.items())
    kept = dict(items[: MAX_CATEGORY_BARS - 1])
    kept["other"] = kept.get("other", 0.0) + sum(v for _, v in items[MAX_CATEGORY_BARS - 1 :])
    return kept


def _no_values(ax: Axes) -> None:
    ax.text(0.5, 0.5, "all values missing", transform=ax.transAxes, ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------- helpers


def _ordered_outcomes(names: Any) -> list[str]:
    """The four outcomes in the product's order, then any other name in first-seen order."""
    seen = list(dict.fromkeys(names))
    return [o for o in OUTCOMES if o in seen] + [o for o in seen if o not in OUTCOMES]


def _colors(names: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    spare = iter(_SPARE_COLORS * (len(names) // len(_SPARE_COLORS) + 1))
    return {name: known[name] if name in known else next(spare) for name in names}


def _number(value: Any) -> float:
    """A float, NaN for ``None``/NA: lets callers pass numpy scalars or missing values."""
    if value is None or value is pd.NA:
        return math.nan
    return float(value)
