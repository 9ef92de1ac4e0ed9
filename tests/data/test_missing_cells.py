"""Which cells are blanks (data/validate.py ``_missing_mask``): Arrow text is checked with
Arrow's kernels, other text with pandas', and both must name the same cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.data.validate import _missing_mask

CELLS = [
    "", " ", "n/a", "N/A", "NA", "na", "Nan", "NULL", "None", "#N/A", "#n/a", "nil", "0",
    "-", "İ", "ǅ", "Ⅻ", "ＮＡ", "n/a ", "null\u00a0", "ß", "Σ", "é", "x" * 40, None, np.nan,
]  # fmt: skip


def _by_pandas(raw: pd.Series, text: pd.Series, placeholders: tuple[str, ...]) -> np.ndarray:
    from prospect_predictor.data.cells import missing_tokens

    found = text.str.lower().isin(missing_tokens(placeholders)).fillna(True)
    return raw.isna().to_numpy() | found.to_numpy(dtype=bool)


# A placeholder "İ" would differ: Python lowers it to "i" + a combining dot, Arrow (and
# so pandas' Arrow text) to "i"; that is pandas' own difference between its two kinds of
# text, not the fast path's (a cell "İ" is tested: it is no blank either way).
@pytest.mark.parametrize("placeholders", [(), ("nil", "-", "Nil"), ("ǅ", "ＮＡ", "SS")])
@pytest.mark.parametrize("chunked", [False, True])
def test_arrow_and_pandas_name_the_same_blanks(placeholders, chunked):
    rng = np.random.default_rng(7)
    cells = [CELLS[i] for i in rng.integers(0, len(CELLS), 3_000)]
    raw = pd.Series(cells, dtype=object)
    if chunked:  # a column of several Arrow chunks, as a concatenation gives
        raw = pd.concat([raw.iloc[:1_000], raw.iloc[1_000:]])
    text = raw.astype("string").str.strip()
    assert text.dtype.storage == "pyarrow"  # the fast path is the one tested
    got = _missing_mask(raw, text, placeholders)
    assert np.array_equal(got, _by_pandas(raw, text, placeholders))
    python = text.astype(pd.StringDtype("python"))  # the other path, the same cells
    assert np.array_equal(_missing_mask(raw, python, placeholders), got)
    assert got.sum() > 0 and not got.all()
