"""Check a table against its schema and convert it to typed columns.

Every problem is collected (not just the first), each naming the column, the first rows
where it occurs, what was expected and what was found. Row numbers count data rows from 1
(row 1 is the first row after a CSV's header). Problems tied to rows also mark those
rows as bad, so that scoring can reject them and still score the rest.

A large file can be validated one chunk at a time (``first_row`` keeps the file's row
numbers, :func:`find_duplicate_ids` finds duplicated ids across the whole file first, and
:func:`merge_problems` joins the chunks' problems into one per column and kind).

Its length (about 560 lines) is one cohesive thing: the checks of a table against its
schema, per column type, and the wording of each problem, which merging words again.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from prospect_predictor.config.schema import ColumnSpec, Schema
from prospect_predictor.data.cells import (
    FALSE_TOKENS,
    MISSING_TOKENS,
    SHOW_VALUES,
    TRUE_TOKENS,
    Problem,
    category_lookup,
    fold,
    list_rows,
    missing_tokens,
    number_text_steps,
    row_message,
    separator_hint,
)
from prospect_predictor.data.tableio import iter_table, read_table
from prospect_predictor.errors import shown

__all__ = ["FALSE_TOKENS", "MISSING_TOKENS", "TRUE_TOKENS", "Problem", "fold"]


@dataclass
class ValidationReport:
    source: str
    n_rows: int
    problems: list[Problem]
    frame: pd.DataFrame | None = None  # typed columns of the schema, in schema order
    bad_rows: np.ndarray | None = None  # True where a row has a row-level error

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """Each problem as one line that names the file."""
        return [f"{p.severity}: {self.source}: {p.message}" for p in self.problems]


def validate_file(
    path: str | Path,
    schema: Schema,
    require_outcome: bool = True,
    optional: frozenset[str] = frozenset(),
) -> ValidationReport:
    """Read ``path`` (CSV or Parquet) and validate it against ``schema`` (``optional``: as
    for :func:`validate_frame`)."""
    table = read_table(path)
    return validate_frame(table.frame, schema, str(path), require_outcome, optional)


def check_file(
    path: str | Path,
    schema: Schema,
    chunk_rows: int,
    require_outcome: bool = True,
    optional: frozenset[str] = frozenset(),
    unseen: Literal["error", "unknown"] = "error",
) -> ValidationReport:
    """:func:`validate_file`'s problems with the file read ``chunk_rows`` rows at a time,
    so that memory does not grow with the file (``prospect validate``): the whole file's
    duplicated ids first (:func:`file_duplicates`), then each chunk validated with the
    file's row numbers and the chunks' problems merged (:func:`merge_problems`; within a
    column, in the order they are first met). No typed frame; ``bad_rows`` covers the
    whole file."""
    duplicates, _ = file_duplicates(path, schema, chunk_rows)
    problems: list[Problem] = []
    bad: list[np.ndarray] = []
    first_row = 1
    for raw in iter_table(path, chunk_rows):
        report = validate_frame(
            raw, schema, str(path), require_outcome, optional, first_row, duplicates, unseen
        )
        problems += report.problems
        bad.append(report.bad_rows)
        first_row += len(raw)
    return ValidationReport(
        str(path),
        first_row - 1,
        merge_problems(problems, list(schema.columns)),
        None,
        np.concatenate(bad) if bad else np.zeros(0, dtype=bool),
    )


def file_duplicates(
    path: str | Path, schema: Schema, chunk_rows: int
) -> tuple[dict[str, Problem], int | None]:
    """A first pass over a file's id column(s) alone, whole: the ids used more than once,
    as one problem per column (:func:`find_duplicate_ids`), and the file's row count
    (None without an id column in the file: pandas does not count rows without a column)."""
    ids = [name for name, spec in schema.columns.items() if spec.role == "id"]
    if not ids:
        return {}, None
    parts: dict[str, list[pd.Series]] = {name: [] for name in ids}
    rows = 0
    for frame in iter_table(path, chunk_rows, ids.__contains__):
        rows += len(frame)
        for name in ids:
            if name in frame:
                parts[name].append(frame[name])
    found = {}
    for name, columns in parts.items():
        if columns and rows:
            column = pd.concat(columns, ignore_index=True) if len(columns) > 1 else columns[0]
            problem = find_duplicate_ids(column, name, schema.columns[name])
            if problem is not None:
                found[name] = problem
    return found, rows if any(parts.values()) else None


def validate_frame(
    raw: pd.DataFrame,
    schema: Schema,
    source: str,
    require_outcome: bool = True,
    optional: frozenset[str] = frozenset(),
    first_row: int = 1,
    duplicates: dict[str, Problem] | None = None,
    unseen: Literal["error", "unknown"] = "error",
) -> ValidationReport:
    """Validate a frame as read (CSV cells as text, or Parquet's typed columns).

    ``unseen``: a category the schema does not list is a row error (training data), or,
    for leads to score, an unknown value: the cell becomes missing and the rows are named
    in a warning of kind ``unseen_category``.

    Columns in ``optional`` may be absent (e.g. columns a model does not use, when
    scoring: :func:`optional_when_scoring`), each absent one named in a warning of kind
    ``absent_column``; when present they are checked like the others.

    To validate one chunk of a larger file: ``first_row`` is the file's row number of the
    frame's first row (problems and messages name the file's rows), and ``duplicates``
    holds the whole file's duplicated-id problems by column (:func:`find_duplicate_ids`;
    an id column absent from it has none), used instead of looking for duplicates within
    the chunk alone. ``None``: the frame is the whole file.
    """
    problems: list[Problem] = []
    n_rows = len(raw)
    if n_rows == 0:
        problems.append(
            Problem(
                "error", "no_rows", None, "has a header but no rows: expected at least one prospect"
            )
        )

    expected = _expected_columns(schema, require_outcome)
    present = [c for c in expected if c in raw.columns]
    extra = [c for c in raw.columns if c not in schema.columns]
    for name in expected:
        if name not in raw.columns:
            if name in optional:
                problems.append(_absent_column(name, schema))
            else:
                problems.append(_missing_column(name, schema, extra, require_outcome))
    for name in extra:
        problems.append(
            Problem(
                "warning",
                "unknown_column",
                name,
                f"column {shown(name)} is not in schema {schema.name!r} and is ignored",
            )
        )
    outcome = schema.outcome_column
    if not require_outcome and outcome in raw.columns:
        problems.append(
            Problem(
                "warning",
                "unknown_column",
                outcome,
                f"column {outcome!r} (the outcome) is ignored for leads to score",
            )
        )

    bad_rows = np.zeros(n_rows, dtype=bool)
    typed = {}
    for name in present:
        values, column_problems = _check_column(
            raw[name], name, schema.columns[name], first_row, duplicates, unseen
        )
        typed[name] = values
        for problem in column_problems:
            if problem.severity == "error":
                bad_rows[problem.rows - first_row] = True
        problems.extend(column_problems)
    frame = pd.DataFrame(typed, index=raw.index) if typed else None
    return ValidationReport(source, n_rows, problems, frame, bad_rows)


def _expected_columns(schema: Schema, require_outcome: bool) -> list[str]:
    return [
        name for name, spec in schema.columns.items() if require_outcome or spec.role != "outcome"
    ]


def _absent_column(name: str, schema: Schema) -> Problem:
    why = {"protected": "a protected attribute", "date": "the date"}
    return Problem(
        "warning",
        "absent_column",
        name,
        f"column {name!r} is absent: {why.get(schema.columns[name].role, 'a column')} the "
        "model does not read, not needed to score leads, which are scored without it",
    )


def _missing_column(name: str, schema: Schema, extra: list[str], require_outcome: bool) -> Problem:
    spec = schema.columns[name]
    message = f"column {name!r} is missing (expected {spec.expected()})"
    close = difflib.get_close_matches(name, extra, n=1, cutoff=0.75) or [
        c for c in extra if c.lower() == name.lower()
    ]
    if close:
        message += f"; found a column {shown(close[0])}: is it this one, misspelt?"
    if spec.role == "outcome" and require_outcome:
        message += "; if this file holds new leads to score, validate it with --leads"
    return Problem("error", "missing_column", name, message)


def _check_column(
    raw: pd.Series,
    name: str,
    spec: ColumnSpec,
    first_row: int = 1,
    duplicates: dict[str, Problem] | None = None,
    unseen: str = "error",
) -> tuple[pd.Series, list[Problem]]:
    values, missing, unparsable, text = _converted(raw, spec)
    problems = []
    if unparsable.any():
        expected = f"expected {spec.expected()}"
        if spec.type in ("int", "float") and (spec.decimal, spec.thousands) == (".", None):
            cells = pd.unique(raw[unparsable].astype("string").str.strip())
            expected += separator_hint([str(c) for c in cells], name)
        problems.append(
            _rows_problem("wrong_type", name, raw, unparsable, expected, True, first_row)
        )
    if spec.type == "int":
        numbers = values.to_numpy()
        fractional = ~missing & ~unparsable & (numbers != np.floor(numbers))
        if fractional.any():
            problems.append(
                _rows_problem(
                    "wrong_type", name, raw, fractional, "expected a whole number", True, first_row
                )
            )
    if spec.type in ("int", "float"):
        problems.extend(_range_problems(values, raw, name, spec, first_row))
    listed = _listed(values, text, spec.categories or ()) if spec.type == "category" else None
    if spec.type == "category" and unseen == "unknown":
        found = ~missing & ~listed
        if found.any():
            problems.append(
                _rows_problem(
                    "unseen_category",
                    name,
                    raw,
                    found,
                    "values never seen in training, scored as unknown",
                    True,
                    first_row,
                    severity="warning",
                )
            )
            # unknown to the model, as a blank is; the value was given, so a column that
            # requires one is satisfied
            values = values.where(~pd.Series(found, index=values.index), None)
    elif spec.type == "category":
        problems.extend(_category_problems(values, missing, listed, raw, name, spec, first_row))
    if not spec.nullable and missing.any():
        problems.append(
            _rows_problem(
                "missing_value", name, raw, missing, "a value is required", False, first_row
            )
        )
    if spec.role == "id":
        if duplicates is None:
            problems.extend(_duplicate_problems(values, missing, name))
        elif name in duplicates:  # the whole file's duplicates, restricted to this chunk
            known = duplicates[name]
            here = known.rows[(known.rows >= first_row) & (known.rows < first_row + len(raw))]
            if here.size:
                problems.append(Problem("error", "duplicate_id", name, known.message, here))
    return values, problems


def _convert(raw: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Typed values, the missing mask and the cells that could not be converted."""
    values, missing, unparsable, _ = _converted(raw, spec)
    return values, missing, unparsable


