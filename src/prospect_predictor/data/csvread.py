"""Reading a CSV file with pyarrow's streaming reader, frame for frame as pandas reads it.

:mod:`prospect_predictor.data.tableio` reads every CSV as pandas' C parser does
(:data:`CSV_AS_TEXT`: cells as text, ``""`` kept, a BOM tolerated, blank lines
skipped). pyarrow reads the same files faster (1,000,000 generated leads, every column in
50,000-row chunks: 0.53 s against 1.62 s; the id column alone: 0.27 s against 0.47 s;
``benchmarks/results/csv_read.md``) and agrees with pandas on almost everything: quoting,
doubled quotes, quotes inside a cell, quoted line breaks, ``\\n`` and ``\\r\\n`` line ends,
a leading BOM, blank lines, NUL bytes, spaces kept. Where they differ, found by testing
(``tests/data/test_fast_csv_read.py``, a fuzz included), arrow is not used:

- the header: arrow reads it as a row, which must hold pandas' own names (read with
  ``nrows=0``): pandas renames a repeated name (``a.1``) and an empty one (``Unnamed: 2``);
- files of one column: pandas skips lines of spaces, arrow reads them as cells;
- a row with more or fewer fields than the header: pandas pads a short row and may take
  a first column as the index, arrow stops with an error;
- bytes that are not UTF-8: arrow checks the columns it converts; when it reads only some
  (``columns``), the reader checks the others' bytes as it passes them to arrow;
- an unterminated quote: arrow takes the rest of the file as the last cell, pandas stops
  with an error; the last cell of the file is checked against the file's end;
- a carriage return alone (old Mac line ends): both end a line there, but pandas then
  misreads a line starting with a tab or a space after a blank one;
- a quoted carriage return: arrow drops the ``\\n`` of a quoted ``\\r\\n`` when a block
  ends between the two (pyarrow 25); cells are checked when the file has quotes and
  ``\\r``, and such a file is left to pandas when only some columns are read;
- whatever else arrow refuses (a row longer than a block, say).

Falling back never shows a caller two readings: arrow's frames are checked as they come,
and one is given only once it cannot change (the last row waits for the end-of-file
check). When arrow stops after ``n`` chunks were given, pandas reads the file again from
the start and its first ``n`` chunks, equal to those given, are skipped; pandas then gives
the rest or raises its own error (:func:`tableio._csv_errors` words it). So a file that
pandas cannot read fails with the same message either way, possibly after more chunks
than pandas alone gives before it (pandas reads ahead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

BLOCK_BYTES = 1 << 20  # arrow's block: the bytes parsed at a time (a row must fit in one)

# Every CSV is read so: cells as text (converted against the schema later), a BOM tolerated.
CSV_AS_TEXT = {
    "dtype": str,
    "keep_default_na": False,
    "encoding": "utf-8-sig",
    "skip_blank_lines": True,
}
UTF8_CONTINUATION = 0x80  # 0b10xxxxxx: a byte inside a multi-byte character


class _NotSure(Exception):
    """The file holds something arrow may not read as pandas does: pandas reads it."""


def iter_csv(
    path: Path,
    delimiter: str,
    chunk_rows: int | None,
    columns: Callable[[str], bool] | None,
    pandas_chunks: Callable[[], Iterator[pd.DataFrame]],
) -> Iterator[pd.DataFrame]:
    """The frames ``pandas_chunks()`` gives (pandas' reading of ``path``, ``chunk_rows``
    rows at a time, None for one frame), read with arrow when it is sure to give the same
    ones, else by ``pandas_chunks`` itself (see the module's docstring). ``columns``: the
    (stripped) names to read, as pandas' ``usecols`` selects them."""
    import pyarrow as pa

    given = 0
    try:
        for frame in _arrow_chunks(path, delimiter, chunk_rows, columns):
            yield frame
            given += 1
        return
    except (_NotSure, pa.ArrowException, OSError, ValueError):  # pandas' errors too
        pass
    for index, frame in enumerate(pandas_chunks()):
        if index >= given:
            yield frame


def _arrow_chunks(
    path: Path, delimiter: str, chunk_rows: int | None, columns: Callable[[str], bool] | None
) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = list(pd.read_csv(path, sep=delimiter, nrows=0, **CSV_AS_TEXT).columns)
    if len(names) < 2:  # pandas skips a line of spaces in a file of one column
        raise _NotSure
    wanted = [i for i, name in enumerate(names) if columns is None or columns(name.strip())]
    if not wanted:  # pandas gives frames without rows; leave that to it
        raise _NotSure
    # Columns by position: arrow reads the header as a row, compared with pandas' names
    # (a repeated or empty name, renamed by pandas, differs). The last column is read too:
    # its last cell tells an unterminated quote (_check_end).
    read = wanted if wanted[-1] == len(names) - 1 else [*wanted, len(names) - 1]
    fields = [f"f{i}" for i in read]  # arrow's own names for the columns
    with path.open("rb") as handle:
        source = _Scanned(handle, check_utf8=len(read) < len(names))
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                block_size=BLOCK_BYTES, use_threads=False, autogenerate_column_names=True
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(fields, pa.large_string()),  # as pandas keeps it
                include_columns=fields,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        pending, start, last_cell = None, 0, ""
        for batch in reader:
            # arrow drops the \n of a quoted \r\n cut by the end of a block: a cell with a \r
            # (quoted: unquoted, it ends a row) is left to pandas
            if (
                source.quote
                and source.carriage_return
                and (len(read) < len(names) or any(_holds_cr(cells) for cells in batch.columns))
            ):
                raise _NotSure
            if batch.num_rows:
                last_cell = batch.column(len(read) - 1)[-1].as_py()
            table = pa.Table.from_batches([batch])
            if pending is None:  # the header
                if [table.column(k)[0].as_py() for k in range(len(read))] != [
                    names[i] for i in read
                ]:
                    raise _NotSure
                pending = table.slice(1)
                continue
            pending = pa.concat_tables([pending, table])
            # Rows are given once more follow them: the last one waits for _check_end.
            while chunk_rows is not None and pending.num_rows > chunk_rows:
                yield _frame(pending.slice(0, chunk_rows), names, wanted, start)
                pending = pending.slice(chunk_rows)
                start += chunk_rows
    if pending is None:
        raise _NotSure
    if source.quote:
        _check_end(path, last_cell)
    step = chunk_rows or max(pending.num_rows, 1)
    for offset in range(0, max(pending.num_rows, 1), step):  # a file without rows: one frame
        yield _frame(pending.slice(offset, step), names, wanted, start + offset)


def _holds_cr(cells) -> bool:
    import pyarrow.compute as pc

    return pc.any(pc.match_substring(cells, "\r")).as_py()


def _frame(table, names: list[str], wanted: list[int], start: int) -> pd.DataFrame:
    # One piece per column, not one per block: a frame sent to a worker process pickles
    # as fast as pandas' own (0.14 s for 50,000 leads, against 0.19 s in 8 pieces).
    frame = table.select(range(len(wanted))).combine_chunks().to_pandas()
    frame.columns = [names[i].strip() for i in wanted]
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _check_end(path: Path, last_cell: str) -> None:
    """Refuse a file that may end inside a quoted cell: arrow then reads the rest of the
    file, from the opening quote, as the last cell; pandas raises. The file's end is
    checked for that quote followed by the last cell as written (quotes doubled)."""
    written = b'"' + last_cell.encode("utf-8").replace(b'"', b'""')
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        if size < len(written):
            return
        handle.seek(size - len(written))
        if handle.read() == written:
            raise _NotSure


class _Scanned:
    """A binary file as arrow reads it, noting whether a quote or a carriage return has
    been read so far, raising :class:`_NotSure` on a carriage return alone (not before a
    line feed) and, with ``check_utf8``, on a byte that is not UTF-8 (arrow checks only
    the columns it converts; pandas decodes every byte)."""

    def __init__(self, handle, check_utf8: bool) -> None:
        self.handle = handle
        self.check_utf8 = check_utf8
        self.quote = False
        self.carriage_return = False
        self.cut_crlf = False  # the last read ended with a \r: a \n must start the next
        self.carry = b""  # the start of a character cut by the end of a read
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.quote = self.quote or b'"' in block
        if b"\r" in block or self.cut_crlf:
            self.carriage_return = True
            # a \r alone ends a line for both, but pandas then misreads a line that
            # starts with a space or a tab after a blank one: such files are left to it
            if self.cut_crlf and not block.startswith(b"\n"):
                raise _NotSure
            self.cut_crlf = block.endswith(b"\r")
            if block.count(b"\r") - self.cut_crlf != block.count(b"\r\n"):
                raise _NotSure
        if self.check_utf8:
            data = self.carry + block
            cut = _last_character_start(data) if block else len(data)
            self.carry = data[cut:]
            if not data[:cut].isascii():  # at the end, a character left incomplete too
                _check_utf8(data[:cut])
        return block

    def close(self) -> None:
        self.closed = True


def _last_character_start(data: bytes) -> int:
    """Where the last, possibly incomplete, multi-byte character of ``data`` starts
    (``len(data)`` when it ends on a complete one or an ASCII byte)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != UTF8_CONTINUATION:
            return len(data) - back if byte >= 0xC0 else len(data)
    return len(data)


def _check_utf8(data: bytes) -> None:
    import pyarrow as pa

    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string()
        )
    except pa.ArrowInvalid:
        raise _NotSure from None
