"""CSV read with pyarrow (data/csvread.py) gives the frames pandas gives, chunk by chunk, or
pandas reads the file: same names, dtypes, values, index, chunk boundaries and messages.

Each test compares :func:`tableio.iter_table` (arrow when it can) with pandas' own reading
(``tableio._pandas_chunks``, what ``iter_table`` did before) on the same file."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from prospect_predictor.data import csvread, tableio
from prospect_predictor.errors import InputFileError
from prospect_predictor.synthetic.generate import write_history

ID_ONLY = ("id", "prospect_id").__contains__  # LeadStream's first pass: the id column alone


def by_pandas(path, chunk_rows, columns=None):
    """pandas' frames and its message (None when it read the whole file)."""
    frames = []
    try:
        delimiter = tableio.detect_delimiter(path)
        for frame in tableio._pandas_chunks(path, delimiter, chunk_rows, columns):
            frames.append(frame)
    except InputFileError as exc:
        return frames, str(exc)
    return frames, None


def by_iter_table(path, chunk_rows, columns=None):
    frames = []
    try:
        for frame in tableio.iter_table(path, chunk_rows, columns):
            frames.append(frame)
    except InputFileError as exc:
        return frames, str(exc)
    return frames, None


def assert_same_reading(path, chunk_rows, columns=None) -> None:
    """iter_table gives pandas' frames and message. When pandas stops with an error,
    iter_table may have given more of pandas' chunks first (pandas reads ahead of the row
    it names; arrow too, further), never a different one."""
    frames, message = by_iter_table(path, chunk_rows, columns)
    expected, expected_message = by_pandas(path, chunk_rows, columns)
    assert message == expected_message
    if expected_message is None:
        assert len(frames) == len(expected)
    else:
        assert len(frames) >= len(expected)
        expected = by_pandas_without_error(path, chunk_rows, columns, len(frames))
    for frame, wanted in zip(frames, expected, strict=True):
        pd.testing.assert_frame_equal(frame, wanted, check_index_type=True, check_exact=True)
        assert type(frame.index) is type(wanted.index)


def by_pandas_without_error(path, chunk_rows, columns, count):
    """pandas' first ``count`` chunks as it would give them if it did not read ahead of
    its error: ``nrows`` stops its parser there, and bytes that are not UTF-8 are let
    through (the rows holding them are never among arrow's chunks: arrow checks them)."""
    if not count:
        return []
    delimiter = tableio.detect_delimiter(path)
    frames = []
    reader = pd.read_csv(
        path,
        sep=delimiter,
        chunksize=chunk_rows,
        nrows=count * chunk_rows,
        usecols=(lambda name: columns(str(name).strip())) if columns else None,
        encoding_errors="surrogateescape",
        **tableio.CSV_AS_TEXT,
    )
    with reader:
        for frame in reader:
            frame.columns = [str(c).strip() for c in frame.columns]
            frames.append(frame)
    return frames[:count]


def assert_same_whole(path) -> None:
    delimiter = tableio.detect_delimiter(path)
    try:
        expected = tableio._read_csv(path, delimiter)
    except InputFileError as exc:
        with pytest.raises(InputFileError) as caught:
            tableio.read_table(path)
        assert str(caught.value) == str(exc)
        return
    frame = tableio.read_table(path).frame
    pd.testing.assert_frame_equal(frame, expected, check_index_type=True, check_exact=True)


@pytest.fixture
def arrow_only(monkeypatch):
    """Fail if pandas is asked to read: the file was read by arrow alone."""

    def refuse(*args, **kwargs):
        raise AssertionError("pandas read the file: arrow was not sure")

    monkeypatch.setattr(tableio, "_pandas_chunks", refuse)
    monkeypatch.setattr(tableio, "_read_csv", refuse)


