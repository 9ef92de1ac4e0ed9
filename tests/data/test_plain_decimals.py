"""Plain decimals are read by Arrow (data/validate.py ``_plain_decimals``): the numbers must
be pandas' own, to the last bit, and anything else must still go through pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.data.validate import _as_number, _plain_decimals


def _text(cells) -> pd.Series:
    return pd.Series(cells, dtype=object).astype("string").str.strip()


def _pandas(text: pd.Series, missing: np.ndarray) -> np.ndarray:
    return pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64").to_numpy()


def test_random_decimals_are_read_to_the_bits_pandas_reads():
    rng = np.random.default_rng(16)
    cells = []
    for _ in range(60_000):
        digits = "".join(map(str, rng.integers(0, 10, rng.integers(1, 16))))
        point = rng.integers(0, len(digits) + 1)
        cell = digits[:point] + "." + digits[point:] if rng.random() < 0.8 else digits
        cell = cell if cell != "." else "0"
        negative = rng.random() < 0.3 and cell.strip("0.")  # "-0" is pandas' own case
        cells.append(("-" if negative else "") + cell)
    text = _text(cells)
    missing = np.zeros(len(text), dtype=bool)
    fast = _plain_decimals(text, missing)
    assert fast is not None
    assert np.array_equal(fast.to_numpy().view(np.int64), _pandas(text, missing).view(np.int64))


@pytest.mark.parametrize(
    "cells",
    [
        ["1.", ".5", "+5", "-0", "007", "-0.0", "12345678901234.5"],
        ["-0", "1"],  # pandas: 0.0 among whole numbers
        ["-0", "1.5"],  # pandas: -0.0 among decimals
        ["-0.0", "2", "3"],
        ["1e5", "2"],  # an exponent: pandas reads it
        ["1234567890123456", "1"],  # 16 digits: pandas reads it
        ["abc", "2", "3,5"],  # not numbers: pandas names them
        ["inf", "nan", "-Infinity"],
        ["", "n/a", "4"],
        ["+.", "-", ".", "+-1", "1.2.3", "1-"],  # signs and points out of place
        ["-123456789012345.", "+.123456789012345"],  # 15 digits: Arrow reads them
        ["-1234567890123456", "1234567890.123456"],  # 16 digits: pandas reads them
    ],
)
def test_every_kind_of_cell_reads_as_pandas_reads_it(cells):
    text = _text(cells)
    missing = text.str.lower().isin({"", "n/a"}).to_numpy(dtype=bool)
    values, unparsable = _as_number(text, text, missing)
    expected = _pandas(text, missing)
    assert np.array_equal(values.to_numpy(), expected, equal_nan=True)
    assert np.array_equal(np.signbit(values.to_numpy()), np.signbit(expected))  # -0.0 stays -0.0
    assert (unparsable == (~missing & np.isnan(expected))).all()


@pytest.mark.parametrize(
    ("cells", "by_arrow"),
    [
        (["-123456789012345.", "+.123456789012345", "1"], True),  # 15 digits, sign, point
        (["-1234567890123456"], False),  # 16 digits
        ([".1234567890123456"], False),
        (["1e5"], False),
        (["+.", "1"], False),  # no digit
    ],
)
def test_arrow_reads_only_plain_decimals_of_at_most_15_digits(cells, by_arrow):
    text = _text(cells)
    fast = _plain_decimals(text, np.zeros(len(text), dtype=bool))
    assert (fast is not None) == by_arrow
    if by_arrow:
        expected = _pandas(text, np.zeros(len(text), dtype=bool))
        assert np.array_equal(fast.to_numpy().view(np.int64), expected.view(np.int64))
