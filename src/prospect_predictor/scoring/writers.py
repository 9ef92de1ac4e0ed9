"""Writing scores: CSV, JSON or Parquet to a file or stdout, and the terminal table. CSV
cells a spreadsheet would run as formulas are escaped (``data.tableio.to_csv``, the way
every CSV the product writes is written)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from prospect_predictor.data.tableio import (
    move_into_place,
    temp_file_for,
    to_csv,
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


def to_csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    to_csv(frame, buffer)
    return buffer.getvalue()


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
        text = to_csv_text(frame)
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


class ScoresWriter:
    """Scores written to ``out`` a batch at a time, as CSV, a JSON array, JSON lines or
    Parquet, through
    a temporary file next to it that :meth:`finish` moves into place in one step (and
    :meth:`abort` deletes): a failure half-way leaves no partial file and an existing
    ``out`` untouched. CSV and JSON have the bytes :func:`write_scores` gives for all the
    rows at once; Parquet the same rows and schema, one row group per ``row_group_rows``."""

    def __init__(self, out: Path, fmt: str, row_group_rows: int = 50_000) -> None:
        self.out, self.fmt, self.row_group_rows = out, fmt, row_group_rows
        self.rows = 0
        self.temp = temp_file_for(out)
        self._handle = None if fmt == "parquet" else self.temp.open("w", encoding="utf-8")
        self._parquet = None
        self._pending: list[pd.DataFrame] = []

    def write(self, frame: pd.DataFrame, records: list[dict] | None = None) -> None:
        """Append one batch: the output frame, and for JSON its records (:func:`to_records`)."""
        if self.fmt == "csv":
            to_csv(frame, self._handle, header=self.rows == 0)
        elif self.fmt == "jsonl":
            self._handle.writelines(json_line(record) for record in records or [])
        elif self.fmt == "json":
            for record in records or []:
                text = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                self._handle.write(("[\n  " if self.rows == 0 else ",\n  ") + text)
                self.rows += 1
            return
        else:
            self._pending.append(frame)
            if sum(len(f) for f in self._pending) >= self.row_group_rows:
                self._flush_parquet()
        self.rows += len(frame)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        frame = pd.concat(self._pending, ignore_index=True)
        self._pending = []
        if self._parquet is None:  # the schema pandas' to_parquet gives the first batch
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._parquet = pq.ParquetWriter(self.temp, table.schema, compression="snappy")
        else:
            table = pa.Table.from_pandas(frame, schema=self._parquet.schema, preserve_index=False)
        self._parquet.write_table(table)

    def close(self) -> Path:
        """Complete the temporary file (once): ready to check with
        ``tableio.check_replaceable`` before :meth:`finish`."""
        if self._handle is not None and not self._handle.closed:
            if self.fmt == "json":
                self._handle.write("\n]\n" if self.rows else "[]\n")
            self._handle.close()
        elif self._handle is None:
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
        return self.temp

    def finish(self, overwrite: bool) -> str:
        """Complete the file and move it into place: ``written``, ``replaced`` or
        ``unchanged``; an existing different file without ``overwrite`` is an error."""
        try:
            self.close()
            return move_into_place(self.temp, self.out, overwrite)
        finally:
            self.abort()

    def abort(self) -> None:
        """Delete the temporary file (nothing else is touched)."""
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        self.temp.unlink(missing_ok=True)


def table(frame: pd.DataFrame, lang: str, classes: list[str], width: int | None = None):
    """:func:`rows.table` of a frame's rows."""
    return rows_table(frame.to_dict(orient="records"), lang, classes, width)
