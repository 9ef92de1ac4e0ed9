"""A text column is checked by Arrow's kernels when pandas holds it as Arrow text (the
CSV reader's columns) and by pandas' own methods otherwise (``mode.string_storage`` set
to "python"): both must give the same typed values, blanks and problems, cell for cell
(data/validate.py ``_check_column``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prospect_predictor.config.schema import ColumnSpec
from prospect_predictor.data.validate import _check_column

WORDS = [
    "Website", "website", " Website ", "Referral", "referral", "Bought List", "ß", "é",
    "Σ", "İ", "", " ", "n/a", "N/A", "Select", "select ", None, np.nan, "x" * 30,
    "yes", "No", "TRUE", "false", "Oui", "vrai", "0", "1", "t", "F", "maybe",
]  # fmt: skip
NUMBERS = [
    "1", "-0", "+3", "2.5", ".5", "5.", "-0.0", " 7 ", "1e3", "abc", "3,5", "", "n/a",
    None, "12345678901234.5", "1234567890123456", "٣", "-", "1.2.3", "Select",
]  # fmt: skip
SPECS = {
    "category": ColumnSpec(type="category", categories=("Website", "Referral", "ß", "é")),
    "category, placeholder": ColumnSpec(
        type="category", categories=("Website", "Referral"), missing_values=("Select",)
    ),
    "category, normalised": ColumnSpec(
        type="category", categories=("Website", "Referral", "Bought List"), normalise=True
    ),
    "category, required": ColumnSpec(type="category", categories=("Website",), nullable=False),
    "string": ColumnSpec(type="string"),
    "id": ColumnSpec(type="string", role="id", nullable=False),
    "bool": ColumnSpec(type="bool"),
    "int": ColumnSpec(type="int", min=0, max=100),
    "float": ColumnSpec(type="float", missing_values=("Select",)),
}


def _checked(cells, spec, unseen, storage):
    with pd.option_context("mode.string_storage", storage):
        raw = pd.Series(cells, dtype=object).astype(pd.StringDtype(storage))
        values, problems = _check_column(raw, "c", spec, 1, None, unseen)
    return values, [(p.severity, p.kind, p.message, p.rows.tolist()) for p in problems]


@pytest.mark.parametrize("kind", list(SPECS))
@pytest.mark.parametrize("unseen", ["error", "unknown"])
def test_arrow_text_and_python_text_are_checked_alike(kind, unseen):
    spec = SPECS[kind]
    pool = NUMBERS if spec.type in ("int", "float") else WORDS
    rng = np.random.default_rng(len(kind))
    cells = [pool[i] for i in rng.integers(0, len(pool), 2_000)]
    if spec.role == "id":
        cells = [c if c is None or i % 7 else f"{c}-{i}" for i, c in enumerate(cells)]
    arrow, arrow_problems = _checked(cells, spec, unseen, "pyarrow")
    python, python_problems = _checked(cells, spec, unseen, "python")
    assert arrow_problems == python_problems
    if kind != "string":  # blanks and wrong values are in the cells: something is named
        assert arrow_problems
    assert arrow.dtype == python.dtype
    if spec.type in ("int", "float"):
        a, p = arrow.to_numpy(), python.to_numpy()
        assert np.array_equal(a, p, equal_nan=True)
        assert np.array_equal(np.signbit(a), np.signbit(p))
    else:
        a, p = arrow.to_numpy(dtype=object), python.to_numpy(dtype=object)
        assert [type(v) for v in a] == [type(v) for v in p]
        assert all(x is y or x == y for x, y in zip(a, p, strict=True))
