"""JSON lines, and the JSON array's elements, built a column at a time with pyarrow's
kernels: the bytes ``rows.json_line(rows.record(row, ...))`` gives for each output row,
or ``json.dumps(record, indent=2)`` inside the array, without a dict and a ``json.dumps``
per row (measured, 1,000,000 leads to a file with two workers: JSON lines 50.1 s -> 12.3 s,
2026-12-02).

Exactness, not approximation: :func:`json_bytes` returns None for anything it does not
write exactly as ``json.dumps`` does (a column it does not know, a text cell with a control
character other than a line feed, a carriage return or a tab, an infinite number), and
the caller then builds the records. ``tests/scoring/test_jsonlines.py`` compares the two
byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from prospect_predictor.data.csvwriter import few_texts, float_text, joined_bytes
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS

# json.dumps' escapes for the characters below U+0020 it is most likely to meet; a cell
# with any other such character is left to json.dumps
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_OTHER_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"
_LISTS = ("no_data_reasons", "unknown_fields")  # ", "-joined text, a JSON list each

ARRAY_INDENT = 2  # --format json: json.dumps(records, indent=2), each record one level in
ARRAY_SEPARATOR = ",\n" + " " * ARRAY_INDENT  # before each element ("[" for the first: ",")


class _Layout:
    """Where ``json.dumps`` puts its whitespace: on one line (``indent`` None, the JSON
    lines), or with ``indent`` spaces a level, the object itself ``depth`` levels in
    (``depth`` 1: an element of the array)."""

    def __init__(self, indent: int | None, depth: int = 0) -> None:
        self.indent, self.depth = indent, depth

    def _line(self, level: int) -> str:
        return "\n" + " " * (self.indent * (self.depth + level))

    def open(self, level: int) -> str:
        """An object opened at ``level``, up to its first key."""
        return "{" if self.indent is None else "{" + self._line(level + 1)

    def between(self, level: int) -> str:
        """Between two items at ``level``."""
        return ", " if self.indent is None else "," + self._line(level)

    def close(self, level: int) -> str:
        """An object at ``level`` closed."""
        return "}" if self.indent is None else self._line(level) + "}"

    def value(self, value, level: int) -> str:
        """A constant value at ``level`` as json.dumps writes it there."""
        text = json.dumps(value, ensure_ascii=False, indent=self.indent)
        return text if self.indent is None else text.replace("\n", self._line(level))


def json_bytes(
    columns: Mapping, base: dict[str, float], reference: str, unit: str, fmt: str = "jsonl"
) -> bytes | None:
    """The output columns (``score.batch_columns``: numpy arrays, text as object arrays
    of ``str`` or None) as JSON, one record per row as :func:`rows.record` makes it; None
    when that cannot be promised. ``fmt`` jsonl: JSON lines, as :func:`rows.json_line`
    writes them; json: the array's elements as ``json.dumps(records, indent=2)`` writes
    them, each preceded by :data:`ARRAY_SEPARATOR` (the file's first by "[" instead of its
    ",", and the last followed by the array's end: ``writers.ScoresWriter``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = list(columns)
    rows = len(columns[names[0]]) if names else 0
    if not rows or any(name not in columns for name in _LISTS):
        return None
    layout = _Layout(ARRAY_INDENT, 1) if fmt == "json" else _Layout(None)
    pieces: list = [ARRAY_SEPARATOR if fmt == "json" else ""]
    opening = layout.open(0)
    for name in names:
        if name.startswith("reason_") or name in _LISTS:
            continue
        cells = _value_text(columns[name])
        if cells is None:
            return None
        pieces += [f"{opening}{json.dumps(name)}: ", cells]
        opening = layout.between(1)
    reasons = []
    for reason in (*REASONS, CONTEXT):
        parts = []
        for outcome in OUTCOMES:
            name = f"reason_{reason}__{outcome}"
            if name in columns:
                cells = _value_text(columns[name])
                if cells is None:
                    return None
            else:  # as record(): the reference's own contribution is 0, another's unknown
                cells = "0.0" if outcome == reference else "null"
            parts.append((outcome, cells))
        reasons.append((reason, parts))
    pieces.append(f'{opening}"contributions": {layout.open(1)}')
    for r, (reason, parts) in enumerate(reasons):
        for o, (outcome, cells) in enumerate(parts):
            if o == 0:
                lead = (layout.between(2) if r else "") + f"{json.dumps(reason)}: {layout.open(2)}"
            else:
                lead = layout.between(3)
            pieces += [f"{lead}{json.dumps(outcome)}: ", cells]
        pieces.append(layout.close(2))
    average = {outcome: _plain_number(base.get(outcome)) for outcome in OUTCOMES}
    pieces.append(
        f"{layout.close(1)}{layout.between(1)}"
        f'"average_prospect": {layout.value(average, 1)}{layout.between(1)}'
        f'"contribution_unit": {layout.value(unit, 1)}{layout.between(1)}"no_data_reasons": '
    )
    ending = layout.close(0) + ("\n" if fmt == "jsonl" else "")
    for name, after in zip(_LISTS, (f'{layout.between(1)}"unknown_fields": ', ending), strict=True):
        cells = _list_text(columns[name], layout)
        if cells is None:
            return None
        pieces += [cells, after]
    arrays = [p if not isinstance(p, str) else pa.scalar(p, pa.string()) for p in pieces]
    return joined_bytes(pc.binary_join_element_wise(*arrays, pa.scalar("", pa.string())))


def _plain_number(value):
    """A base value as record() keeps it (NaN: None)."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value


def _value_text(values):
    """One column's cells as JSON values (pyarrow text), or None where unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = getattr(values, "array", values)
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        if np.isinf(values).any():
            return None  # json.dumps writes Infinity: rare, left to it
        text = float_text(values)  # repr's digits and layout, NaN blank
        return pc.if_else(np.isnan(values), pa.scalar("null", pa.string()), text)
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        return pc.if_else(values, pa.scalar("true"), pa.scalar("false"))
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return pc.cast(values, pa.string())
    if not (isinstance(values, np.ndarray) and values.dtype == object):
        return None
    vocabulary = few_texts(values)
    if vocabulary is not None:  # each distinct cell written once, then gathered
        words = _string_text(vocabulary.dictionary)
        if words is None:
            return None
        return pc.fill_null(pc.take(words, vocabulary.indices), "null")
    try:
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None  # not all text
    return _string_text(text)


def _string_text(text):
    """Text cells as JSON strings (``ensure_ascii=False``), null as null; None when a cell
    holds a control character this does not escape."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = text.cast(pa.string())
    if pc.any(pc.fill_null(pc.match_substring_regex(text, _OTHER_CONTROL), False)).as_py():
        return None
    for found, written in _ESCAPES:
        text = pc.replace_substring(text, found, written)
    quote = pa.scalar('"', pa.string())
    quoted = pc.binary_join_element_wise(quote, text, quote, pa.scalar("", pa.string()))
    return pc.fill_null(quoted, "null") if quoted.null_count else quoted


def _list_text(values, layout: _Layout):
    """A ", "-joined text column as record() lists it: JSON lists of its non-empty parts
    (an item of the record, laid out by ``layout``), each distinct text written once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (isinstance(values, np.ndarray) and values.dtype == object):
        return None
    vocabulary = few_texts(values)
    if vocabulary is None or vocabulary.null_count:
        return None
    written = [
        layout.value([part for part in str(text).split(", ") if part], 1)
        for text in vocabulary.dictionary.to_pylist()
    ]
    return pc.take(pa.array(written, pa.string()), vocabulary.indices)
