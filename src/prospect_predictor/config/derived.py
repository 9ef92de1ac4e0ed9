"""Derived features: columns the product computes from a history's own columns.

A pipeline may declare, under ``[derived.<name>]``, a feature that is not a column of the
export but is computed from columns that are. Training, scoring and evaluation compute it
the same way, after validation, so it is explained, mapped onto a reason and drift-checked
like any other feature. Three kinds, each for a shape depth-2 trees cannot express well from
the raw columns:

- ``day_of_year``: a month column and a day-of-month column as one number (1–366, a
  non-leap calendar), so a tree can split on a season or a campaign week with one split
  instead of combining a month and a day.
- ``pair_in``: true when a pair of category values is one of the listed pairs, e.g. which
  of the firm's products is meant for which need; a tree sees in one column what would
  otherwise be an interaction of two.
- ``value_in``: true when a category column holds one of the listed values, e.g. the needs
  outside the firm's specialties: a fact about the firm's business model that a column
  of the export (the need) implies, mapped to its own reason.

All are computed from the feature columns only: they add no information the columns do
not hold, they only change its shape.

This module holds the declarations and their checks against the schema; computing them on
a frame is :mod:`prospect_predictor.data.derived`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from prospect_predictor.config.schema import Schema

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DERIVED_TYPES = {"day_of_year": "int", "pair_in": "bool", "value_in": "bool"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DayOfYear(_Strict):
    kind: Literal["day_of_year"]
    month: str = Field(
        description="a category column of the 12 months in calendar order, or whole numbers 1-12"
    )
    day: str = Field(description="a whole-number column: the day of the month, 1-31")
    description: str = ""

    def inputs(self) -> list[str]:
        return [self.month, self.day]


class PairIn(_Strict):
    kind: Literal["pair_in"]
    columns: tuple[str, str] = Field(description="two category columns")
    pairs: list[tuple[str, str]] = Field(
        min_length=1, description="the value pairs for which the feature is true"
    )
    description: str = ""

    def inputs(self) -> list[str]:
        return list(self.columns)


class ValueIn(_Strict):
    kind: Literal["value_in"]
    column: str = Field(description="a category column")
    values: list[str] = Field(min_length=1, description="the values for which the feature is true")
    description: str = ""

    def inputs(self) -> list[str]:
        return [self.column]


Spec = DayOfYear | PairIn | ValueIn
DerivedSpec = Annotated[Spec, Field(discriminator="kind")]


def parse_specs(derived: Mapping[str, Any]) -> dict[str, Spec]:
    """Specs from a bundle's metadata (plain dicts) or a pipeline (models) alike."""
    adapter = _adapter()
    return {
        name: spec if isinstance(spec, Spec) else adapter.validate_python(spec)
        for name, spec in derived.items()
    }


@cache
def _adapter():
    """The validator of one spec, built once per process (0.1 ms a time, and a file's every
    chunk computes its derived features)."""
    from pydantic import TypeAdapter

    return TypeAdapter(DerivedSpec)


def input_columns(features: list[str], derived: Mapping[str, Any]) -> list[str]:
    """The export's columns a model needs: its features that are columns, then the columns
    its derived features are computed from, each once, in that order."""
    specs = parse_specs(derived)
    needed = [f for f in features if f not in specs]
    for name in features:
        if name in specs:
            needed += [c for c in specs[name].inputs() if c not in needed]
    return needed


def check_specs(derived: Mapping[str, Spec], schema: Schema) -> list[str]:
    """Every problem of the derived features against the schema, each naming its key."""
    problems: list[str] = []
    for name, spec in derived.items():
        key = f"derived.{name}"
        if name in schema.columns:
            problems.append(f"{key}: {name!r} is already a column of the schema; pick a new name")
        missing = [c for c in spec.inputs() if c not in schema.columns]
        for column in missing:
            problems.append(f"{key}: {column!r} is not a column of schema {schema.name!r}")
        if missing:
            continue
        if isinstance(spec, DayOfYear):
            problems += _check_day_of_year(key, spec, schema)
        elif isinstance(spec, PairIn):
            problems += _check_pair_in(key, spec, schema)
        else:
            problems += _check_value_in(key, spec, schema)
    return problems


def _check_day_of_year(key: str, spec: DayOfYear, schema: Schema) -> list[str]:
    problems = []
    month = schema.columns[spec.month]
    if month.type == "category":
        levels = [str(c).strip().lower()[:3] for c in month.categories or ()]
        if len(levels) != 12:
            problems.append(
                f"{key}.month: column {spec.month!r} has {len(levels)} categories; expected "
                "the 12 months in calendar order"
            )
        elif set(levels) == set(MONTHS) and tuple(levels) != MONTHS:
            problems.append(
                f"{key}.month: the categories of {spec.month!r} are not in calendar order "
                f"({', '.join(month.categories or ())}); list them jan ... dec in the schema"
            )
    elif month.type != "int":
        problems.append(
            f"{key}.month: column {spec.month!r} is {month.type}; expected a category column "
            "of the 12 months or whole numbers 1-12"
        )
    if schema.columns[spec.day].type != "int":
        problems.append(
            f"{key}.day: column {spec.day!r} is {schema.columns[spec.day].type}; expected whole "
            "numbers 1-31"
        )
    return problems


def _check_pair_in(key: str, spec: PairIn, schema: Schema) -> list[str]:
    problems = []
    first, second = (schema.columns[c] for c in spec.columns)
    for column, kind in zip(spec.columns, (first.type, second.type), strict=True):
        if kind != "category":
            problems.append(f"{key}.columns: {column!r} is {kind}; expected a category column")
    if problems:
        return problems
    for i, pair in enumerate(spec.pairs, start=1):
        for column, levels, value in zip(
            spec.columns, (first.categories, second.categories), pair, strict=True
        ):
            if value not in (levels or ()):
                problems.append(
                    f"{key}.pairs[{i}]: {value!r} is not a category of {column!r} "
                    f"({', '.join(levels or ())})"
                )
    return problems


def _check_value_in(key: str, spec: ValueIn, schema: Schema) -> list[str]:
    column = schema.columns[spec.column]
    if column.type != "category":
        return [f"{key}.column: {spec.column!r} is {column.type}; expected a category column"]
    levels = column.categories or ()
    return [
        f"{key}.values[{i}]: {value!r} is not a category of {spec.column!r} ({', '.join(levels)})"
        for i, value in enumerate(spec.values, start=1)
        if value not in levels
    ]
