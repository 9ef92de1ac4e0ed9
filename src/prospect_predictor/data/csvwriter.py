"""CSV text built a column at a time with pyarrow's compute kernels: the bytes pandas'
``to_csv`` writes (through :func:`prospect_predictor.data.tableio.to_csv`), about four times
faster, most of pandas' time being the formatting of floats through numpy.

The formula-escaping rule is ``cells.is_formula`` (:func:`risky` here), applied to a column
by :func:`formula_cells` for this writer and ``tableio.escape_formulas``. A module of its
own because ``tableio``
(reading, atomic writes, the output guard) would grow to about 750 lines with it.

Exactness, not approximation: :func:`csv_lines` returns None for anything it does not
write exactly as pandas does (a dtype it does not know, a text cell with a carriage return,
fewer than two columns, an option other than the separator), and the caller then writes
through pandas. ``tests/data/test_csv_writer.py`` compares the two byte for byte, floats
with a million random doubles of every magnitude and bit pattern.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping

import numpy as np

from prospect_predictor.data.cells import is_formula

_FORMULA_START = "^[=+\\-@\t\r]"  # FORMULA_STARTS for pyarrow's RE2

SEPARATORS = (",", ";", "\t")
# A text column of few distinct cells (a recommendation, a reason, its advice) is written
# a distinct cell at a time, then gathered (:func:`few_texts`): guessed from its first
# cells, confirmed when it has at most this many.
VOCABULARY_PROBE = 64
VOCABULARY_MAX = 32
BLOCK_ROWS = 65_536  # rows formatted at once at most: bounds the text held in memory
BLOCK_BYTES = 1 << 29  # and a block's text well below pyarrow's 2 GiB per string array


risky = is_formula  # the rule, defined once in data/cells.py


def formula_cells(text) -> np.ndarray:
    """:func:`risky` for each cell of a pyarrow text array (null: not risky), as a boolean
    array. Only the cells that start like a formula, usually few, are checked in Python,
    by the one rule (:func:`cells.is_formula`)."""
    import pyarrow.compute as pc

    starts = pc.fill_null(pc.match_substring_regex(text, _FORMULA_START), False)
    mask = starts.to_numpy(zero_copy_only=False)
    if mask.any():
        candidates = pc.filter(text, starts).to_pylist()
        mask[mask] = [is_formula(cell) for cell in candidates]
    return mask


def csv_lines(columns: Mapping, header: bool = True, sep: str = ",") -> Iterator[str] | None:
    """``columns`` (name -> 1-D values, or a DataFrame) as CSV text, a block of rows at a
    time, exactly as ``tableio.to_csv`` writes them through pandas; None when it cannot
    promise that. Values: numpy float64, integer or bool arrays, numpy text arrays
    (object arrays of ``str`` with None or NaN for a blank cell), pyarrow string arrays,
    and the pandas columns holding them."""
    blocks = csv_blocks(columns, header, sep)
    return None if blocks is None else (block.decode("utf-8") for block in blocks)


def csv_blocks(columns: Mapping, header: bool = True, sep: str = ",") -> Iterator[bytes] | None:
    """:func:`csv_lines` as UTF-8 bytes, as Arrow builds them (for a file opened in
    binary: no decoding and encoding again)."""
    names = list(columns.keys())
    if len(names) < 2 or sep not in SEPARATORS or not all(isinstance(n, str) for n in names):
        return None  # one column: csv writes a lone empty cell as ""
    values = [_supported(columns[name]) for name in names] if _unique(columns) else [None]
    if any(v is None for v in values):
        return None
    lengths = {len(v) for v in values}
    if len(lengths) != 1:
        return None

    texts = [_words(v) for v in values if not isinstance(v, np.ndarray)]
    if any(_has_carriage_return(t) for t in texts):
        return None  # pandas then quotes every text cell (tableio.to_csv)
    return _blocks(names, values, lengths.pop(), header, sep)


def _has_carriage_return(text) -> bool:
    """Whether a pyarrow text array holds a carriage return: a scan of its bytes."""
    import pyarrow as pa

    if not len(text):
        return False
    wide = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=wide)
    start, end = offsets[text.offset], offsets[text.offset + len(text)]
    data = text.buffers()[2]
    return data is not None and bool((np.frombuffer(data, np.uint8)[start:end] == 13).any())


def _unique(columns) -> bool:
    """A frame's columns are read by name; two of one name would be read twice."""
    return len(set(columns.keys())) == len(columns.keys())


