"""The output as rows, one dict per prospect with :func:`score.to_frame`'s columns: its
JSON record, the terminal table (or one block per lead in a narrow terminal), and CSV
text for one lead; without pandas, so that one lead is printed without importing it
(:mod:`prospect_predictor.scoring.one_lead`). :mod:`prospect_predictor.scoring.writers`
gives a frame's rows to these."""

from __future__ import annotations

import json
import math

import numpy as np

from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.language import texts

FORMATS = ("table", "csv", "json", "jsonl", "parquet")


def record(row: dict, base: dict[str, float], reference: str, unit: str) -> dict:
    """One output row as its JSON record: every reason x outcome contribution (null: no
    data / not modelled)."""
    out = {
        k: _plain(v)
        for k, v in row.items()
        if not k.startswith("reason_") and k not in ("no_data_reasons", "unknown_fields")
    }
    out["contributions"] = {
        reason: {
            o: _plain(row.get(f"reason_{reason}__{o}", 0.0 if o == reference else None))
            for o in OUTCOMES
        }
        for reason in (*REASONS, CONTEXT)
    }
    out["average_prospect"] = {o: _plain(base.get(o)) for o in OUTCOMES}
    out["contribution_unit"] = unit
    out["no_data_reasons"] = [r for r in row["no_data_reasons"].split(", ") if r]
    out["unknown_fields"] = [f for f in row["unknown_fields"].split(", ") if f]
    return out


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def json_text(records: list[dict], fmt: str) -> str:
    """``--format json`` (one array) or ``jsonl`` (one object per line) of the records."""
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    return "".join(json_line(record) for record in records)


def json_line(record: dict) -> str:
    """One prospect as one line of JSON (``--format jsonl``)."""
    return json.dumps(record, ensure_ascii=False) + "\n"


FULL_TABLE_WIDTH = 120  # below this many columns, one block per lead instead of a table


def table(rows: list[dict], lang: str, classes: list[str], width: int | None = None):
    """What an advisor reads in a terminal: a table, or in a terminal narrower than
    :data:`FULL_TABLE_WIDTH`, one block per lead; either way every id is shown whole."""
    if width is not None and width < FULL_TABLE_WIDTH:
        return compact(rows, lang, classes)
    from rich.table import Table

    ui = texts.ui
    grid = Table(show_lines=True)
    longest = max((len(str(row["prospect_id"])) for row in rows), default=0)
    grid.add_column(ui("prospect", lang), no_wrap=True, min_width=longest)
    for outcome in OUTCOMES:
        if outcome in classes:
            grid.add_column(f"P({texts.outcome_label(outcome, lang)})", justify="right")
    grid.add_column(ui("recommendation", lang))
    grid.add_column(ui("top_reason", lang))
    grid.add_column(ui("drivers", lang), max_width=40)
    grid.add_column(ui("advice", lang), max_width=60)
    for row in rows:
        cells = [str(row["prospect_id"])]
        cells += [texts.format_percent(row[f"p_{o}"], lang) for o in OUTCOMES if o in classes]
        top = reason_cell(row, lang)
        cells += [
            texts.recommendation_label(row["recommendation"], lang),
            top,
            row["top_drivers"] or "—",
            row["advice"],
        ]
        grid.add_row(*cells)
    return grid


def reason_cell(row: dict, lang: str) -> str:
    """The top reason with the points it adds, over the outcome it is about:
    "Poor fit +12 pts (Win-lose client)"; "no single reason stands out (Stalled)"."""
    outcome = row["top_reason_outcome"]
    about = f"\n({texts.outcome_label(outcome, lang)})" if outcome else ""
    if row.get("incomplete_record"):
        return texts.ui("incomplete_record", lang) + about
    if not row["top_reason"]:
        return texts.ui("no_single_reason", lang) + about if outcome else "—"
    points = texts.ui(
        "points", lang, points=f"+{texts.format_number(row['top_reason_points'], lang, decimals=0)}"
    )
    return f"{texts.reason_label(row['top_reason'], lang)} {points}{about}"


def compact(rows: list[dict], lang: str, classes: list[str]):
    """One block per lead for a narrow terminal: the id and the recommendation, the
    probabilities, the reason with its drivers, the advice; lines wrap, the id never."""
    from rich.console import Group
    from rich.text import Text

    blocks = []
    for row in rows:
        head = Text(str(row["prospect_id"]), style="bold", no_wrap=True, overflow="ignore")
        head.append(" · " + texts.recommendation_label(row["recommendation"], lang))
        chances = " · ".join(
            f"{texts.outcome_label(o, lang)} {texts.format_percent(row[f'p_{o}'], lang)}"
            for o in OUTCOMES
            if o in classes
        )
        reason = reason_cell(row, lang).replace("\n", " ")
        if row["top_drivers"]:
            reason += f": {row['top_drivers']}"
        blocks += [head, Text("  " + chances), Text("  " + reason), Text("  " + row["advice"])]
        blocks.append(Text(""))
    return Group(*blocks[:-1])
