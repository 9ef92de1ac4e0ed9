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
    frame = frame.copy()
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
    import pandas as pd

    first, second = (frame[c].astype(object) for c in spec.columns)
    listed = pd.MultiIndex.from_tuples([tuple(pair) for pair in spec.pairs])
    hit = pd.MultiIndex.from_arrays([first, second]).isin(listed)
    result = pd.array(hit, dtype="boolean")
    result[(first.isna() | second.isna()).to_numpy()] = pd.NA
    return pd.Series(result, index=frame.index)


def _value_in(frame: pd.DataFrame, spec: ValueIn):
    import pandas as pd

    column = frame[spec.column].astype(object)
    result = pd.array(column.isin(spec.values).to_numpy(dtype=bool), dtype="boolean")
    result[column.isna().to_numpy()] = pd.NA
    return pd.Series(result, index=frame.index)
