"""The columnar CSV writer (data/csvwriter) writes exactly pandas' bytes, and the scores
writer takes columns as well as frames: same CSV bytes, same Parquet schema and rows."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prospect_predictor.cli.main import main
from prospect_predictor.data.cells import FORMULA_STARTS, PLAIN_NUMBER
from prospect_predictor.data.csvwriter import csv_lines, formula_cells
from prospect_predictor.data.tableio import csv_text, pandas_csv, to_csv, write_table
from prospect_predictor.scoring.writers import ScoresWriter, write_scores

PIECES = [",", '"', "\n", "=", "+", "-", "@", "\t", " ", "'", "%", "é", "日本", "\u00a0"]
PIECES += ["-3", "+1,5", "1e5", "-\u0663", "=1+2", "a", "0.5", ".5", "-2 237 000", ";", ""]


def pandas_text(columns, header: bool = True, **options) -> str:
    """What the product wrote before the columnar writer: pandas' to_csv."""
    buffer = io.StringIO()
    pandas_csv(pd.DataFrame(columns), buffer, header, **options)
    return buffer.getvalue()


def nasty_text(rng: np.random.Generator, rows: int, pieces=PIECES) -> np.ndarray:
    cells = ["".join(rng.choice(pieces, size=rng.integers(0, 4))) for _ in range(rows)]
    text = np.array(cells, dtype=object)
    text[rng.random(rows) < 0.1] = None
    text[rng.random(rows) < 0.05] = np.nan
    return text