TRICKY = {
    "plain": b"id,a,b\n1,2,3\n4,5,6\n7,8,9\n",
    "repeated names": b"id,a,a\n1,2,3\n4,5,6\n",  # pandas: a, a.1
    "repeated once stripped": b"id,a, a\n1,2,3\n",  # pandas keeps both, stripped to a and a
    "empty name": b"id,,b\n1,2,3\n",  # pandas: Unnamed: 1
    "BOM": b"\xef\xbb\xbfid,a\n1,2\n",
    "BOM and quoted header": b'\xef\xbb\xbf"id","a"\n1,2\n',
    "CRLF": b"id,a\r\n1,2\r\n3,4\r\n",
    "lone CR": b"id,a\r1,2\r3,4\r",
    "lone CR, blank line, tab": b"id\ta\tb\r1\t2\t3\r\r\tx\ty\r4\t5\t6\r",  # pandas: x, y, ''
    "CRLF, blank line, tab": b"id\ta\tb\r\n1\t2\t3\r\n\r\n\tx\ty\r\n",
    "mixed line ends": b"id,a\r\n1,2\n3,4\r5,6\r\n",
    "quoted line break": b'id,a\n1,"x\ny"\n2,z\n',
    "quoted CRLF": b'id,a\n1,"x\r\ny"\n2,z\n',
    "quoted CR": b'id,a\n1,"x\ry"\n2,z\n',
    "quote inside unquoted": b'id,a\n1,x"y\n2,"z"w\n3,"q"r"s"\n',
    "doubled quotes": b'id,a\n1,"say ""hi"""\n2,""\n',
    "quoted delimiter": b'id,a\n1,"x,y"\n',
    "blank lines": b"id,a\n\n1,2\n\n\n3,4\n\n",
    "whitespace-only line": b"id,a\n1,2\n   \n3,4\n",
    "tab-only line": b"id,a\n1,2\n\t\n3,4\n",
    "delimiters only": b"id,a\n1,2\n,\n3,4\n",
    "too few fields": b"id,a,b\n1,2\n3,4,5\n",
    "too many fields": b"id,a\n1,2\n3,4,5\n6,7\n",
    "one more field on every row": b"id,a\n1,2,3\n4,5,6\n",
    "header only": b"id,a\n",
    "header only, no line end": b"id,a",
    "header and blank lines": b"id,a\n\n\n",
    "no line end at the end": b"id,a\n1,2",
    "not UTF-8 in a cell": b"id,a\n1,2\n3,\xe9t\xe9\n",
    "not UTF-8 in another column": b"id,a\n1,2\n3,\xff\n4,5\n",
    "cut character at the end": b"id,a\n1,2\n3,\xc3",
    "encoded surrogate": b"id,a\n1,\xed\xa0\x80\n",
    "unterminated quote": b'id,a\n1,"2\n3,4\n',
    "unterminated quote at the end": b'id,a\n1,"2',
    "unterminated after a quote inside": b'id,a\nx"y,"2\n',
    "spaces kept": b" id , a \n 1 , 2 \n",
    "NUL byte": b"id,a\n1\x00x,2\n",
    "hash": b"id,a\n#1,2\n",
    "one column": b"id\n1\n\n2\n",
    "one column, line of spaces": b"id\n1\n  \n2\n",
    "semicolons": b"id;a;b\n1;2,5;x\n3;4;\n",
    "tabs": b"id\ta\tb\n1\t2\t3\n\t\t\n4\t5\t6\n",
    "tab line of spaces": b"id\ta\n1\t2\n \t \n3\t4\n",
    "long cell": b"id,a\n1," + b"x" * 300_000 + b"\n2,y\n",
    "unicode": "id,nom\n1,Élodie Ñúñez 😀\n2,北京\n".encode(),
    "no id column": b"a,b\n1,2\n",
}


@pytest.mark.parametrize("name", list(TRICKY))
@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_tricky_file_reads_as_pandas_reads_it(tmp_path, name, chunk_rows):
    path = tmp_path / "leads.csv"
    path.write_bytes(TRICKY[name])
    assert_same_reading(path, chunk_rows)
    assert_same_reading(path, chunk_rows, ID_ONLY)
    assert_same_whole(path)


