"""Writing scores: CSV, JSON or Parquet to a file or stdout, and the terminal table. CSV
cells a spreadsheet would run as formulas are escaped (``data.tableio.to_csv``, the way
every CSV the product writes is written)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from prospect_predictor.data.tableio import (
    csv_bytes,
    csv_text,
    move_into_place,
    temp_file_for,
    write_file_atomically,
)
from prospect_predictor.scoring.rows import (  # noqa: F401 (writers' names, kept)
    FORMATS,
    FULL_TABLE_WIDTH,
    compact,
    json_line,
    json_text,
    reason_cell,
    record,
)
from prospect_predictor.scoring.rows import table as rows_table


def to_records(
    frame: pd.DataFrame, base: dict[str, float], reference: str, unit: str
) -> list[dict]:
    """JSON records: every reason x outcome contribution (null: no data / not modelled)."""
    return [record(row, base, reference, unit) for row in frame.to_dict(orient="records")]


def write_scores(
    frame: pd.DataFrame, fmt: str, out: Path | None, records: list[dict], overwrite: bool
) -> str | None:
    """Write to ``out`` (atomically) or return the text for stdout."""
    if fmt == "csv":
        text = csv_text(frame)
    elif fmt in ("json", "jsonl"):
        text = json_text(records, fmt)
    else:
        text = None
    if out is None:
        return text

    def write(target: Path) -> None:
        if fmt == "parquet":
            frame.to_parquet(target, index=False)
        else:
            target.write_text(text, encoding="utf-8")

    write_file_atomically(out, write, overwrite)
    return None


def batch_rows(batch) -> int:
    """The rows of a batch: a frame, or a mapping of names to columns."""
    if isinstance(batch, pd.DataFrame) or not len(batch):
        return len(batch)
    return len(next(iter(batch.values())))


def as_frame(batch) -> pd.DataFrame:
    return batch if isinstance(batch, pd.DataFrame) else pd.DataFrame(batch)


def arrow_table(batch, schema):
    """A batch (a frame, or a mapping of names to columns) as a pyarrow table of
    ``schema``, NaN and None as nulls as pandas' ``to_parquet`` writes them."""
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pd.DataFrame):
        return pa.Table.from_pandas(batch, schema=schema, preserve_index=False)
    arrays = []
    for field in schema:
        values = batch[field.name]
        if isinstance(values, pa.Array | pa.ChunkedArray):
            arrays.append(values.cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def encode_batch(fmt: str, batch, records: list[dict] | None, first: bool):
    """One batch of scores (the output frame or its columns) as :class:`ScoresWriter`
    appends it: CSV (with the header when ``first``), JSON lines or the JSON array's
    elements (indented, each after ``jsonlines.ARRAY_SEPARATOR``) as UTF-8 bytes, or the
    batch itself for Parquet (written by row groups)."""
    if fmt == "csv":
        return csv_bytes(batch, header=first)
    if fmt == "jsonl":
        return "".join(json_line(record) for record in records or []).encode("utf-8")
    if fmt == "json":
        from prospect_predictor.scoring.jsonlines import ARRAY_INDENT, ARRAY_SEPARATOR

        inside = "\n" + " " * ARRAY_INDENT  # each record one level into the array
        return "".join(
            ARRAY_SEPARATOR
            + json.dumps(record, indent=ARRAY_INDENT, ensure_ascii=False).replace("\n", inside)
            for record in records or []
        ).encode("utf-8")
    return batch


class ScoresWriter:
    """Scores written to ``out`` a batch at a time, as CSV, a JSON array, JSON lines or
    Parquet, through
    a temporary file next to it that :meth:`finish` moves into place in one step (and
    :meth:`abort` deletes): a failure half-way leaves no partial file and an existing
    ``out`` untouched. CSV and JSON have the bytes :func:`write_scores` gives for all the
    rows at once; Parquet the same rows and schema, one row group per ``row_group_rows``.

    A batch is the output frame, or its columns (an ordered mapping of names to numpy or
    pyarrow arrays, as ``pd.DataFrame`` would take them): CSV and Parquet are then written
    from the columns without building the frame, with the same bytes and schema.

    ``out`` None: standard output. The scores then go to a temporary file in the
    system's temporary folder, copied to standard output by :meth:`finish`: as for a
    file, nothing is written unless every row was scored, and memory stays bounded."""

    def __init__(self, out: Path | None, fmt: str, row_group_rows: int = 50_000) -> None:
        self.out, self.fmt, self.row_group_rows = out, fmt, row_group_rows
        self.rows = 0
        self.temp = temp_file_for(out) if out is not None else _temp_file(fmt)
        # opened as created, not truncated: see temp_file_for
        self._handle = None if fmt == "parquet" else self.temp.open("r+b")
        self._parquet = None
        self._parquet_file = None  # the file the Parquet writer writes to (it leaves it open)
        self._pending: list = []  # batches not yet written
        self._pending_rows = 0

    def write(self, batch, records: list[dict] | None = None) -> None:
        """Append one batch: the output frame or its columns, and for JSON its records
        (:func:`to_records`)."""
        self.append(encode_batch(self.fmt, batch, records, self.rows == 0), batch_rows(batch))

    def append(self, piece, rows: int, header: bytes | None = None) -> None:
        """Append one batch of ``rows`` rows as :func:`encode_batch` encoded it (where the
        batch was scored, in a worker process or here); CSV pieces encoded without their
        header come with it (``header``), written before the first. A CSV or JSON
        piece may also be a file holding those bytes (a worker's), moved in and deleted.
        The JSON array's first element opens it: its separator's "," becomes "["."""
        if self.fmt in ("csv", "json", "jsonl"):
            if header is not None and self.rows == 0:
                self._handle.write(header)
            skip = 0
            if self.fmt == "json" and self.rows == 0 and rows:
                self._handle.write(b"[")
                skip = 1
            if isinstance(piece, Path):
                self._handle.flush()
                append_file(piece, self._handle.fileno(), skip)
                piece.unlink()
            else:
                self._handle.write(memoryview(piece)[skip:])
        else:
            self._pending.append(piece)
            self._pending_rows += rows
            if self._pending_rows >= self.row_group_rows:
                self._flush_parquet()
        self.rows += rows

    def _flush_parquet(self, last: bool = False) -> None:
        """Write the pending batches as row groups of exactly ``row_group_rows`` rows
        (whatever the batches' sizes), the rest kept for the next (``last``: written too).
        The first has the schema pandas' ``to_parquet`` gives it (its types and the pandas
        metadata ``read_parquet`` reads back); later groups of columns are built in that
        schema without pandas."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        pending, self._pending, self._pending_rows = self._pending, [], 0
        frames = self._parquet is None or all(isinstance(b, pd.DataFrame) for b in pending)
        if frames:  # one conversion of the whole group: pandas' own, and the fastest
            frame = pd.concat([as_frame(batch) for batch in pending], ignore_index=True)
            schema = None if self._parquet is None else self._parquet.schema
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        else:
            table = pa.concat_tables(arrow_table(b, self._parquet.schema) for b in pending)
        if self._parquet is None:
            self._parquet_file = self.temp.open("r+b")  # not truncated either (__init__)
            self._parquet = pq.ParquetWriter(self._parquet_file, table.schema, compression="snappy")
        size = self.row_group_rows
        whole = table.num_rows if last else table.num_rows // size * size
        if whole or not self.rows:  # an empty file still gets its schema
            self._parquet.write_table(table.slice(0, whole), row_group_size=max(size, 1))
        if whole < table.num_rows:
            self._pending, self._pending_rows = [table.slice(whole)], table.num_rows - whole

    def close(self) -> Path:
        """Complete the temporary file (once): ready to check with
        ``tableio.check_replaceable`` before :meth:`finish`."""
        if self._handle is not None and not self._handle.closed:
            if self.fmt == "json":
                self._handle.write(b"\n]\n" if self.rows else b"[]\n")
            self._handle.close()
        elif self._handle is None:
            self._flush_parquet(last=True)
            self._close_parquet()
        return self.temp

    def finish(self, overwrite: bool) -> str:
        """Complete the file and move it into place: ``written``, ``replaced`` or
        ``unchanged``; an existing different file without ``overwrite`` is an error.
        Without ``out``, its bytes are copied to standard output (``written``)."""
        try:
            self.close()
            if self.out is None:
                copy_to_stdout(self.temp)
                return "written"
            return move_into_place(self.temp, self.out, overwrite)
        finally:
            self.abort()

    def abort(self) -> None:
        """Delete the temporary file (nothing else is touched)."""
        if self._handle is not None:
            self._handle.close()
        self._close_parquet()
        self.temp.unlink(missing_ok=True)

    def _close_parquet(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._parquet_file is not None:
            self._parquet_file.close()


TABLE_ROWS = 1_000
"""The terminal's table shows at most this many leads, the first scored (Rich lays out
about 600 rows a second; 20,000 leads took 35 s to print, 237,000 lines no one scrolls
through). The whole file is still validated and scored: its rejects and drift are the
file's. ``--out`` or ``--format csv`` gives every lead."""


