"""One lead's output row without pandas: :func:`score.to_frame`'s columns for a lead
scored from a mapping of column -> values (:func:`score.score`), built with the same
helpers (drivers, advice, words), and its CSV text as :func:`data.tableio.to_csv` writes
the one-row frame (the same bytes: ``tests/scoring/test_one_lead.py``)."""

from __future__ import annotations

import csv
import io
import math

from prospect_predictor.data.cells import escaped_cell
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.language import texts
from prospect_predictor.scoring.score import (
    REPORTED_OUTCOMES,
    Scores,
    advice_for,
    column_units,
    describe_drivers,
    output_columns,
)


def lead_row(scores: Scores, metadata: dict, lang: str, unknown_fields: list[str]) -> dict:
    """The output columns of the first (only) lead of ``scores``, as Python values (NaN
    where :func:`score.to_frame` has NaN)."""
    classes = scores.classes

    def number(array, outcome) -> float:
        return float(array[0, classes.index(outcome)]) if outcome in classes else math.nan

    values = {name: column[0] for name, column in scores.feature_values.items()}
    row = {"prospect_id": str(scores.ids[0])}
    row.update({f"p_{o}": number(scores.proba, o) for o in OUTCOMES})
    row["recommendation"] = str(scores.recommendation[0])
    row["top_reason"] = str(scores.top_reason[0])
    row["top_reason_outcome"] = str(scores.top_reason_outcome[0])
    row["top_reason_points"] = float(scores.top_reason_points[0])
    for reason in (*REASONS, CONTEXT):
        for outcome in REPORTED_OUTCOMES:
            row[f"reason_{reason}__{outcome}"] = (
                number(scores.reasons[reason], outcome) if reason in scores.reasons else math.nan
            )
    drivers = describe_drivers(
        scores, 0, metadata["feature_types"], column_units(metadata), lang, values
    )
    row["top_drivers"] = texts.listed(drivers, lang)
    row["advice"] = advice_for(scores, 0, lang)
    row["incomplete_record"] = bool(scores.incomplete[0])
    row["no_data_reasons"] = ", ".join(r for r in REASONS if r not in scores.reasons)
    row["unknown_fields"] = ", ".join(unknown_fields or [])
    return {name: row[name] for name, _ in output_columns()}


def csv_text(row: dict) -> str | None:
    """The row as ``--format csv`` writes it (header, then the row: formulas escaped,
    numbers as Python writes floats, NaN blank, flags True/False), or None when a text
    cell holds a carriage return (the frame's writer then quotes every text cell: left
    to it)."""
    cells = []
    for name, kind in output_columns():
        value = row[name]
        if kind == "number":
            cells.append("" if math.isnan(value) else repr(float(value)))
        elif kind == "flag":
            cells.append(str(bool(value)))
        elif "\r" in str(value):
            return None
        else:
            cells.append(escaped_cell(str(value)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([escaped_cell(name) for name, _ in output_columns()])
    writer.writerow(cells)
    return buffer.getvalue()
