"""One JSON lead (``--lead``), read and checked without pandas.

:func:`read_lead` parses the JSON and refuses what no schema could take (invalid JSON, a
key given twice, a field the model does not know, an infinite number): the one reading of
``--lead`` for both paths. :func:`check_lead` then validates its fields value by value,
with the rules of :mod:`prospect_predictor.data.cells` that the vectorised checks of
:func:`prospect_predictor.data.validate.validate_frame` use too, and the same messages:
typed values (numbers as floats, NaN when unknown; booleans, categories and text, None
when unknown; dates as datetimes), the lead's errors, and the categories never seen in
training (scored as unknown). :func:`derived_values` computes the derived features of
one row as :mod:`prospect_predictor.data.derived` does for a frame.

A value whose outcome this module cannot vouch for raises :class:`NeedsFrame`, and the
caller validates the lead with pandas instead: a number cell such as "+6e 4" (pandas reads
it as 60,000, and "6e 4" as no number), a date other than YYYY-MM-DD without a declared
format (unless it has no digit: not a date), a date that does not parse with its declared
format.
Importing this module imports neither pandas nor pyarrow (NumPy and pydantic only).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from prospect_predictor.data.cells import (
    FALSE_TOKENS,
    TRUE_TOKENS,
    Problem,
    category_lookup,
    fold,
    missing_tokens,
    plain_number,
    row_message,
    separator_hint,
)
from prospect_predictor.errors import ProspectError, shown

if TYPE_CHECKING:
    from prospect_predictor.config.schema import ColumnSpec, Schema

DEFAULT_LEAD_ID = "lead"
# A number as pandas' to_numeric reads a text cell (ASCII digits only, no "_" or spaces):
# compared with it on 21,000 random cells when written; tests/data/test_one_lead.py keeps
# comparing the usual and unusual ones.
NUMBER = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?inf(?:inity)?", re.IGNORECASE
)
# pandas also reads a signed "+" number with spaces after its exponent's "e" ("+6e 4",
# "+6.5E -4"; not "6e 4" nor "-6e 4"): left to it.
PANDAS_EXPONENT = re.compile(r"\+.*[eE]\s")
WHOLE = re.compile(r"[+-]?[0-9]+")  # read as an integer: "-0" is 0, not -0.0
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ONE_ROW = np.array([1])


class NeedsFrame(Exception):
    """A value this module cannot vouch for: validate the lead with pandas instead."""


def schema_of(metadata: dict) -> Schema:
    from prospect_predictor.config.schema import Schema

    return Schema.model_validate(metadata["schema"])


def model_columns(metadata: dict) -> list[str]:
    """The columns of the export a model reads: its features, and the columns its derived
    features are computed from (bundles made before derived features have none)."""
    from prospect_predictor.config.derived import input_columns

    return input_columns(list(metadata["features"]), metadata.get("derived", {}))


@dataclass
class LeadFields:
    """One JSON lead as given, before validation."""

    row: dict[str, Any]  # given fields (blanks dropped), then every model column and the id
    unknown: list[str]  # the model's columns not given (or given blank)
    schema: Schema


def read_lead(text: str, metadata: dict, source: str = "--lead") -> LeadFields:
    """One lead given as a JSON object of column -> value; omitted features are unknown, and
    so are features given as null, NaN or a blank such as "None" (listed alike in
    ``unknown``). A key given twice is refused, naming it. ``source`` names the JSON
    in messages (``--lead``, or the file it was read from)."""
    try:
        given = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise ProspectError(
            f"{source}: not valid JSON ({exc.msg} at character {exc.pos}); "
            'expected an object like {"postponements": 3}'
        ) from None
    except ValueError as exc:  # from _unique_keys
        raise ProspectError(
            f"{source}: field {shown(str(exc))} is given more than once; give each field once"
        ) from None
    if not isinstance(given, dict):
        raise ProspectError(f'{source}: expected a JSON object like {{"postponements": 3}}')
    schema = schema_of(metadata)
    features = model_columns(metadata)
    id_column = metadata.get("id_column")
    known = {c for c, spec in schema.columns.items() if spec.role != "outcome"}
    unknown_keys = [k for k in given if k not in known]
    if unknown_keys:
        hints = []
        for key in unknown_keys:
            close = difflib.get_close_matches(key, sorted(c for c in known if c), n=1)
            hints.append(shown(key) + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ProspectError(
            f"{source}: unknown field(s) {', '.join(hints)}; the model's fields are: "
            + ", ".join(features)
        )
    infinite = [k for k, v in given.items() if isinstance(v, _Infinite)]
    if infinite:
        raise ProspectError(
            f"{source}: field {infinite[0]!r}: expected "
            f"{schema.columns[infinite[0]].expected()}, found "
            + ("-Infinity" if given[infinite[0]] < 0 else "Infinity")
        )
    given = {k: v for k, v in given.items() if not _is_blank(v, schema.columns.get(k))}
    row = {name: given[name] for name in given}
    row.update({name: given.get(name) for name in features})
    if id_column:
        row[id_column] = str(given.get(id_column, DEFAULT_LEAD_ID))
    return LeadFields(row, [name for name in features if name not in given], schema)


@dataclass
class CheckedLead:
    """One lead validated: typed values by column (schema order), and what was found."""

    values: dict[str, Any]
    errors: list[Problem] = field(default_factory=list)
    unseen: list[Problem] = field(default_factory=list)  # scored as unknown


def check_lead(fields: LeadFields, source: str = "--lead") -> CheckedLead:
    """Validate one lead as :func:`validate_frame` validates a file of leads (unseen
    categories unknown): typed values, or :class:`ProspectError` listing its errors in
    the words of :func:`prospect_predictor.data.leads.lead_from_json`."""
    checked = CheckedLead({})
    for name, spec in fields.schema.columns.items():
        if name not in fields.row:
            continue
        value, problems = check_value(fields.row[name], name, spec)
        checked.values[name] = value
        checked.errors += [p for p in problems if p.severity == "error"]
        checked.unseen += [p for p in problems if p.kind == "unseen_category"]
    if checked.errors:
        raise ProspectError(
            f"{source} is not valid:\n"
            + "\n".join(f"error: {source}: {p.message}" for p in checked.errors)
        )
    return checked


def check_value(raw: Any, name: str, spec: ColumnSpec) -> tuple[Any, list[Problem]]:
    """One cell of column ``name`` (a JSON value, None when blank): its typed value and
    its problems, as :func:`validate_frame` finds them in row 1, in the same order."""
    text = None if raw is None else str(raw).strip()
    missing = text is None or text.lower() in missing_tokens(spec.missing_values)
    found = None if raw is None else str(raw)
    problems: list[Problem] = []

    def problem(kind: str, expected: str, show: bool = True, severity="error") -> None:
        shown_found = np.array([found], dtype=object) if show else None
        message = row_message(name, expected, shown_found, ONE_ROW)
        problems.append(Problem(severity, kind, name, message, ONE_ROW, expected, shown_found))

    value = _typed(text, missing, spec)
    if value is _UNPARSABLE:
        expected = f"expected {spec.expected()}"
        if spec.type in ("int", "float") and (spec.decimal, spec.thousands) == (".", None):
            expected += separator_hint([text], name)
        problem("wrong_type", expected)
        value = math.nan if spec.type in ("int", "float") else None
    elif spec.type == "int" and not missing and not math.isinf(value) and value != int(value):
        problem("wrong_type", "expected a whole number")
    if spec.type in ("int", "float") and (
        (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max)
    ):
        problem("out_of_range", f"expected {spec.expected()}")
    if spec.type == "category" and not missing and value not in (spec.categories or ()):
        problem(
            "unseen_category", "values never seen in training, scored as unknown", True, "warning"
        )
        value = None  # unknown to the model, as a blank is; a required value was given
    if not spec.nullable and missing:
        problem("missing_value", "a value is required", show=False)
    return value, problems


_UNPARSABLE = object()


def _typed(text: str | None, missing: bool, spec: ColumnSpec) -> Any:
    """The typed value of a stripped cell, or ``_UNPARSABLE``."""
    if spec.type in ("int", "float"):
        if missing:
            return math.nan
        number = plain_number(text, spec)
        if not NUMBER.fullmatch(number):
            if PANDAS_EXPONENT.match(number):
                raise NeedsFrame(number)
            return _UNPARSABLE
        value = float(number)
        return 0.0 if value == 0 and WHOLE.fullmatch(number) else value
    if missing:
        return None
    if spec.type == "bool":
        lowered = text.lower()
        return True if lowered in TRUE_TOKENS else False if lowered in FALSE_TOKENS else _UNPARSABLE
    if spec.type == "date":
        if spec.date_format is None and not ISO_DAY.fullmatch(text):
            if not re.search("[0-9]", text):
                return _UNPARSABLE
            raise NeedsFrame(text)
        try:
            return datetime.strptime(text, spec.date_format or "%Y-%m-%d")
        except ValueError:
            if spec.date_format is not None:
                raise NeedsFrame(text) from None
            return _UNPARSABLE
    if spec.type == "category" and (spec.normalise or spec.aliases):
        return category_lookup(spec).get(fold(text), text)
    return text


def derived_values(values: dict[str, Any], derived: dict, schema: Schema) -> dict[str, Any]:
    """The derived features of one validated row (:mod:`prospect_predictor.data.derived`'s
    rules, one value each: a float, NaN when unknown; a bool, None when unknown)."""
    from prospect_predictor.config.derived import DayOfYear, PairIn, parse_specs
    from prospect_predictor.data.derived import DAYS_BEFORE_MONTH, month_numbers

    out = {}
    for name, spec in parse_specs(derived or {}).items():
        if isinstance(spec, DayOfYear):
            month, day = values.get(spec.month), values.get(spec.day)
            numbers = month_numbers(schema.columns[spec.month])
            number = numbers.get(month, math.nan) if numbers is not None else month
            number = math.nan if number is None else float(number)
            day = math.nan if day is None else float(day)
            valid = 1 <= number <= 12
            out[name] = DAYS_BEFORE_MONTH[int(number) - 1] + day if valid else math.nan
        elif isinstance(spec, PairIn):
            pair = tuple(values.get(c) for c in spec.columns)
            known = None not in pair
            out[name] = pair in {tuple(p) for p in spec.pairs} if known else None
        else:
            value = values.get(spec.column)
            out[name] = None if value is None else value in spec.values
    return out


def unseen_lines(problems: list[Problem]) -> list[str]:
    """``referral_source: 3 values never seen in training, in 41 leads, scored as unknown:
    'tv_advert', 'Webinar', 'TikTok'`` for each column with such values."""
    lines = []
    for problem in problems:
        if problem.kind != "unseen_category":
            continue
        found = [str(v) for v in (problem.found if problem.found is not None else [])]
        quoted = ", ".join(shown(v) for v in found[:3]) + (" …" if len(found) > 3 else "")
        lines.append(
            f"{problem.column}: {len(found)} value(s) never seen in training, in "
            f"{problem.rows.size:,} lead(s), scored as unknown: {quoted}"
        )
    return lines


def lead_text(argument: str, stdin=None) -> tuple[str, str]:
    """``--lead``'s JSON and the name messages give it: the argument itself (``--lead``),
    ``@FILE`` read from that file (named by its path), or ``-`` read from standard input."""
    if argument == "-":
        import sys

        return (stdin or sys.stdin).read(), "--lead - (standard input)"
    if not argument.startswith("@"):
        return argument, "--lead"
    path = Path(argument[1:])
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except FileNotFoundError:
        raise ProspectError(f"--lead {argument}: file {path} not found") from None
    except IsADirectoryError:
        raise ProspectError(f"--lead {argument}: {path} is a folder, not a JSON file") from None
    except UnicodeDecodeError:
        raise ProspectError(f"--lead {argument}: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ProspectError(f"--lead {argument}: cannot read {path} ({exc.strerror})") from None


def lead_file(argument: str | None) -> Path | None:
    """The file ``--lead @FILE`` reads (None for JSON text, ``-`` or no ``--lead``): an
    input that no output of the command may replace."""
    return Path(argument[1:]) if argument and argument.startswith("@") else None


class _Infinite(float):
    """JSON's Infinity / -Infinity, kept apart to be refused with the field's name."""


def _parse_constant(name: str) -> float:
    return math.nan if name == "NaN" else _Infinite(name.replace("Infinity", "inf"))


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are each given once (the standard library keeps the last)."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(key)
        seen[key] = value
    return seen


def _is_blank(value, spec) -> bool:
    """A value that means unknown, as a missing key does: null, NaN, or text such as "",
    "None", "n/a" or the column's own placeholders."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, str):
        placeholders = spec.missing_values if spec else ()
        return value.strip().lower() in missing_tokens(placeholders)
    return False