@pytest.mark.parametrize("name", ["long cell", "quoted CRLF", "quote inside unquoted", "plain"])
def test_tricky_file_with_tiny_blocks(tmp_path, monkeypatch, name):
    """arrow cut into blocks of 64 bytes: rows and cells across block ends."""
    monkeypatch.setattr(csvread, "BLOCK_BYTES", 64)
    path = tmp_path / "leads.csv"
    header, rows = TRICKY[name].split(b"\n", 1)
    path.write_bytes(header + b"\n" + rows * 5)
    for chunk_rows in (1, 3, 7):
        assert_same_reading(path, chunk_rows)
        assert_same_reading(path, chunk_rows, ID_ONLY)


@pytest.mark.parametrize(
    "name",
    ["plain", "BOM", "CRLF", "quoted line break", "doubled quotes", "blank lines"]
    + ["header only", "semicolons", "unicode", "quote inside unquoted", "long cell"],
)
def test_arrow_reads_the_ordinary_files_itself(tmp_path, arrow_only, name):
    path = tmp_path / "leads.csv"
    path.write_bytes(TRICKY[name])
    assert by_iter_table(path, 2)[1] is None
    assert by_iter_table(path, 2, ID_ONLY)[1] is None
    tableio.read_table(path)


@pytest.mark.parametrize("french_crm", [False, True])
@pytest.mark.parametrize("rows, chunk_sizes", [(60, (1, 7)), (1_000, (300, 1_000, 5_000))])
def test_generated_leads_read_as_pandas_reads_them(
    tmp_path, monkeypatch, french_crm, rows, chunk_sizes
):
    path = tmp_path / "leads.csv"
    write_history(rows, seed=5, out=path, french_crm=french_crm)
    monkeypatch.setattr(csvread, "BLOCK_BYTES", 1 << 12)  # several blocks per chunk and back
    for chunk_rows in chunk_sizes:
        assert_same_reading(path, chunk_rows)
        assert_same_reading(path, chunk_rows, ID_ONLY)
    assert_same_whole(path)
    with monkeypatch.context() as patched:  # and arrow alone read them
        patched.setattr(tableio, "_pandas_chunks", None)
        patched.setattr(tableio, "_read_csv", None)
        assert sum(len(f) for f in tableio.iter_table(path, 7)) == rows
        assert sum(len(f) for f in tableio.iter_table(path, 7, ID_ONLY)) == rows
        assert len(tableio.read_table(path).frame) == rows


def test_windows_line_ends_with_quoted_cells(tmp_path, monkeypatch):
    """Leads exported with \\r\\n and a quoted cell holding a line break: arrow drops the \\n
    of a quoted \\r\\n when a block ends between the two, so such a file is read by pandas;
    one without such a cell is still read by arrow."""
    monkeypatch.setattr(csvread, "BLOCK_BYTES", 64)
    rows = [b"id,note,b"] + [b'%d,"line one\r\nline two",x' % i for i in range(40)]
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\r\n".join(rows) + b"\r\n")
    for chunk_rows in (1, 4, 100):
        assert_same_reading(path, chunk_rows)
        assert_same_reading(path, chunk_rows, ID_ONLY)
    path.write_bytes(b"\r\n".join(row.replace(b"\r\n", b" ") for row in rows) + b"\r\n")
    assert_same_reading(path, 4)


def late_problem(tmp_path, bad_row: bytes, at: int = 25_000):
    """30,000 rows, one of them bad: beyond the bytes pandas reads to find the header."""
    rows = [b"id,a,b"] + [b"%d,%d,x" % (i, i) for i in range(1, 30_001)]
    rows[at] = bad_row
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\n".join(rows) + b"\n")
    return path


