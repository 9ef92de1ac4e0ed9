"""Derived features computed on a validated frame, as the pipeline declares them
(:mod:`prospect_predictor.config.derived`): after validation, in training, scoring and
evaluation alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prospect_predictor.config.derived import DayOfYear, PairIn, ValueIn, parse_specs

if TYPE_CHECKING:
    import pandas as pd

    from prospect_predictor.config.schema import Schema

DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def add_derived(frame: pd.DataFrame, derived: Mapping[str, Any], schema: Schema) -> pd.DataFrame:
    """``frame`` (validated, typed) with each derived feature added as a column; a value is
    missing where one of its inputs is missing."""
    if not derived:
        return frame
    frame = frame.copy(deep=False)  # the new columns only: the caller's frame stays as it was
    for name, spec in parse_specs(derived).items():
        if isinstance(spec, DayOfYear):
            frame[name] = _day_of_year(frame, spec, schema)
        elif isinstance(spec, PairIn):
            frame[name] = _pair_in(frame, spec)
        else:
            frame[name] = _value_in(frame, spec)
    return frame


def month_numbers(month_spec) -> dict[str, int] | None:
    """A category column of the 12 months: each level's number in the year (1-12, in the
    order the schema lists them); None for a column of whole numbers 1-12."""
    if month_spec.type != "category":
        return None
    return {level: k for k, level in enumerate(month_spec.categories or (), start=1)}


def _day_of_year(frame: pd.DataFrame, spec: DayOfYear, schema: Schema):
    import numpy as np
    import pandas as pd

    numbers = month_numbers(schema.columns[spec.month])
    number = frame[spec.month] if numbers is None else frame[spec.month].astype(object).map(numbers)
    number = pd.to_numeric(number, errors="coerce").astype("float64").to_numpy()
    day = pd.to_numeric(frame[spec.day], errors="coerce").astype("float64").to_numpy()
    valid = (number >= 1) & (number <= 12)
    before = np.asarray(DAYS_BEFORE_MONTH, dtype="float64")[
        np.where(valid, number, 1).astype(int) - 1
    ]
    # float64 with NaN for missing: how validation hands over every number column
    return pd.Series(np.where(valid, before + day, np.nan), index=frame.index, dtype="float64")


def _pair_in(frame: pd.DataFrame, spec: PairIn):
    import numpy as np
    import pandas as pd

    # each distinct pair judged once (a few dozen levels per column), then gathered:
    # measured, 10,000 leads, 3.0 -> 0.5 ms against a MultiIndex of every row's pair
    (first, first_levels), (second, second_levels) = (
        pd.factorize(frame[c].astype(object)) for c in spec.columns
    )
    listed = {tuple(pair) for pair in spec.pairs}
    # a missing value's code is -1: the table's last row and column, false
    table = np.zeros((len(first_levels) + 1, len(second_levels) + 1), dtype=bool)
    for i, a in enumerate(first_levels):
        for j, b in enumerate(second_levels):
            table[i, j] = (a, b) in listed
    blank = (first < 0) | (second < 0)
    result = pd.array(table[first, second], dtype="boolean")
    result[blank] = pd.NA
    return pd.Series(result, index=frame.index)


def _value_in(frame: pd.DataFrame, spec: ValueIn):
    import numpy as np
    import pandas as pd

    codes, levels = pd.factorize(frame[spec.column].astype(object))  # each level judged once
    listed = set(spec.values)
    hit = np.array([*(level in listed for level in levels), False])  # -1: missing, last
    blank = codes < 0
    result = pd.array(hit[codes], dtype="boolean")
    result[blank] = pd.NA
    return pd.Series(result, index=frame.index)