def _converted(raw: pd.Series, spec: ColumnSpec):
    """:func:`_convert`, and the cells as the text the values were read from (stripped,
    categories as spelt in the schema), or None for a column read typed."""
    as_text = raw.dtype == object or pd.api.types.is_string_dtype(raw)
    typed = _is_typed(raw, spec)
    # the cells as stripped text, converted once for both the missing check and parsing
    text = _stripped(raw) if as_text or not typed else None
    missing = _missing_mask(raw, text if as_text else None, spec.missing_values)
    text = None if typed else text
    if text is not None and spec.type == "category" and (spec.normalise or spec.aliases):
        text = _canonical_categories(text, spec)
    if text is not None and spec.type == "date" and spec.date_format:
        values = pd.to_datetime(
            text.where(~missing, None), errors="coerce", format=spec.date_format
        )
        return values, missing, ~missing & values.isna().to_numpy(), text
    converter = {
        "string": _as_string,
        "category": _as_string,
        "int": _as_number,
        "float": _as_number,
        "bool": _as_bool,
        "date": _as_date,
    }[spec.type]
    if text is not None and spec.type in ("int", "float"):
        text = _plain_number_text(text, spec)
    values, unparsable = converter(raw, text, missing)
    return values, missing, unparsable, text


def _stripped(raw: pd.Series) -> pd.Series:
    """The cells as text, stripped (``raw.astype("string").str.strip()``); Arrow text by
    Arrow's kernel without pandas' conversions around it (0.14 -> 0.08 ms a column)."""
    if not _is_arrow_text(raw):
        return raw.astype("string").str.strip()
    import pyarrow.compute as pc

    cells = pc.utf8_trim_whitespace(raw.array.__arrow_array__())
    return pd.Series(pd.arrays.ArrowStringArray(cells), index=raw.index, name=raw.name)