def _supported(values):
    """``values`` as a numpy float64, integer or bool array or a pyarrow text array, or
    None when this writer does not write them exactly as pandas does."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if _is_text(values.type) else None
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype):
        if dtype == np.float64 or dtype.kind in "iub":
            return np.asarray(values)
        if dtype.kind not in "OU":
            return None  # float32 (pandas writes its own digits), dates, ...
    elif getattr(dtype, "name", None) not in ("str", "string"):  # pandas' text dtypes
        return None
    array = getattr(values, "array", values)  # a pandas Series: its array
    vocabulary = few_texts(array)
    if vocabulary is not None:
        return vocabulary
    try:
        text = pa.array(array, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None  # not all text: a number, bytes, ...
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if pa.types.is_null(text.type):
        return pa.nulls(len(text), pa.string())
    return text if _is_text(text.type) else None


def few_texts(array):
    """An object array of few distinct texts as a pyarrow dictionary array (its distinct
    texts, and each cell's index into them; a blank: null), or None for any other."""
    import pyarrow as pa

    if not isinstance(array, np.ndarray) or array.dtype != object:
        return None
    if len(array) < 2 * VOCABULARY_PROBE:
        return None
    if len(set(array[:VOCABULARY_PROBE].tolist())) > VOCABULARY_MAX // 2:
        return None  # the first cells already differ too much: no hashing of them all
    import pandas as pd

    codes, distinct = pd.factorize(array)  # a blank (None, NaN): -1
    if len(distinct) > VOCABULARY_MAX:
        return None
    try:
        words = pa.array(distinct, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if not _is_text(words.type):
        return None  # not all text: the caller decides
    indices = pa.array(codes, type=pa.int32(), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, words)


def _words(text):
    """A text array's distinct cells: its dictionary, or the array itself."""
    import pyarrow as pa

    return text.dictionary if isinstance(text, pa.DictionaryArray) else text


def _is_text(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _blocks(names, values, rows: int, header: bool, sep: str) -> Iterator[bytes]:
    if header:
        line = io.StringIO()
        csv.writer(line, delimiter=sep, lineterminator="\n").writerow(
            ["'" + n if risky(n) else n for n in names]
        )
        yield line.getvalue().encode("utf-8")
    # each cell at most twice its text (quotes doubled), a number at most 24 characters
    text_bytes = sum(v.nbytes for v in values if not isinstance(v, np.ndarray))
    row_bytes = 2 * text_bytes // max(rows, 1) + 32 * len(values)
    step = max(1, min(BLOCK_ROWS, BLOCK_BYTES // row_bytes))
    for start in range(0, rows, step):
        yield _block_bytes([v[start : start + step] for v in values], sep)


def _block_bytes(values, sep: str) -> bytes:
    import pyarrow.compute as pc

    cells = [_cell_text(v, sep) for v in values]
    cells[-1] = pc.binary_join_element_wise(cells[-1], _text(""), _text("\n"))
    return joined_bytes(pc.binary_join_element_wise(*cells, _text(sep)))


def joined_bytes(lines) -> bytes:
    """The cells of a pyarrow text array (``string``) one after another, as bytes: its
    data buffer between its first and last offsets, copied once."""
    if not len(lines):
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    if start == end:
        return b""
    return lines.buffers()[2].slice(int(start), int(end - start)).to_pybytes()


def _text(value: str):
    import pyarrow as pa

    return pa.scalar(value, pa.string())


def _cell_text(values, sep: str):
    """One column's cells as written: numbers as Python writes them, text escaped and
    quoted; blanks empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, np.ndarray):
        if values.dtype.kind == "b":
            return pc.if_else(values, _text("True"), _text("False"))
        if values.dtype.kind in "iu":
            return pc.cast(values, pa.string())
        return float_text(values)
    if isinstance(values, pa.DictionaryArray):  # each distinct cell written once, gathered
        cells = pc.take(_cell_text(values.dictionary, sep), values.indices)
        return pc.fill_null(cells, "") if cells.null_count else cells
    text = values.cast(pa.string())  # one type for the row's join; a block fits
    risky_cells = formula_cells(text)
    if risky_cells.any():
        escaped = pc.binary_join_element_wise(_text("'"), text, _text(""))
        text = pc.if_else(risky_cells, escaped, text)
    special = pc.fill_null(pc.match_substring_regex(text, f'[{sep}"\n]'), False)
    if pc.any(special).as_py():
        doubled = pc.replace_substring(text, '"', '""')
        quoted = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
        text = pc.if_else(special, quoted, text)
    return pc.fill_null(text, "") if text.null_count else text


def float_text(values: np.ndarray):
    """float64 as Python's ``repr`` (what pandas writes), NaN blank. Arrow's cast gives
    the same shortest round-trip digits but another layout: fixed notation from 1e-6 to
    1e10 (Python: 1e-4 to 1e16), no ".0" on whole numbers, one-digit exponents ("1e-7").
    Those are fixed here; the two bands where the layouts disagree are rare in scores and
    written by ``repr`` itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(values, from_pandas=True), pa.string())
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = (values == np.floor(values)) & (size < 1e10)
        short_exponent = (size < 1e-6) & (size > 0)
        python = ((size >= 1e-6) & (size < 1e-4)) | ((size >= 1e10) & (size < 1e16))
    if whole.any():
        text = pc.if_else(whole, pc.binary_join_element_wise(text, _text(".0"), _text("")), text)
    if short_exponent.any():
        text = pc.replace_substring_regex(text, r"e-(\d)$", r"e-0\1")
    if python.any():
        written = [repr(v) for v in values[python].tolist()]
        text = pc.replace_with_mask(text, python, pa.array(written, pa.string()))
    return pc.fill_null(text, "") if text.null_count else text
