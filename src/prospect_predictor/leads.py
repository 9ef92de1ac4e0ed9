"""Leads to score: from a file (bad rows set aside as rejects) or one JSON lead."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.derived import add_derived, input_columns
from prospect_predictor.errors import InputFileError, ProspectError
from prospect_predictor.schema import Schema
from prospect_predictor.tableio import read_table
from prospect_predictor.validate import ValidationReport, validate_frame

DEFAULT_LEAD_ID = "lead"


@dataclass
class Leads:
    frame: pd.DataFrame  # typed, valid rows only
    rows: np.ndarray  # their 1-based row numbers in the input
    rejects: pd.DataFrame  # invalid rows as read, with `row` and `problems` first
    report: ValidationReport | None = None
    unknown_fields: list[str] = field(default_factory=list)


def schema_of(metadata: dict) -> Schema:
    return Schema.model_validate(metadata["schema"])


def read_leads(path: str | Path, metadata: dict) -> Leads:
    """Validate a file of leads exactly like training data; keep the good rows, set the bad
    ones aside with their row number and what is wrong. File-level problems (a missing
    column, no rows) stop here with every problem listed."""
    table = read_table(path)
    schema = schema_of(metadata)
    report = validate_frame(
        table.frame,
        schema,
        str(path),
        require_outcome=False,
        optional=unused_columns(schema, metadata),
    )
    row_kinds = {"wrong_type", "out_of_range", "unknown_category", "missing_value", "duplicate_id"}
    fatal = [p for p in report.errors if p.kind not in row_kinds]
    if fatal:
        raise InputFileError(
            f"{path} cannot be scored:\n" + "\n".join(f"error: {path}: {p.message}" for p in fatal)
        )
    bad = report.bad_rows
    problems: dict[int, list[str]] = {}
    for problem in report.errors:
        for row in problem.rows:
            value = table.frame.iloc[row - 1][problem.column]
            problems.setdefault(int(row), []).append(
                f"{problem.column}: {_short(problem.kind)} (found {value!r})"
            )
    rejects = table.frame[bad].copy()
    rejects.insert(0, "problems", ["; ".join(problems[r]) for r in np.flatnonzero(bad) + 1])
    rejects.insert(0, "row", np.flatnonzero(bad) + 1)
    good = with_derived(report.frame[~bad], metadata)
    if good.empty:
        raise InputFileError(
            f"{path}: no row can be scored; every row has a problem:\n" + "\n".join(report.lines())
        )
    return Leads(good, np.flatnonzero(~bad) + 1, rejects, report)


def unused_columns(schema: Schema, metadata: dict) -> frozenset[str]:
    """Columns the model does not need to score: all but the id and the columns its
    features are, or are computed from."""
    needed = set(model_columns(metadata)) | {metadata.get("id_column")}
    return frozenset(c for c in schema.columns if c not in needed)


def model_columns(metadata: dict) -> list[str]:
    """The columns of the export a model reads: its features, and the columns its derived
    features are computed from (bundles made before derived features have none)."""
    return input_columns(list(metadata["features"]), metadata.get("derived", {}))


def with_derived(frame: pd.DataFrame, metadata: dict) -> pd.DataFrame:
    """A validated frame with the model's derived features computed (see derived.py)."""
    return add_derived(frame, metadata.get("derived", {}), schema_of(metadata))


def _short(kind: str) -> str:
    return {
        "wrong_type": "wrong type",
        "out_of_range": "out of range",
        "unknown_category": "unknown category",
        "missing_value": "value required",
        "duplicate_id": "duplicated id",
    }.get(kind, kind)


def lead_from_json(text: str, metadata: dict) -> Leads:
    """One lead given as a JSON object of column -> value; omitted features are unknown."""
    try:
        given = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProspectError(
            f"--lead: not valid JSON ({exc.msg} at character {exc.pos}); "
            'expected an object like {"postponements": 3}'
        ) from None
    if not isinstance(given, dict):
        raise ProspectError('--lead: expected a JSON object like {"postponements": 3}')
    schema = schema_of(metadata)
    features = model_columns(metadata)
    id_column = metadata.get("id_column")
    known = {c for c, spec in schema.columns.items() if spec.role != "outcome"}
    unknown_keys = [k for k in given if k not in known]
    if unknown_keys:
        hints = []
        for key in unknown_keys:
            close = difflib.get_close_matches(key, sorted(c for c in known if c), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ProspectError(
            f"--lead: unknown field(s) {', '.join(hints)}; the model's fields are: "
            + ", ".join(features)
        )
    row = {name: given[name] for name in given}
    row.update({name: given.get(name) for name in features})
    if id_column:
        row[id_column] = str(given.get(id_column, DEFAULT_LEAD_ID))
    frame = pd.DataFrame([row], dtype=object)
    report = validate_frame(
        frame, schema, "--lead", require_outcome=False, optional=unused_columns(schema, metadata)
    )
    errors = [p for p in report.errors if p.kind != "unknown_column"]
    if errors:
        raise ProspectError(
            "--lead is not valid:\n" + "\n".join(f"error: --lead: {p.message}" for p in errors)
        )
    unknown = [name for name in features if given.get(name) is None]
    return Leads(
        with_derived(report.frame, metadata), np.array([1]), pd.DataFrame(), report, unknown
    )
