"""One prospect's waterfall: how each feature, block by reason, moves one outcome from the
average prospect to this prospect (``prospect explain --plot``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from prospect_predictor.domain import CONTEXT, REASONS
from prospect_predictor.reporting import charts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WATERFALL_TOLERANCE = 1e-6  # base + contributions vs total, in the chart's unit
# The chart's own words; ``waterfall_png(words=...)`` replaces any of them (translations).
WATERFALL_WORDS = {
    "base": "average prospect",
    "total": "this prospect",
    "others": "{n} other features",
    "empty": "no feature contributions",
    "raises": "raises the value (pushes right)",
    "lowers": "lowers it (pushes left)",
    "block": "a reason's net effect (bracket)",
    "probability": "P = {p}",
}
SMALL = 0.01  # a feature moving the outcome less than this (in the chart's unit) is "other"
# Waterfall bars: colour means direction, whatever the reason.
WATERFALL_UP = "#D55E00"  # raises the value (pushes right)
WATERFALL_DOWN = "#0072B2"  # lowers it (pushes left)


def waterfall_png(
    base: float,
    contributions: Sequence[tuple[str, str, float]],
    total: float,
    path: Path,
    *,
    title: str,
    unit: str = "log-odds against win_win",
    reason_labels: Mapping[str, str] | None = None,
    max_features_per_reason: int = 6,
    words: Mapping[str, str] | None = None,
    probabilities: tuple[str, str] | None = None,
) -> Path:
    """One prospect, one outcome: how each feature moves it from the average prospect.

    ``contributions`` are ``(feature label, reason, value)`` in the unit of ``unit``. The
    chart starts at ``base`` (the average prospect; a thin vertical line), then draws one
    horizontal bar per feature, each starting where the previous one ended (red: pushes
    right, blue: pushes left), and ends at ``total`` (this prospect; a dashed line and a
    final row). Features come in blocks by reason, in the product's order (``poor_fit``,
    ``difficult_expectations``, ``product_mismatch``, ``strung_along``, ``context``; any
    other reason after, in first-seen order); each block opens with a row naming the
    reason (``reason_labels[reason]``, else the reason with spaces) and its sum. Inside a
    block, features go by |value|, largest first; beyond ``max_features_per_reason`` the
    rest share one bar, "N other features" (a single leftover feature keeps its own row,
    which takes no more room). Every bar is annotated with its signed value.

    ``base + sum(values)`` must equal ``total`` within 1e-6, else ``ValueError``: the chart
    would not add up. ``words`` replaces any of the chart's own words (``WATERFALL_WORDS``:
    the first and last rows, "N other features" as ``{n}``, the empty chart, the legend).
    Features that move the value less than :data:`SMALL` join "N other features" too, as in
    shap's waterfall. ``probabilities`` (the average prospect's and this prospect's
    probability of the outcome, as text) are shown beside the two end points, so that the
    log-odds axis reads as a chance.
    """
    return charts.save_png(
        _waterfall_figure(
            base,
            contributions,
            total,
            title=title,
            unit=unit,
            reason_labels=reason_labels,
            max_features_per_reason=max_features_per_reason,
            words=words,
            probabilities=probabilities,
        ),
        path,
    )


def signed(value: float) -> str:
    """A contribution with its sign and two decimals, never "-0.00" or "+0.00"."""
    text = f"{value:+.2f}"
    return "0.00" if text in ("-0.00", "+0.00") else text


class _WaterfallRow(NamedTuple):
    """One row of the waterfall, top to bottom; a bar spans ``start`` to ``start + value``."""

    kind: str  # "base", "header", "feature", "other" (merged features) or "total"
    label: str
    reason: str | None
    start: float
    value: float


def _waterfall_rows(
    base: float,
    contributions: Sequence[tuple[str, str, float]],
    total: float,
    reason_labels: Mapping[str, str] | None = None,
    max_features_per_reason: int = 6,
    words: Mapping[str, str] | None = None,
) -> list[_WaterfallRow]:
    words = {**WATERFALL_WORDS, **(words or {})}
    if max_features_per_reason < 1:
        raise ValueError(
            f"max_features_per_reason must be at least 1, got {max_features_per_reason}"
        )
    base, total = float(base), float(total)
    items = [(str(label), str(reason), float(value)) for label, reason, value in contributions]
    not_finite = [label for label, _, value in items if not math.isfinite(value)]
    if not_finite:
        raise ValueError(f"contributions must be finite numbers: {', '.join(not_finite)}")
    if not (math.isfinite(base) and math.isfinite(total)):
        raise ValueError(f"base and total must be finite, got base={base}, total={total}")
    reached = base + math.fsum(value for _, _, value in items)
    if abs(reached - total) > WATERFALL_TOLERANCE:
        raise ValueError(
            f"the contributions do not add up: base + contributions = {reached:.9g} but "
            f"total = {total:.9g} (difference {reached - total:.3g})"
        )
    blocks: dict[str, list[tuple[str, float]]] = {}
    for label, reason, value in items:
        blocks.setdefault(reason, []).append((label, value))
    product_order = [*REASONS, CONTEXT]
    reasons = [r for r in product_order if r in blocks] + [
        r for r in blocks if r not in product_order
    ]
    labels = dict(reason_labels or {})
    rows = [_WaterfallRow("base", words["base"], None, base, 0.0)]
    position = base
    for reason in reasons:
        features = sorted(blocks[reason], key=lambda item: -abs(item[1]))  # stable on ties
        block_sum = math.fsum(value for _, value in features)
        name = labels.get(reason, reason.replace("_", " "))
        rows.append(
            _WaterfallRow("header", f"{name}  {signed(block_sum)}", reason, position, block_sum)
        )
        if len(features) > max_features_per_reason + 1:
            shown, rest = features[:max_features_per_reason], features[max_features_per_reason:]
        else:
            shown, rest = features, []
        small = [f for f in shown if abs(f[1]) < SMALL]
        if len(small) + len(rest) > 1:  # one leftover keeps its own row: no more room
            shown, rest = [f for f in shown if abs(f[1]) >= SMALL], rest + small
        for label, value in shown:
            rows.append(_WaterfallRow("feature", label, reason, position, value))
            position += value
        if rest:
            value = math.fsum(v for _, v in rest)
            rows.append(
                _WaterfallRow("other", words["others"].format(n=len(rest)), reason, position, value)
            )
            position += value
    rows.append(_WaterfallRow("total", words["total"], None, total, 0.0))
    return rows


def _waterfall_figure(
    base: float,
    contributions: Sequence[tuple[str, str, float]],
    total: float,
    *,
    title: str,
    unit: str = "log-odds against win_win",
    reason_labels: Mapping[str, str] | None = None,
    max_features_per_reason: int = 6,
    words: Mapping[str, str] | None = None,
    probabilities: tuple[str, str] | None = None,
) -> Figure:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    words = {**WATERFALL_WORDS, **(words or {})}
    rows = _waterfall_rows(
        base, contributions, total, reason_labels, max_features_per_reason, words
    )
    base, total = float(base), float(total)
    n = len(rows)
    bars = [(i, row) for i, row in enumerate(rows) if row.kind in ("feature", "other")]
    longest = max(len(row.label) for row in rows)
    width = max(charts.FIGSIZE[0], 4.8 + 0.075 * longest)
    height = max(3.2, 1.7 + 0.3 * n)
    fig = charts.new_figure((width, height), layout="constrained")
    ax = fig.add_subplot()

    # x range: every point the walk visits, with room for the value labels at the ends
    points = [base, total, *(row.start for row in rows), *(row.start + row.value for row in rows)]
    low, high = min(points), max(points)
    span = high - low if high > low else max(abs(high), 1.0)
    pad = 0.16 * span
    ax.set_xlim(low - pad, high + pad)
    offset = 0.012 * (span + 2 * pad)

    # reason blocks: every other block on a light grey band (neutral: colour means direction)
    headers = [i for i, row in enumerate(rows) if row.kind == "header"]
    for k, (first, after) in enumerate(zip(headers, [*headers[1:], n - 1], strict=False)):
        if k % 2 == 0:
            ax.axhspan(first - 0.5, after - 0.5, color="#EEEEEE", lw=0, zorder=0)

    ax.axvline(base, color="#555555", linewidth=0.9, zorder=1)
    ax.axvline(total, color="#222222", linewidth=1.1, linestyle="--", zorder=1)

    colors = [
        WATERFALL_UP if row.value > 0 else WATERFALL_DOWN if row.value < 0 else "#999999"
        for _, row in bars
    ]
    ax.barh(
        [i for i, _ in bars],
        [row.value for _, row in bars],
        left=[row.start for _, row in bars],
        height=0.62,
        color=colors,
        zorder=3,
    )
    for patch, (_, row) in zip(ax.containers[0].patches, bars, strict=True):
        if row.kind == "other":
            patch.set_alpha(0.6)
    for i, row in bars:
        end = row.start + row.value
        right = row.value >= 0
        ax.text(
            end + (offset if right else -offset),
            i,
            signed(row.value),
            ha="left" if right else "right",
            va="center",
            fontsize=8,
            zorder=4,
        )
    # connectors: where one bar ends, the next one starts
    for (i, row), (j, _) in zip(bars, bars[1:], strict=False):
        end = row.start + row.value
        ax.plot([end, end], [i + 0.31, j - 0.31], color="#888888", linewidth=0.6, zorder=2)

    for i, row in enumerate(rows):
        if row.kind == "header":
            # the block's net effect, from where it starts to where it ends
            ax.plot(
                [row.start, row.start + row.value],
                [i, i],
                color="#444444",
                linewidth=1.4,
                marker="|",
                markersize=9,
                zorder=3,
            )
        elif row.kind in ("base", "total"):
            ax.plot([row.start], [i], marker="D", color="#222222", markersize=6, zorder=4)
            chance = ""
            if probabilities is not None:
                shown = probabilities[0 if row.kind == "base" else 1]
                chance = "  (" + words["probability"].format(p=shown) + ")"
            ax.text(
                row.start + offset,
                i,
                signed(row.start) + chance,
                ha="left",
                va="center",
                fontsize=9,
                fontweight="bold",
                zorder=4,
            )

    ax.set_yticks(range(n), [row.label for row in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.kind in ("header", "base", "total"):
            tick.set_fontweight("bold")
        else:
            tick.set_fontsize(9)
        if row.kind == "other":
            tick.set_style("italic")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(unit)
    ax.set_title(title, wrap=True)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="y", length=0)
    if not bars:
        ax.text(
            0.5,
            0.5,
            words["empty"],
            transform=ax.transAxes,
            ha="center",
            va="center",
            style="italic",
            color="#555555",
            bbox={"facecolor": "white", "edgecolor": "none"},
            zorder=5,
        )
        return fig
    bracket = Line2D([], [], color="#444444", linewidth=1.4, marker="|", markersize=9)
    fig.legend(
        [Patch(color=WATERFALL_UP), Patch(color=WATERFALL_DOWN), bracket],
        [words["raises"], words["lowers"], words["block"]],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    return fig