class FirstRows:
    """The scores bound for the terminal's table: the first ``limit`` rows kept (the
    batches :func:`encode_batch` gives for the table: the output columns), the others
    counted; the same calls as :class:`ScoresWriter`."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = TABLE_ROWS if limit is None else limit
        self.rows = 0
        self._kept: list[pd.DataFrame] = []

    def append(self, piece, rows: int, header: bytes | None = None) -> None:
        room = self.limit - min(self.rows, self.limit)
        if room:
            self._kept.append(as_frame(piece).iloc[:room])
        self.rows += rows

    def close(self) -> None:
        return None

    def finish(self, overwrite: bool) -> str:
        return "shown"

    def abort(self) -> None:
        self._kept = []

    @property
    def frame(self) -> pd.DataFrame | None:
        """The rows kept, as one frame (None before any)."""
        if not self._kept:
            return None
        return pd.concat(self._kept, ignore_index=True)


def append_file(source: Path, target: int, skip: int = 0) -> None:
    """Append the bytes of the file ``source`` (but its first ``skip``) to the open file
    descriptor ``target``: by the kernel where it can (``copy_file_range``: no copy
    through this process), else read and written."""
    import os
    import shutil

    with source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(skip)
        done = skip
        try:
            while done < size:
                copied = os.copy_file_range(handle.fileno(), target, size - done)
                if not copied:
                    break
                done += copied
        except (AttributeError, OSError):  # not Linux, or not between these file systems
            pass
        if done < size:
            handle.seek(done)
            with open(target, "wb", closefd=False) as out:
                shutil.copyfileobj(handle, out)


def _temp_file(fmt: str) -> Path:
    """A new empty file in the system's temporary folder (``TMPDIR``), for scores bound for
    standard output."""
    import os
    import tempfile

    handle, name = tempfile.mkstemp(prefix="prospect-scores-", suffix=f".{fmt}.tmp")
    os.close(handle)
    return Path(name)


def copy_to_stdout(source: Path) -> None:
    """The bytes of the file ``source`` written to standard output as they are (UTF-8, the
    bytes a file would hold), after what was already written to it."""
    import shutil
    import sys

    sys.stdout.flush()
    target = sys.stdout.buffer
    with source.open("rb") as handle:
        shutil.copyfileobj(handle, target, 1 << 20)
    target.flush()


def table(frame: pd.DataFrame, lang: str, classes: list[str], width: int | None = None):
    """:func:`rows.table` of a frame's rows."""
    return rows_table(frame.to_dict(orient="records"), lang, classes, width)
