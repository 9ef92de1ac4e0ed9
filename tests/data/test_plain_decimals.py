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


@pytest.mark.parametrize("seed", range(6))
def test_negative_zeros_are_read_as_pandas_reads_them(seed):
    """pandas reads a column of whole numbers (blanks aside) as integers, where -0 is 0.0,
    and any other as floats, where it is -0.0: random columns of each kind, some with a
    blank."""
    rng = np.random.default_rng(seed)
    whole = seed % 2 == 0
    cells = [str(v) for v in rng.integers(-50, 50, 400)]
    for index in rng.choice(len(cells), 20, replace=False):
        zeros = ["-0", "-00", "+0", "0"] + ([] if whole else ["-0.0", "-.0", "-0."])
        cells[index] = rng.choice(zeros)
    if seed % 3 == 1:
        cells[int(rng.integers(len(cells)))] = ""  # a blank
    text = _text(cells)
    missing = text.str.lower().isin({""}).to_numpy(dtype=bool)
    fast = _plain_decimals(text, missing)
    assert fast is not None
    expected = _pandas(text, missing)
    assert np.array_equal(fast.to_numpy().view(np.int64), expected.view(np.int64))


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
        ["-0", "-00", "+0", "7"],  # whole numbers: pandas' integers, 0.0
        ["-0", "", "7"],  # whole numbers and a blank: still integers
        ["-0", "7."],  # a point anywhere: floats, -0.0
        ["-.0", "-0.", "-000.000", "-0"],
        ["\u0663", "1"],  # an Arabic-Indic digit: not ASCII, pandas decides
        ["1 000", "2"],  # a space inside
        ["0x10", "1"],
        ["5-", "+", "-+1"],
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


def test_a_slice_or_a_column_in_pieces_reads_as_a_whole_column():
    """The bytes are read from Arrow's buffers: a column cut from another (an offset into
    them) and one held in several pieces must read its own cells, not its neighbours'."""
    whole = _text(["12.5", "-0", "x", "7", "-3.25", "8", "", "9.75"])
    tail = whole.iloc[3:]  # "7" onwards: its buffers start at "12.5"
    missing = tail.str.lower().isin({""}).to_numpy(dtype=bool)
    fast = _plain_decimals(tail, missing)
    assert fast is not None  # "x" is not in the slice
    assert np.array_equal(fast.to_numpy(), _pandas(tail, missing), equal_nan=True)
    pieces = pd.concat([tail, _text(["1.5", "-0.0"])])
    assert pieces.array.__arrow_array__().num_chunks == 2
    missing = pieces.str.lower().isin({""}).to_numpy(dtype=bool)
    fast = _plain_decimals(pieces, missing)
    expected = _pandas(pieces, missing)
    assert fast is not None
    assert np.array_equal(fast.to_numpy(), expected, equal_nan=True)
    assert np.array_equal(np.signbit(fast.to_numpy()), np.signbit(expected))
    assert _plain_decimals(whole.iloc[:3], np.zeros(3, dtype=bool)) is None  # "x"
