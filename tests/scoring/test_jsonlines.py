"""JSON lines and the JSON array built a column at a time (scoring/jsonlines.py) are the
bytes the records give, one json.dumps per row (rows.record + rows.json_line) or one for
the whole array (rows.json_text), and anything it cannot promise is left to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.scoring.jsonlines import json_bytes
from prospect_predictor.scoring.rows import json_line, json_text, record

BASE = {"win_win": 0.0, "win_lose": -0.8586089113864699, "stalled": float("nan")}
WORDS = ['say "no"', "back\\slash", "a\nb", "tab\there", "é日本", "=1+2", "", "x, y"]


def by_records(
    columns: dict, reference: str = "win_win", unit: str = "log-odds", fmt: str = "jsonl"
) -> bytes:
    rows = pd.DataFrame(columns).to_dict(orient="records")
    records = [record(row, BASE, reference, unit) for row in rows]
    if fmt == "json":
        return json_text(records, "json").encode()
    return "".join(json_line(one) for one in records).encode()


def built(columns: dict, reference: str, unit: str, fmt: str) -> bytes | None:
    """json_bytes' text as the file holds it: the array opened and closed around its
    elements, as writers.ScoresWriter writes them."""
    text = json_bytes(columns, BASE, reference, unit, fmt)
    if text is None or fmt == "jsonl":
        return text
    return b"[" + text[1:] + b"\n]\n"


def output_columns(rng: np.random.Generator, rows: int) -> dict:
    """Columns shaped like score.batch_columns: numbers with blanks and every magnitude,
    few-valued and free text with blanks of both kinds, a flag, two listed fields."""

    def text(pool, blanks=True):
        cells = np.array([pool[i] for i in rng.integers(0, len(pool), rows)], dtype=object)
        if blanks:
            cells[rng.random(rows) < 0.1] = None
            cells[rng.random(rows) < 0.05] = np.nan
        return cells

    def numbers():
        values = rng.standard_normal(rows) * 10.0 ** rng.integers(-8, 18, rows)
        values[rng.random(rows) < 0.1] = np.nan
        values[rng.random(rows) < 0.02] = -0.0
        return values

    free = ["".join(rng.choice(WORDS, size=3)) + str(i) for i in range(rows)]
    columns = {"prospect_id": np.array([f"L{i:06d}" for i in range(rows)], dtype=object)}
    columns |= {f"p_{o}": numbers() for o in OUTCOMES}
    columns["recommendation"] = text(["pursue", "qualify", "walk_away"], blanks=False)
    columns["top_reason"] = text(["", "poor_fit", "strung_along"], blanks=False)
    columns["top_reason_outcome"] = text(WORDS)
    columns["top_reason_points"] = numbers()
    for reason in (*REASONS, CONTEXT):
        for outcome in OUTCOMES[1:]:
            columns[f"reason_{reason}__{outcome}"] = numbers()
    columns["top_drivers"] = text(free)
    columns["advice"] = text(WORDS)
    columns["incomplete_record"] = rng.random(rows) < 0.3
    columns["no_data_reasons"] = np.full(rows, "poor_fit, context", dtype=object)
    columns["unknown_fields"] = text(["", "assets, é", "x"], blanks=False)
    return columns


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_json_lines_and_the_array_are_the_records_bytes(seed, fmt):
    columns = output_columns(np.random.default_rng(seed), 1_500)
    got = built(columns, "win_win", "log-odds (ln)", fmt)
    assert got is not None  # built a column at a time
    assert got == by_records(columns, unit="log-odds (ln)", fmt=fmt)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_another_reference_and_missing_columns_are_written_as_records_write_them(fmt):
    columns = output_columns(np.random.default_rng(4), 300)
    del columns["reason_poor_fit__stalled"]  # record(): None, unless it is the reference
    got = built(columns, "stalled", "unité «ln»", fmt)
    assert got is not None
    assert got == by_records(columns, reference="stalled", unit="unité «ln»", fmt=fmt)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["advice"].__setitem__(7, "bell\x07"),  # a control character json escapes
        lambda c: c["p_win_win"].__setitem__(3, np.inf),  # json writes Infinity
        lambda c: c["top_drivers"].__setitem__(5, 3),  # a number among the texts
    ],
)
def test_what_it_cannot_promise_is_left_to_the_records(change):
    columns = output_columns(np.random.default_rng(5), 300)
    change(columns)
    assert json_bytes(columns, BASE, "win_win", "u", "jsonl") is None
    assert json_bytes(columns, BASE, "win_win", "u", "json") is None
