"""Writing scores: CSV, JSON or Parquet to a file or stdout, and the terminal table."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor import texts
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.tableio import write_file_atomically

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("table", "csv", "json", "parquet")


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (OWASP
    "CSV injection"): a lead's fields come from outside the firm. Numbers are left alone."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_numeric_dtype(out[name]) or pd.api.types.is_bool_dtype(out[name]):
            continue
        text = out[name].astype(object)
        risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        out[name] = text.where(~risky, "'" + text.astype(str))
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    escape_formulas(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def to_records(
    frame: pd.DataFrame, base: dict[str, float], reference: str, unit: str
) -> list[dict]:
    """JSON records: every reason x outcome contribution (null: no data / not modelled)."""
    records = []
    for row in frame.to_dict(orient="records"):
        record = {
            k: _plain(v)
            for k, v in row.items()
            if not k.startswith("reason_") and k not in ("no_data_reasons", "unknown_fields")
        }
        record["contributions"] = {
            reason: {
                o: _plain(row.get(f"reason_{reason}__{o}", 0.0 if o == reference else None))
                for o in OUTCOMES
            }
            for reason in (*REASONS, CONTEXT)
        }
        record["average_prospect"] = {o: _plain(base.get(o)) for o in OUTCOMES}
        record["contribution_unit"] = unit
        record["no_data_reasons"] = [r for r in row["no_data_reasons"].split(", ") if r]
        record["unknown_fields"] = [f for f in row["unknown_fields"].split(", ") if f]
        records.append(record)
    return records


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_scores(
    frame: pd.DataFrame, fmt: str, out: Path | None, records: list[dict], overwrite: bool
) -> str | None:
    """Write to ``out`` (atomically) or return the text for stdout."""
    if fmt == "csv":
        text = to_csv_text(frame)
    elif fmt == "json":
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    else:
        text = None
    if out is None:
        return text

    def write(target: Path) -> None:
        if fmt == "parquet":
            frame.to_parquet(target, index=False)
        else:
            target.write_text(text, encoding="utf-8")

    write_file_atomically(out, write, overwrite)
    return None


def table(frame: pd.DataFrame, lang: str, classes: list[str]):
    """The Rich table an advisor reads in a terminal."""
    from rich.table import Table

    ui = texts.ui
    grid = Table(show_lines=True)
    grid.add_column(ui("prospect", lang))
    for outcome in OUTCOMES:
        if outcome in classes:
            grid.add_column(f"P({texts.outcome_label(outcome, lang)})", justify="right")
    grid.add_column(ui("recommendation", lang))
    grid.add_column(ui("top_reason", lang))
    grid.add_column(ui("drivers", lang), max_width=40)
    grid.add_column(ui("advice", lang), max_width=60)
    for row in frame.to_dict(orient="records"):
        cells = [str(row["prospect_id"])]
        cells += [texts.format_percent(row[f"p_{o}"], lang) for o in OUTCOMES if o in classes]
        reason = row["top_reason"]
        top = (
            f"{texts.reason_label(reason, lang)}\n"
            f"({texts.outcome_label(row['top_reason_outcome'], lang)})"
            if reason
            else "—"
        )
        cells += [
            texts.recommendation_label(row["recommendation"], lang),
            top,
            row["top_drivers"] or "—",
            row["advice"],
        ]
        grid.add_row(*cells)
    return grid