@pytest.mark.parametrize(
    "bad_row, fragment",
    [
        (b"25000,25000,x,extra", "Expected 3 fields in line 25001, saw 4"),
        (b"25000,\xff,x", "byte 0xff at position"),
        (b"25000,25000,\xc3\xa9\xff", "in row 25000"),
        (b'25000,"25000,x\n', "EOF inside string"),
    ],
)
def test_a_late_problem_after_chunks_from_arrow(tmp_path, monkeypatch, bad_row, fragment):
    """arrow gives chunks, then meets a row it cannot be sure of: pandas reads the file
    again, the chunks already given are skipped, and pandas' own message ends it."""
    monkeypatch.setattr(csvread, "BLOCK_BYTES", 1 << 14)
    path = late_problem(tmp_path, bad_row)
    started = []
    pandas_chunks = tableio._pandas_chunks

    def noting(*args, **kwargs):
        started.append(len(given))
        return pandas_chunks(*args, **kwargs)

    monkeypatch.setattr(tableio, "_pandas_chunks", noting)
    given = []
    with pytest.raises(InputFileError) as caught:
        for frame in tableio.iter_table(path, 5_000):
            given.append(frame)
    assert fragment in str(caught.value)
    assert started and started[0] > 0  # arrow gave chunks before pandas took over
    monkeypatch.setattr(tableio, "_pandas_chunks", pandas_chunks)
    for chunk_rows in (5_000, 777):
        assert_same_reading(path, chunk_rows)
        assert_same_reading(path, chunk_rows, ID_ONLY)


def test_caller_stopping_early_closes_the_file(tmp_path):
    path = late_problem(tmp_path, b"25000,25000,x")
    chunks = tableio.iter_table(path, 10)
    first = next(chunks)
    chunks.close()
    assert list(first.index) == list(range(10))


FUZZ_PIECES = [b"x", b"", b'"a,b"', b'"l\nm"', b'"l\r\nm"', b'"d""q"', b"1 000", b" s "]
FUZZ_PIECES += ["été".encode(), b'x"y', b'"z"w', b"   "]
FUZZ_NOISE = [b'"', b"\n", b"\r", b"\r\n", b" ", b"\t", b",", b"\xff", b"\xc3", b"\x00"]
FUZZ_NOISE += [b"\xed\xa0\x80", b"\xef\xbb\xbf", b'""', b"\n\n", b" \n", b"\t\n"]


def fuzzed_file(rng: random.Random) -> bytes:
    """A small CSV of tricky cells (half the time without a quoted \\r\\n, which arrow leaves
    to pandas), with at most two pieces of noise inserted."""
    columns = rng.choice([2, 3, 4])
    delimiter = rng.choice([b",", b";", b"\t"])
    names = [rng.choice([b"id", b"a", b" b ", "é".encode(), b'"q,n"']) for _ in range(columns)]
    rows = [delimiter.join(n + b"%d" % k if rng.random() < 0.9 else n for k, n in enumerate(names))]
    pieces = FUZZ_PIECES if rng.random() < 0.5 else FUZZ_PIECES[:4] + FUZZ_PIECES[5:]
    for _ in range(rng.randint(0, 25)):
        rows.append(delimiter.join(rng.choice(pieces) for _ in range(columns)))
    line_end = rng.choice([b"\n", b"\n", b"\r\n", b"\r"])
    data = bytearray(line_end.join(rows) + rng.choice([b"", line_end, line_end * 2]))
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        at = rng.randint(0, len(data))
        data[at:at] = rng.choice(FUZZ_NOISE)
    return bytes(data)


def test_fuzzed_files_read_as_pandas_reads_them(tmp_path, monkeypatch):
    rng = random.Random(16)
    path = tmp_path / "leads.csv"
    by_arrow = 0
    for _ in range(150):
        path.write_bytes(fuzzed_file(rng))
        monkeypatch.setattr(csvread, "BLOCK_BYTES", rng.choice([64, 200, 1 << 20]))
        try:
            tableio.detect_delimiter(path)
        except InputFileError:
            continue
        chunk_rows = rng.choice([1, 3, 100])
        assert_same_reading(path, chunk_rows)
        assert_same_reading(path, chunk_rows, lambda name: name.startswith(("id", "a")))
        with monkeypatch.context() as patched:
            patched.setattr(tableio, "_pandas_chunks", None)  # TypeError if called
            try:
                list(tableio.iter_table(path, chunk_rows))
                by_arrow += 1
            except (TypeError, InputFileError):
                pass
    assert by_arrow >= 25  # the fuzz reaches arrow's reading, not only pandas'