def doubles(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Doubles of every magnitude, whole numbers, every bit pattern, NaN, infinities,
    zeros of both signs, and the edges of Python's and pyarrow's notations."""
    bits = rng.integers(0, 2**64, size=rows, dtype=np.uint64).view(np.float64)
    with np.errstate(over="ignore"):
        spread = rng.standard_normal(rows) * 10.0 ** rng.uniform(-330, 310, rows)
    whole = np.round(rng.standard_normal(rows) * 10.0 ** rng.integers(0, 18, rows))
    edges = np.array([1e-6, 1e-5, 1e-4, 1e10, 1e15, 1e16, 5e-324, 2.2250738585072014e-308])
    with np.errstate(over="ignore"):
        edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf)])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 0.1, 100.0, 1.5e16])
    values = np.concatenate([bits, spread, whole, edges, -edges, special])
    return rng.permutation(values)


def test_every_double_is_written_as_pandas_writes_it():
    """The proof that pyarrow's shortest digits, laid out again, are Python's repr: over a
    million random doubles (bit patterns, magnitudes from subnormal to overflow, whole
    numbers, the notations' edges)."""
    values = doubles(np.random.default_rng(16), 350_000)
    assert len(values) > 1_000_000
    columns = {"x": values, "n": np.arange(len(values))}
    assert csv_text(columns) == pandas_text(columns)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("header", [True, False])
def test_random_columns_of_every_kind_are_written_as_pandas_writes_them(seed, header):
    rng = np.random.default_rng(seed)
    rows = 3_000
    floats = doubles(rng, rows // 3)[:rows]
    columns = {
        "=name": nasty_text(rng, rows),
        "p": floats,
        "a,b": np.where(rng.random(rows) < 0.3, np.nan, rng.random(rows)),
        'say "hi"': pa.array(nasty_text(rng, rows).tolist(), pa.string(), from_pandas=True),
        "large": pa.array(nasty_text(rng, rows).tolist(), pa.large_string(), from_pandas=True),
        "unicode": np.array(["é,日本"[: i % 5] for i in range(rows)]),
        "flag": rng.random(rows) < 0.5,
        "count": rng.integers(-(2**62), 2**62, rows),
        "small": rng.integers(0, 255, rows).astype(np.uint8),
        "-3": rng.integers(-100, 100, rows).astype(np.int32),
        "blank": np.array([None] * rows, dtype=object),
        "last": nasty_text(rng, rows),
    }
    assert csv_lines(columns, header) is not None  # written by the columnar writer
    expected = pandas_text(columns, header)
    assert csv_text(columns, header) == expected
    frame = pd.DataFrame(columns)
    assert csv_text(frame, header) == expected  # a frame's own columns, as is
    assert csv_text(frame.astype({"=name": object}), header) == expected


@pytest.mark.parametrize("sep", [",", ";"])
def test_columns_of_few_distinct_texts_are_written_as_pandas_writes_them(sep):
    """A column of few distinct cells is written a distinct cell at a time and gathered:
    cells to escape, quote or leave blank, in columns long enough to be taken that way,
    and columns that only start like one."""
    rng = np.random.default_rng(9)
    rows = 1_000
    words = nasty_text(rng, 12, PIECES + [sep])  # blanks, formulas, quotes, separators
    few = words[rng.integers(0, len(words), rows)]
    many_later = few.copy()
    many_later[500:] = nasty_text(rng, 500)  # starts like a vocabulary, is not one
    columns = {
        "few": few,
        "advice": np.array(['Go for the "no", kindly', "=refer", "x;y"] * (rows // 3) + ["z"]),
        "many_later": many_later,
        "x": rng.standard_normal(rows),
    }
    lines = csv_lines(columns, True, sep)
    assert lines is not None  # the columnar writer writes it
    assert "".join(lines) == pandas_text(columns, sep=sep)
    mixed = few.copy()
    mixed[700] = 3.5  # a number among the texts: left to pandas
    returns = np.where(few == None, "a\rb", few)  # noqa: E711 (a carriage return: pandas)
    for other in (mixed, returns):
        odd = {**columns, "odd": other}
        assert csv_lines(odd, True, sep) is None
        assert csv_text(odd) == pandas_text(odd)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_other_separators_are_quoted_as_pandas_quotes_them(sep, tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"t": nasty_text(rng, 500), "x": rng.standard_normal(500)})
    write_table(frame, tmp_path / "new.csv", sep=sep)
    pandas_csv(frame, tmp_path / "old.csv", sep=sep, encoding="utf-8")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_formula_cells_are_the_rule_pandas_string_methods_apply():
    rng = np.random.default_rng(9)
    text = pd.Series(nasty_text(rng, 5_000)).astype("string")
    expected = (
        text.str.startswith(FORMULA_STARTS).fillna(False)
        & ~text.str.fullmatch(PLAIN_NUMBER).fillna(False)
    ).to_numpy(dtype=bool)
    assert expected.any() and not expected.all()
    assert (formula_cells(pa.array(text.array)) == expected).all()


def test_empty_and_header_only():
    columns = {"a": np.array([], dtype=np.float64), "=b": np.array([], dtype=object)}
    assert csv_text(columns) == pandas_text(columns) == "a,'=b\n"
    assert csv_text(columns, header=False) == pandas_text(columns, header=False) == ""


@pytest.mark.parametrize(
    "columns",
    [
        {"only": np.array(["", None, "x"], dtype=object)},  # a lone empty cell is ""
        {"t": np.array(["a\rb", "c"], dtype=object), "x": np.array([1.0, 2.0])},
        {"f": np.array([0.1, 1e-7], dtype=np.float32), "x": np.array([1.0, 2.0])},
        {"d": pd.to_datetime(["2026-01-01", None]), "x": np.array([1.0, 2.0])},
        {"i": pd.array([1, None], dtype="Int64"), "x": np.array([1.0, 2.0])},
        {"c": pd.Categorical(["a", "=b"]), "x": np.array([1.0, 2.0])},
        {"o": np.array(["a", 3], dtype=object), "x": np.array([1.0, 2.0])},
        {"b": np.array([b"a", b"b"], dtype=object), "x": np.array([1.0, 2.0])},
        {1: np.array([1.0]), "x": np.array([1.0])},
    ],
)
def test_what_it_cannot_write_exactly_is_written_by_pandas(columns):
    assert csv_lines(pd.DataFrame(columns)) is None
    assert csv_text(columns) == pandas_text(columns)


def test_options_it_does_not_handle_go_through_pandas(tmp_path):
    frame = pd.DataFrame({"x": [0.123456, 2.0], "t": ["a", "=b"]})
    write_table(frame, tmp_path / "new.csv", float_format="%.2f")
    assert (tmp_path / "new.csv").read_text() == "x,t\n0.12,a\n2.00,'=b\n"
    to_csv(frame, tmp_path / "new.csv.gz")  # compressed by pandas, as the name says
    assert pd.read_csv(tmp_path / "new.csv.gz").iloc[1, 1] == "'=b"


@pytest.fixture(scope="module")
def scored(trained_folder, tmp_path_factory):
    """Real scores: the trained test bundle's output for its 400 leads, as a frame."""
    folder, _ = trained_folder
    out = tmp_path_factory.mktemp("scored") / "scores.parquet"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(sys, "argv", ["prospect", "score", "leads.csv", "--out", str(out)])
        with pytest.raises(SystemExit) as done:
            main()
    assert not done.value.code
    return pd.read_parquet(out)


def as_columns(frame: pd.DataFrame, text=lambda s: s.to_numpy(dtype=object)) -> dict:
    """A frame's columns as the scorer hands them over: numpy arrays, text as ``text``."""
    return {
        name: text(column) if column.dtype == "str" else column.to_numpy()
        for name, column in frame.items()
    }


def batches(columns: dict, rows: int, size: int):
    return [{k: v[i : i + size] for k, v in columns.items()} for i in range(0, rows, size)]


def test_real_scores_are_written_as_pandas_writes_them(scored):
    assert len(scored) > 300 and scored.shape[1] == 29
    expected = pandas_text(scored)
    assert csv_text(scored) == expected
    assert csv_text(as_columns(scored)) == expected
    arrow = as_columns(scored, lambda s: pa.array(s.array))
    assert csv_text(arrow) == expected


@pytest.mark.parametrize("kind", ["numpy", "arrow", "frame"])
def test_scores_writer_takes_columns_with_the_same_csv_bytes(scored, tmp_path, kind):
    columns = as_columns(scored, lambda s: pa.array(s.array) if kind == "arrow" else s)
    if kind == "numpy":
        columns = as_columns(scored)
    writer = ScoresWriter(tmp_path / "scores.csv", "csv")
    for batch in batches(columns, len(scored), 37):
        writer.write(pd.DataFrame(batch) if kind == "frame" else batch)
    assert writer.rows == len(scored)
    writer.finish(overwrite=False)
    write_scores(scored, "csv", tmp_path / "all.csv", [], overwrite=False)
    assert (tmp_path / "scores.csv").read_bytes() == (tmp_path / "all.csv").read_bytes()


@pytest.mark.parametrize("kind", ["numpy", "arrow", "frame"])
def test_scores_writer_takes_columns_with_the_same_parquet(scored, tmp_path, kind):
    columns = as_columns(scored, lambda s: pa.array(s.array) if kind == "arrow" else s)
    if kind == "numpy":
        columns = as_columns(scored)
    writer = ScoresWriter(tmp_path / "scores.parquet", "parquet", row_group_rows=100)
    for batch in batches(columns, len(scored), 37):
        writer.write(pd.DataFrame(batch) if kind == "frame" else batch)
    writer.finish(overwrite=False)
    old = tmp_path / "old.parquet"
    write_scores(scored, "parquet", old, [], overwrite=False)
    new = tmp_path / "scores.parquet"
    assert pq.read_schema(new).equals(pq.read_schema(old), check_metadata=True)
    assert pq.ParquetFile(new).metadata.num_row_groups == 4  # 111 + 111 + 111 + the rest
    pd.testing.assert_frame_equal(pd.read_parquet(new), pd.read_parquet(old), check_exact=True)


def test_a_text_handle_and_a_path_get_the_same_bytes(tmp_path):
    columns = {"t": np.array(["é", "=x"], dtype=object), "x": np.array([0.5, np.nan])}
    to_csv(columns, tmp_path / "path.csv")
    with open(tmp_path / "handle.csv", "w", encoding="utf-8", newline="") as handle:
        to_csv(columns, handle)
    expected = "t,x\né,0.5\n'=x,\n".encode()
    assert (tmp_path / "path.csv").read_bytes() == expected
    assert (tmp_path / "handle.csv").read_bytes() == expected


@pytest.mark.parametrize("kernel", ["copies", "refuses", "absent", "stops"])
def test_a_spooled_piece_is_appended_whole_however_the_kernel_copies(tmp_path, monkeypatch, kernel):
    """``writers.append_file``: by ``copy_file_range`` where the kernel does it, else (not
    Linux, other file systems, a copy that stops short) read and written."""
    import os

    from prospect_predictor.scoring import writers

    real = getattr(os, "copy_file_range", None)
    calls = []

    def refuses(*args):
        raise OSError(18, "Invalid cross-device link")

    def stops(source, target, size):  # a first part, then nothing more
        calls.append(size)
        return real(source, target, 1_000) if len(calls) == 1 else 0

    if kernel == "refuses":
        monkeypatch.setattr(os, "copy_file_range", refuses, raising=False)
    elif kernel == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    elif kernel == "stops" and real is not None:
        monkeypatch.setattr(os, "copy_file_range", stops)
    piece = tmp_path / "piece.csv"
    body = bytes(range(256)) * 4_000
    piece.write_bytes(body)
    out = tmp_path / "out.csv"
    with out.open("wb") as handle:
        handle.write(b"head\n")
        handle.flush()
        writers.append_file(piece, handle.fileno())
        handle.write(b"tail\n")
    assert out.read_bytes() == b"head\n" + body + b"tail\n"
    assert piece.read_bytes() == body  # the caller deletes it


def test_the_scores_writer_moves_a_spooled_piece_in_and_deletes_it(tmp_path):
    columns = {"prospect_id": np.array(["a", "b"], dtype=object), "p": np.array([0.25, 0.5])}
    piece = tmp_path / "rows-2.csv"
    piece.write_bytes(csv_text(columns, header=False).encode())
    writer = ScoresWriter(tmp_path / "scores.csv", "csv")
    writer.append(piece, 2, csv_text({k: v[:0] for k, v in columns.items()}).encode())
    writer.write(columns)
    writer.finish(overwrite=False)
    assert not piece.exists()
    body = csv_text(columns, header=False)
    assert (tmp_path / "scores.csv").read_text() == "prospect_id,p\n" + body + body