def _plain_number_text(text: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Number cells as Python writes them, from the column's declared separators and
    symbols (:func:`cells.number_text_steps`, one cell's rule)."""
    for how, pattern, replacement in number_text_steps(spec):
        if how == "strip":
            text = text.str.strip()
        else:
            text = text.str.replace(pattern, replacement, regex=how == "regex")
    return text


def find_duplicate_ids(raw: pd.Series, name: str, spec: ColumnSpec) -> Problem | None:
    """The duplicated-id problem of a whole id column as read (None when every id is
    unique), worded and numbered as :func:`validate_frame` words it for a whole file."""
    values, missing, _ = _convert(raw.reset_index(drop=True), spec)
    problems = _duplicate_problems(values, missing, name)
    return problems[0] if problems else None


ROW_WORDS = {
    "wrong_type": "wrong type",
    "out_of_range": "out of range",
    "unknown_category": "unknown category",
    "missing_value": "value required",
    "duplicate_id": "duplicated id",
}


def rejects_frame(raw: pd.DataFrame, report: ValidationReport, first_row: int = 1) -> pd.DataFrame:
    """The rows of ``raw`` with a row-level error, as read, with their file row number and
    what is wrong with them first (``row``, ``problems``)."""
    bad = report.bad_rows if report.bad_rows is not None else np.zeros(len(raw), dtype=bool)
    problems: dict[int, list[str]] = {}
    for problem in report.errors:
        for row in problem.rows:
            value = raw.iloc[row - first_row][problem.column]
            problems.setdefault(int(row), []).append(
                f"{problem.column}: {ROW_WORDS.get(problem.kind, problem.kind)} "
                f"(found {shown(value)})"
            )
    numbers = np.flatnonzero(bad) + first_row
    rejects = raw[bad].copy()
    rejects.insert(0, "problems", ["; ".join(problems.get(int(r), [])) for r in numbers])
    rejects.insert(0, "row", numbers)
    return rejects


def merge_problems(problems: list[Problem], column_order: list[str]) -> list[Problem]:
    """The problems of a file validated chunk by chunk, as one list: the same problem
    (severity, kind, column, what was expected) in several chunks becomes one, with all its
    rows and the distinct values found, worded again. Problems without rows (a missing
    column, an ignored one) come first, then by column in ``column_order``."""
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        key = (problem.severity, problem.kind, problem.column)
        key += (problem.expected,) if problem.rows.size else (problem.message,)
        groups.setdefault(key, []).append(problem)
    merged = []
    for parts in groups.values():
        first = parts[0]
        if len(parts) == 1 or not first.rows.size:
            merged.append(first)
            continue
        rows = np.concatenate([p.rows for p in parts])
        if first.kind == "duplicate_id":  # already worded for the whole file
            merged.append(Problem(first.severity, first.kind, first.column, first.message, rows))
            continue
        found = None
        if first.found is not None:
            found = pd.unique(
                pd.array(np.concatenate([np.asarray(p.found, dtype=object) for p in parts]))
            )
        message = row_message(first.column, first.expected, found, rows)
        merged.append(
            Problem(first.severity, first.kind, first.column, message, rows, first.expected, found)
        )
    rank = {name: i for i, name in enumerate(column_order)}
    return sorted(
        merged,
        key=lambda p: (bool(p.rows.size), rank.get(p.column, len(rank)) if p.rows.size else 0),
    )


def _is_typed(raw: pd.Series, spec: ColumnSpec) -> bool:
    """True for Parquet columns that already hold the schema's kind of value."""
    if spec.type in ("int", "float"):
        return pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    if spec.type == "bool":
        return pd.api.types.is_bool_dtype(raw)
    if spec.type == "date":
        return pd.api.types.is_datetime64_any_dtype(raw)
    return False


def _missing_mask(
    raw: pd.Series, text: pd.Series | None, placeholders: tuple[str, ...] = ()
) -> np.ndarray:
    """Missing cells: NA, or (``text``: the cells of a text column, stripped) a missing
    token such as "" or "n/a", or one of the column's declared ``placeholders``."""
    missing = raw.isna().to_numpy().copy()
    if text is None:
        return missing
    tokens = missing_tokens(placeholders)
    if _is_arrow_text(text):
        # pandas' own str.lower().isin() for Arrow text, without its wrapping: twice faster
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = text.array.__arrow_array__()
        found = pc.is_in(pc.utf8_lower(cells), value_set=pa.array(sorted(tokens), cells.type))
        missing |= pc.fill_null(found, True).to_numpy(zero_copy_only=False)
    else:
        missing |= text.str.lower().isin(tokens).fillna(True).to_numpy(dtype=bool)
    return missing


def _is_arrow_text(text: pd.Series) -> bool:
    """Whether a text column is held by Arrow (its cells can go to Arrow's kernels)."""
    return isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"


def _canonical_categories(text: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Each cell as the category it means: by ``aliases`` (matched loosely), and with
    ``normalise`` by the category it equals ignoring case, spaces and accents."""
    lookup = category_lookup(spec)
    distinct = pd.unique(text.dropna())
    mapping = {v: lookup.get(fold(v), v) for v in distinct}
    return text.map(mapping).astype("string")


def _as_string(raw, text, missing):
    source = text if text is not None else raw.astype("string")
    if _is_arrow_text(source):  # Arrow makes the Python strings (twice faster)
        values = source.array.to_numpy(dtype=object, na_value=None)
        values[missing] = None
    else:
        values = source.astype(object).where(~missing, None)
    return pd.Series(values, index=raw.index, dtype=object), np.zeros(len(raw), dtype=bool)


def _listed(values: pd.Series, text: pd.Series | None, categories) -> np.ndarray:
    """Whether each value is one of ``categories`` (a blank is not): Arrow compares the
    text the values were read from when it holds it (the same strings, without hashing a
    Python object per cell)."""
    if text is not None and _is_arrow_text(text):
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = text.array.__arrow_array__()
        found = pc.is_in(cells, value_set=pa.array(list(categories), cells.type))
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return values.isin(set(categories)).to_numpy()


def _as_number(raw, text, missing):
    if text is None:
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        return values, np.zeros(len(raw), dtype=bool)
    values = _plain_decimals(text, missing)
    if values is None:
        values = pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64")
    unparsable = ~missing & values.isna().to_numpy()
    return values, unparsable


# Decimals of at most 15 digits, no exponent: pandas and Arrow both read them correctly
# rounded (an integer below 2**53 and one division by a power of ten), so to the same bits.
PLAIN_DECIMAL = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"  # the rule, checked byte by byte below
PLAIN_DECIMAL_DIGITS = 15
# A cell's bytes by kind, for PLAIN_DECIMAL without a regular expression: 0 a zero, 1 another
# digit, 2 a point, 3 a minus, 4 a plus, 5 anything else (non-ASCII bytes included).
_BYTE_KINDS_ORDER = _ZERO, _DIGIT, _POINT, _MINUS, _PLUS, _OTHER = range(6)
_BYTE_KINDS = np.full(256, _OTHER, dtype=np.uint8)
_BYTE_KINDS[ord("0")] = _ZERO
_BYTE_KINDS[ord("1") : ord("9") + 1] = _DIGIT
_BYTE_KINDS[ord(".")] = _POINT
_BYTE_KINDS[ord("-")] = _MINUS
_BYTE_KINDS[ord("+")] = _PLUS


def _plain_decimals(text: pd.Series, missing: np.ndarray) -> pd.Series | None:
    """The column's numbers read by Arrow when every cell that is not missing is a plain
    decimal (:data:`PLAIN_DECIMAL`, at most :data:`PLAIN_DECIMAL_DIGITS` digits): the
    numbers ``pd.to_numeric`` gives (``tests/data/test_plain_decimals.py``), several times
    faster (it parses Python objects one by one); None otherwise (``to_numeric`` then
    reads them, and names the cells that are not numbers).

    A negative zero is read as pandas reads it: 0.0 in a column of whole numbers (blanks
    aside: pandas reads those as integers), else -0.0."""
    if not _is_arrow_text(text):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = text.array.__arrow_array__()
    cells = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
    blank = missing | cells.is_null().to_numpy(zero_copy_only=False)
    counts, first = _byte_kind_counts(cells)
    digits = counts[:, _ZERO] + counts[:, _DIGIT]
    signs = counts[:, _MINUS] + counts[:, _PLUS]
    signed_first = (first == _MINUS) | (first == _PLUS)
    plain = (
        (counts[:, _OTHER] == 0)
        & (counts[:, _POINT] <= 1)
        & (signs == signed_first)  # at most one sign, and first
        & (digits >= 1)
        & (digits <= PLAIN_DECIMAL_DIGITS)
    )
    if not (plain | blank).all():
        return None
    if blank.any():
        cells = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), cells)
    try:
        numbers = pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    negative_zero = ~blank & (first == _MINUS) & (counts[:, _DIGIT] == 0)
    if negative_zero.any() and not counts[:, _POINT][~blank].any():
        numbers = numbers + 0.0  # whole numbers: pandas' integer -0 is 0.0 (the rest as is)
    return pd.Series(numbers, index=text.index, dtype="float64")


def _byte_kind_counts(cells) -> tuple[np.ndarray, np.ndarray]:
    """Per cell of a pyarrow text array: how many of its bytes are of each kind
    (``_BYTE_KINDS``; ``counts[:, kind]``), and the kind of its first byte (``_OTHER`` for
    an empty cell). Digits 1-9 are counted as what is left: only the other bytes, a few
    per number, are located."""
    import pyarrow as pa

    n = len(cells)
    if not n:  # an empty array may have no offsets at all
        return np.zeros((0, len(_BYTE_KINDS_ORDER)), dtype=np.int64), np.zeros(0, np.uint8)
    wide = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    offsets = np.frombuffer(cells.buffers()[1], dtype=wide)[cells.offset : cells.offset + n + 1]
    data = cells.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    kinds = _BYTE_KINDS[raw[offsets[0] : offsets[-1]]]
    starts = (offsets - offsets[0]).astype(np.int64)
    lengths = np.diff(starts)
    first = np.full(n, _OTHER, dtype=np.uint8)
    filled = lengths > 0
    first[filled] = kinds[starts[:-1][filled]]
    marks = np.flatnonzero(kinds != _DIGIT)
    cell = np.searchsorted(starts, marks, side="right") - 1  # an empty cell holds no byte
    kinds_count = len(_BYTE_KINDS_ORDER)
    counts = np.bincount(cell * kinds_count + kinds[marks], minlength=n * kinds_count)
    counts = counts.reshape(n, kinds_count)
    counts[:, _DIGIT] = lengths - np.bincount(cell, minlength=n)
    return counts, first


def _as_bool(raw, text, missing):
    if text is None:
        return raw.astype("boolean"), np.zeros(len(raw), dtype=bool)
    if _is_arrow_text(text):  # as below, by Arrow's kernels: twice faster
        import pyarrow as pa
        import pyarrow.compute as pc

        cells = text.array.__arrow_array__()
        lowered = pc.utf8_lower(cells)

        def among(tokens):
            found = pc.is_in(lowered, value_set=pa.array(sorted(tokens), cells.type))
            return pc.fill_null(found, False).to_numpy(zero_copy_only=False)

        is_true, is_false = among(TRUE_TOKENS), among(FALSE_TOKENS)
    else:
        lowered = text.str.lower()
        is_true = lowered.isin(TRUE_TOKENS).fillna(False).to_numpy(dtype=bool)
        is_false = lowered.isin(FALSE_TOKENS).fillna(False).to_numpy(dtype=bool)
    values = pd.array(np.where(is_true, True, False), dtype="boolean")
    values[missing | ~(is_true | is_false)] = pd.NA
    unparsable = ~missing & ~is_true & ~is_false
    return pd.Series(values, index=raw.index), unparsable


def _as_date(raw, text, missing):
    if text is None:
        return pd.to_datetime(raw, errors="coerce"), np.zeros(len(raw), dtype=bool)
    values = pd.to_datetime(text.where(~missing, None), errors="coerce", format="ISO8601")
    unparsable = ~missing & values.isna().to_numpy()
    return values, unparsable


def _range_problems(
    values: pd.Series, raw: pd.Series, name: str, spec: ColumnSpec, first_row: int = 1
) -> list[Problem]:
    array = values.to_numpy(dtype=float, na_value=np.nan)
    outside = np.zeros(len(array), dtype=bool)
    with np.errstate(invalid="ignore"):
        if spec.min is not None:
            outside |= array < spec.min
        if spec.max is not None:
            outside |= array > spec.max
    if not outside.any():
        return []
    return [
        _rows_problem(
            "out_of_range", name, raw, outside, f"expected {spec.expected()}", True, first_row
        )
    ]


def _category_problems(
    values, missing, listed, raw, name, spec: ColumnSpec, first_row: int = 1
) -> list[Problem]:
    allowed = set(spec.categories or ())
    unknown = ~missing & ~listed
    if not unknown.any():
        return []
    hints = []
    by_lower = {c.lower(): c for c in allowed}
    for found in pd.unique(values[unknown])[:SHOW_VALUES]:
        if str(found).lower() in by_lower:
            hints.append(f"{shown(found)} should be written {by_lower[str(found).lower()]!r}")
    expected = "one of " + ", ".join(spec.categories or ())
    folded = {fold(c) for c in allowed}
    if any(fold(v) in folded for v in pd.unique(values[unknown])):
        hints.append(f"or declare normalise = true for column {name!r} in the schema")
    if hints:
        expected += " (" + "; ".join(hints) + ")"
    return [
        _rows_problem(
            "unknown_category", name, raw, unknown, f"expected {expected}", True, first_row
        )
    ]


def _duplicate_problems(values: pd.Series, missing: np.ndarray, name: str) -> list[Problem]:
    duplicated = values.duplicated(keep=False).to_numpy() & ~missing
    if not duplicated.any():
        return []
    return [duplicate_problem(name, np.flatnonzero(duplicated) + 1, values[duplicated])]


def duplicate_problem(name: str, rows: np.ndarray, values) -> Problem:
    """The duplicated-id problem of column ``name``: ``rows`` (ascending) are every row
    whose id is used more than once, ``values`` their ids (converted, :func:`id_keys`)."""
    values = pd.Series(np.asarray(values, dtype=object))
    rows = np.asarray(rows)
    examples = []
    distinct = pd.unique(values)
    for value in distinct[:SHOW_VALUES]:
        examples.append(f"{shown(value)} in rows {list_rows(rows[(values == value).to_numpy()])}")
    message = (
        f"column {name!r}: ids must be unique, found {distinct.size} id(s) used more than "
        "once: " + "; ".join(examples)
    )
    return Problem("error", "duplicate_id", name, message, rows)


def id_keys(raw: pd.Series, spec: ColumnSpec) -> pd.Series:
    """An id column as read, converted as validation compares ids (None where missing):
    what tells two ids apart when duplicates are looked for over a whole file in parts."""
    values, missing, _ = _convert(raw, spec)
    return values.astype(object).where(~missing, None)


def _rows_problem(
    kind: str,
    name: str,
    raw: pd.Series,
    mask: np.ndarray,
    expected: str,
    show_found: bool = True,
    first_row: int = 1,
    severity: Literal["error", "warning"] = "error",
) -> Problem:
    rows = np.flatnonzero(mask) + first_row
    found = pd.unique(raw[mask].astype("string")) if show_found else None
    message = row_message(name, expected, found, rows)
    return Problem(severity, kind, name, message, rows, expected, found)
