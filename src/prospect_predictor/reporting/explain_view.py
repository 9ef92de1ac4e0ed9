"""What `prospect explain` shows for one prospect, and its waterfall chart."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from prospect_predictor.domain import CONTEXT, REASONS
from prospect_predictor.language import texts
from prospect_predictor.scoring.rows import reason_cell
from prospect_predictor.scoring.score import advice_for, column_units, describe_drivers


def said(scores, metadata: dict, name: str, lang: str) -> str:
    """The one prospect's feature ``name`` and its value in words, as the pipeline says it."""
    return texts.describe_feature(
        name,
        first_values(scores)[name],
        lang,
        kind=metadata["feature_types"][name],
        unit=column_units(metadata).get(name),
        phrases=scores.phrases,
    )


def first_values(scores) -> dict:
    """The first prospect's features as scored, from a frame or one lead's mapping."""
    values = scores.feature_values
    if hasattr(values, "iloc"):
        return values.iloc[0].to_dict()
    return {name: column[0] for name, column in values.items()}


def main_bad_outcome(report) -> str:
    """The outcome the chart explains: the one the lead's decision is about, else (a model
    with nothing unwanted to explain) its second class."""
    scores = report.scores[0]
    return scores.top_reason_outcome[0] or scores.classes[min(1, len(scores.classes) - 1)]


def render_explanation(report, console) -> None:
    """``report``'s one prospect (jobs.score.ScoringReport)."""
    row = report.frame.iloc[0].to_dict()
    render_prospect(report.scores[0], row, report.metadata, report.lang, console)


def render_prospect(scores, row: dict, metadata: dict, lang: str, console) -> None:
    """One prospect: its scores (the first of ``scores``) and output row (score.to_frame's
    columns; :mod:`prospect_predictor.scoring.one_lead` builds it without pandas)."""
    from rich.table import Table

    ui = texts.ui
    outcomes = [c for c in scores.classes if c != scores.reference]
    console.print(f"{ui('prospect', lang)} {row['prospect_id']}", markup=False)
    probabilities = ", ".join(
        f"{texts.outcome_label(c, lang)} {texts.format_percent(scores.proba[0, k], lang)}"
        for k, c in enumerate(scores.classes)
    )
    console.print(texts.labelled(ui("probability", lang), probabilities, lang), markup=False)
    recommendation = (
        f"{texts.recommendation_label(row['recommendation'], lang)} — "
        f"{texts.recommendation_meaning(row['recommendation'], lang)}"
    )
    console.print(texts.labelled(ui("recommendation", lang), recommendation, lang), markup=False)

    reasons = Table(title=f"{ui('reason', lang)} — {ui('unit', lang)}", title_justify="left")
    reasons.add_column(ui("reason", lang))
    for outcome in outcomes:
        reasons.add_column(texts.outcome_label(outcome, lang), justify="right")
    reasons.add_row(
        f"({ui('waterfall_base', lang)})",
        *[f"{scores.base[scores.classes.index(o)]:+.3f}" for o in outcomes],
    )
    for reason in (*REASONS, CONTEXT):
        label = texts.reason_label(reason, lang)
        if reason not in scores.reasons:
            if reason != CONTEXT:
                reasons.add_row(label, *[ui("no_data", lang)] * len(outcomes))
            continue
        reasons.add_row(
            label, *[f"{scores.reasons[reason][0, scores.classes.index(o)]:+.3f}" for o in outcomes]
        )
    total = [
        scores.base[scores.classes.index(o)] + scores.values[0, :, scores.classes.index(o)].sum()
        for o in outcomes
    ]
    reasons.add_row(f"= {ui('waterfall_total', lang)}", *[f"{t:+.3f}" for t in total])
    console.print(reasons)

    features = Table(title=ui("feature", lang), title_justify="left")
    features.add_column(ui("feature", lang))
    features.add_column(ui("reason", lang))
    features.add_column(ui("value", lang))
    for outcome in outcomes:
        features.add_column(texts.outcome_label(outcome, lang), justify="right")
    order = np.argsort(-np.abs(scores.values[0]).max(axis=1))
    for j in order:
        name = scores.features[j]
        value = said(scores, metadata, name, lang)
        reason = metadata["feature_reasons"].get(name, CONTEXT)
        features.add_row(
            texts.column_label(name, lang, scores.phrases),
            texts.reason_label(reason, lang),
            value,
            *[f"{scores.values[0, j, scores.classes.index(o)]:+.3f}" for o in outcomes],
        )
    console.print(features)
    if scores.top_reason_outcome[0]:
        drivers = texts.listed(
            describe_drivers(
                scores,
                0,
                metadata["feature_types"],
                column_units(metadata),
                lang,
                first_values(scores),
            ),
            lang,
        )
        cell = reason_cell(row, lang).replace("\n", " ")
        console.print(
            texts.labelled(ui("top_reason", lang), cell, lang)
            + (f" — {drivers}" if drivers else ""),
            markup=False,
        )
    console.print(
        texts.labelled(ui("advice", lang), advice_for(scores, 0, lang), lang), markup=False
    )


def waterfall(report, path: Path, overwrite: bool = False) -> str:
    """The waterfall chart of ``report``'s one prospect, written to ``path`` (PNG) through a
    temporary file: ``written``, ``replaced`` or ``unchanged``; an existing file with other
    contents is kept unless ``overwrite``."""
    from prospect_predictor.data.tableio import write_file_atomically
    from prospect_predictor.reporting.waterfall import waterfall_png

    scores, lang, metadata = report.scores[0], report.lang, report.metadata
    outcome = main_bad_outcome(report)
    k = scores.classes.index(outcome)
    parts = [
        (
            said(scores, metadata, name, lang),
            metadata["feature_reasons"].get(name, CONTEXT),
            float(scores.values[0, j, k]),
        )
        for j, name in enumerate(scores.features)
    ]
    base = float(scores.base[k])
    total = base + sum(p[2] for p in parts)
    title = (
        f"{report.frame.iloc[0]['prospect_id']}: "
        f"{texts.outcome_label(outcome, lang)} vs {texts.outcome_label(scores.reference, lang)}"
    )
    labels = {r: texts.reason_label(r, lang) for r in (*REASONS, CONTEXT)}
    average = np.exp(scores.base - scores.base.max())
    average = average / average.sum()  # the average prospect's chances: softmax of the base
    chances = (
        texts.format_percent(float(average[k]), lang),
        texts.format_percent(float(scores.proba[0, k]), lang),
    )
    draw = partial(
        waterfall_png,
        base,
        parts,
        total,
        title=title,
        unit=texts.ui("unit", lang),
        reason_labels=labels,
        words={
            key: texts.ui(f"waterfall_{key}", lang, n="{n}", p="{p}")
            for key in (
                "base",
                "total",
                "others",
                "empty",
                "raises",
                "lowers",
                "block",
                "probability",
            )
        },
        probabilities=chances,
    )
    return write_file_atomically(Path(path), draw, overwrite)
