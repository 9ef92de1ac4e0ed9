"""Writing scores: CSV, JSON or Parquet to a file or stdout, and the terminal table. CSV
cells a spreadsheet would run as formulas are escaped (``data.tableio.to_csv``, the way
every CSV the product writes is written)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.data.tableio import (
    move_into_place,
    temp_file_for,
    to_csv,
    write_file_atomically,
)
from prospect_predictor.domain import CONTEXT, OUTCOMES, REASONS
from prospect_predictor.language import texts

FORMATS = ("table", "csv", "json", "jsonl", "parquet")


def to_csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    to_csv(frame, buffer)
    return buffer.getvalue()


def to_records(
    frame: pd.DataFrame, base: dict[str, float], reference: str, unit: str
) -> list[dict]:
    """JSON records: every reason x outcome contribution (null: no data / not modelled)."""
    records = []
    for row in frame.to_dict(orient="records"):
        record = {
            k: _plain(v)
            for k, v in row.items()
            if not k.startswith("reason_") and k not in ("no_data_reasons", "unknown_fields")
        }
        record["contributions"] = {
            reason: {
                o: _plain(row.get(f"reason_{reason}__{o}", 0.0 if o == reference else None))
                for o in OUTCOMES
            }
            for reason in (*REASONS, CONTEXT)
        }
        record["average_prospect"] = {o: _plain(base.get(o)) for o in OUTCOMES}
        record["contribution_unit"] = unit
        record["no_data_reasons"] = [r for r in row["no_data_reasons"].split(", ") if r]
        record["unknown_fields"] = [f for f in row["unknown_fields"].split(", ") if f]
        records.append(record)
    return records


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_scores(
    frame: pd.DataFrame, fmt: str, out: Path | None, records: list[dict], overwrite: bool
) -> str | None:
    """Write to ``out`` (atomically) or return the text for stdout."""
    if fmt == "csv":
        text = to_csv_text(frame)
    elif fmt == "json":
        text = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "jsonl":
        text = "".join(json_line(record) for record in records)
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


def json_line(record: dict) -> str:
    """One prospect as one line of JSON (``--format jsonl``)."""
    return json.dumps(record, ensure_ascii=False) + "\n"


class ScoresWriter:
    """Scores written to ``out`` a batch at a time, as CSV, a JSON array, JSON lines or
    Parquet, through
    a temporary file next to it that :meth:`finish` moves into place in one step (and
    :meth:`abort` deletes): a failure half-way leaves no partial file and an existing
    ``out`` untouched. CSV and JSON have the bytes :func:`write_scores` gives for all the
    rows at once; Parquet the same rows and schema, one row group per ``row_group_rows``.

    A batch is the output frame, or its columns (an ordered mapping of names to numpy or
    pyarrow arrays, as ``pd.DataFrame`` would take them): CSV and Parquet are then written
    from the columns without building the frame, with the same bytes and schema."""

    def __init__(self, out: Path, fmt: str, row_group_rows: int = 50_000) -> None:
        self.out, self.fmt, self.row_group_rows = out, fmt, row_group_rows
        self.rows = 0
        self.temp = temp_file_for(out)
        self._handle = None if fmt == "parquet" else self.temp.open("w", encoding="utf-8")
        self._parquet = None
        self._pending: list = []  # batches not yet written
        self._pending_rows = 0

    def write(self, batch, records: list[dict] | None = None) -> None:
        """Append one batch: the output frame or its columns, and for JSON its records
        (:func:`to_records`)."""
        if self.fmt == "csv":
            to_csv(batch, self._handle, header=self.rows == 0)
        elif self.fmt == "jsonl":
            self._handle.writelines(json_line(record) for record in records or [])
        elif self.fmt == "json":
            for record in records or []:
                text = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                self._handle.write(("[\n  " if self.rows == 0 else ",\n  ") + text)
                self.rows += 1
            return
        else:
            self._pending.append(batch)
            self._pending_rows += batch_rows(batch)
            if self._pending_rows >= self.row_group_rows:
                self._flush_parquet()
        self.rows += batch_rows(batch)

    def _flush_parquet(self) -> None:
        """Write the pending batches as one row group. The first has the schema pandas'
        ``to_parquet`` gives it (its types and the pandas metadata ``read_parquet`` reads
        back); a later group of columns is built in that schema without pandas."""
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
            self._parquet = pq.ParquetWriter(self.temp, table.schema, compression="snappy")
        self._parquet.write_table(table, row_group_size=max(table.num_rows, 1))

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


FULL_TABLE_WIDTH = 120  # below this many columns, one block per lead instead of a table


def table(frame: pd.DataFrame, lang: str, classes: list[str], width: int | None = None):
    """What an advisor reads in a terminal: a table, or in a terminal narrower than
    :data:`FULL_TABLE_WIDTH`, one block per lead; either way every id is shown whole."""
    if width is not None and width < FULL_TABLE_WIDTH:
        return compact(frame, lang, classes)
    from rich.table import Table

    ui = texts.ui
    grid = Table(show_lines=True)
    longest = max((len(str(i)) for i in frame["prospect_id"]), default=0)
    grid.add_column(ui("prospect", lang), no_wrap=True, min_width=longest)
    for outcome in OUTCOMES:
        if outcome in classes:
            grid.add_column(f"P({texts.outcome_label(outcome, lang)})", justify="right")
    grid.add_column(ui("recommendation", lang))
    grid.add_column(ui("top_reason", lang))
    grid.add_column(ui("drivers", lang), max_width=40)
    grid.add_column(ui("advice", lang), max_width=60)
    for row in frame.to_dict(orient="records"):
        cells = [str(row["prospect_id"])]
        cells += [texts.format_percent(row[f"p_{o}"], lang) for o in OUTCOMES if o in classes]
        top = reason_cell(row, lang)
        cells += [
            texts.recommendation_label(row["recommendation"], lang),
            top,
            row["top_drivers"] or "—",
            row["advice"],
        ]
        grid.add_row(*cells)
    return grid


def reason_cell(row: dict, lang: str) -> str:
    """The top reason with the points it adds, over the outcome it is about:
    "Poor fit +12 pts (Win-lose client)"; "no single reason stands out (Stalled)"."""
    outcome = row["top_reason_outcome"]
    about = f"\n({texts.outcome_label(outcome, lang)})" if outcome else ""
    if row.get("incomplete_record"):
        return texts.ui("incomplete_record", lang) + about
    if not row["top_reason"]:
        return texts.ui("no_single_reason", lang) + about if outcome else "—"
    points = texts.ui(
        "points", lang, points=f"+{texts.format_number(row['top_reason_points'], lang, decimals=0)}"
    )
    return f"{texts.reason_label(row['top_reason'], lang)} {points}{about}"


def compact(frame: pd.DataFrame, lang: str, classes: list[str]):
    """One block per lead for a narrow terminal: the id and the recommendation, the
    probabilities, the reason with its drivers, the advice; lines wrap, the id never."""
    from rich.console import Group
    from rich.text import Text

    blocks = []
    for row in frame.to_dict(orient="records"):
        head = Text(str(row["prospect_id"]), style="bold", no_wrap=True, overflow="ignore")
        head.append(" · " + texts.recommendation_label(row["recommendation"], lang))
        chances = " · ".join(
            f"{texts.outcome_label(o, lang)} {texts.format_percent(row[f'p_{o}'], lang)}"
            for o in OUTCOMES
            if o in classes
        )
        reason = reason_cell(row, lang).replace("\n", " ")
        if row["top_drivers"]:
            reason += f": {row['top_drivers']}"
        blocks += [head, Text("  " + chances), Text("  " + reason), Text("  " + row["advice"])]
        blocks.append(Text(""))
    return Group(*blocks[:-1])
