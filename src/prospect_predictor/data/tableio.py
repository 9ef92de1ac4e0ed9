"""Reading and writing prospect tables: CSV (comma or semicolon, UTF-8 with or without BOM)
and Parquet, chosen by the file's extension.

Reading never guesses types: CSV cells come back as text and
:mod:`prospect_predictor.data.validate` converts them against the schema, so that a bad cell
is reported with its row instead of silently turning a column into text.
Writing is atomic and never replaces a different existing file unless asked to, never
writes over a file the command reads (compared as files, links included: :func:`check_output`)
and escapes cells a spreadsheet would run as formulas (:func:`escape_formulas`).

Its length (about 540 lines) is the one entry to files both ways, kept whole so that every
reader and writer of the product goes through the same guards; the fast paths that give
pandas' exact frames and bytes live beside it (``csvread``, ``csvwriter``).
"""

from __future__ import annotations

import csv
import filecmp
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from prospect_predictor.data.csvread import CSV_AS_TEXT, iter_csv
from prospect_predictor.data.csvwriter import csv_blocks, csv_lines, formula_cells, risky
from prospect_predictor.errors import InputFileError, ProspectError

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t")


@dataclass
class Table:
    """A file's rows as read, before validation."""

    path: Path
    frame: pd.DataFrame
    file_format: str  # "csv" or "parquet"
    delimiter: str | None = None


def table_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise InputFileError(
        f"{path}: unsupported file type {suffix or '(no extension)'!r}; expected .csv or .parquet"
    )


def read_table(path: str | Path) -> Table:
    """Read a CSV or Parquet file; raise :class:`InputFileError` with a plain message."""
    path = Path(path)
    file_format = _check_readable(path)
    if file_format == "parquet":
        return Table(path, _read_parquet(path), "parquet")
    delimiter = detect_delimiter(path)
    (frame,) = iter_csv(path, delimiter, None, None, lambda: [_read_csv(path, delimiter)])
    return Table(path, frame, "csv", delimiter)


def _check_readable(path: Path) -> str:
    file_format = table_format(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a file")
    if path.stat().st_size == 0:
        raise InputFileError(
            f"{path}: the file is empty; expected a header row and prospects"
        ) from None
    return file_format


def iter_table(
    path: str | Path, chunk_rows: int, columns: Callable[[str], bool] | None = None
) -> Iterator[pd.DataFrame]:
    """Read a CSV or Parquet file ``chunk_rows`` rows at a time, exactly as
    :func:`read_table` reads it whole (same delimiter detection, BOM, cells as text, column
    names stripped, same messages); the chunks' index continues from one to the next.
    ``columns``: read only the columns whose (stripped) name it accepts. A file with a
    header and no rows gives one empty chunk. A byte that is not UTF-8, wherever it is,
    is reported with its row. A CSV is read with pyarrow when :mod:`.csvread` is sure to
    give pandas' frames (about twice as fast), else by pandas (:func:`_pandas_chunks`)."""
    path = Path(path)
    if _check_readable(path) == "parquet":
        yield from _iter_parquet(path, chunk_rows, columns)
        return
    delimiter = detect_delimiter(path)
    yield from iter_csv(
        path,
        delimiter,
        chunk_rows,
        columns,
        lambda: _pandas_chunks(path, delimiter, chunk_rows, columns),
    )


def _pandas_chunks(
    path: Path, delimiter: str, chunk_rows: int, columns: Callable[[str], bool] | None
) -> Iterator[pd.DataFrame]:
    """:func:`iter_table` by pandas alone (what :mod:`.csvread` reads with arrow when it can)."""
    usecols = (lambda name: columns(str(name).strip())) if columns else None
    with (
        _csv_errors(path, delimiter),
        pd.read_csv(
            path, sep=delimiter, chunksize=chunk_rows, usecols=usecols, **CSV_AS_TEXT
        ) as reader,
    ):
        for frame in reader:
            frame.columns = [str(c).strip() for c in frame.columns]
            yield frame


def _iter_parquet(
    path: Path, chunk_rows: int, columns: Callable[[str], bool] | None
) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = [n for n in parquet.schema_arrow.names if columns is None or columns(n.strip())]
        if parquet.metadata.num_rows == 0:
            frames = [parquet.schema_arrow.empty_table().select(names).to_pandas()]
        else:
            frames = (
                batch.to_pandas() for batch in parquet.iter_batches(chunk_rows, columns=names)
            )
        start = 0
        for frame in frames:
            frame.columns = [str(c).strip() for c in frame.columns]
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
    except InputFileError:
        raise
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None


def parquet_rows(path: str | Path) -> int | None:
    """The number of rows a Parquet file declares (None for other files)."""
    path = Path(path)
    if table_format(path) != "parquet":
        return None
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # reported with its message when the file is read
        return None


def _not_utf8_at(path: Path) -> InputFileError:
    """Where the first byte that is not UTF-8 is: its position in the file and its row
    (pandas reads ahead, so its own error does not tell). Rows are counted by lines, so a
    quoted cell that spans lines makes the row approximate."""
    position = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                where = "in the header" if line_number == 0 else f"in row {line_number}"
                return InputFileError(
                    f"{path}: not UTF-8 text (byte 0x{line[exc.start]:02x} at position "
                    f"{position + exc.start}, {where}); save or export the file as UTF-8 "
                    "(with or without BOM)"
                )
            position += len(line)
    return InputFileError(
        f"{path}: not UTF-8 text; save or export the file as UTF-8 (with or without BOM)"
    )


def detect_delimiter(path: Path) -> str:
    """The delimiter that splits the header line into the most fields (comma on a tie)."""
    return header_delimiter(_first_line(path), path)


def header_delimiter(header: str, source) -> str:
    """:func:`detect_delimiter` given the header line itself (e.g. read by Spark)."""
    if not header.strip():
        raise InputFileError(f"{source}: the first line is blank; expected a header row")
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts


def _first_line(path: Path) -> str:
    with path.open("rb") as handle:
        line = handle.readline()
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_utf8_at(path) from None
    return text.split("\r", 1)[0] + ("\r" if "\r" in text else "")  # a lone \r ends it too


def _read_csv(path: Path, delimiter: str) -> pd.DataFrame:
    with _csv_errors(path, delimiter):
        frame = pd.read_csv(path, sep=delimiter, **CSV_AS_TEXT)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


@contextmanager
def _csv_errors(path: Path, delimiter: str) -> Iterator[None]:
    """pandas' reading errors as messages naming the file (and the row, for a byte that
    is not UTF-8)."""
    try:
        yield
    except UnicodeDecodeError:
        raise _not_utf8_at(path) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"{path}: the file is empty; expected a header row and prospects"
        ) from None
    except pd.errors.ParserError as exc:
        raise InputFileError(
            f"{path}: not a well-formed {_delimiter_name(delimiter)}-separated file: {exc}"
        ) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.reset_index(drop=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula prefixed by
    a quote (OWASP "CSV injection": a cell starting with =, +, -, @, a tab or a carriage
    return), in every text column and in the header: a lead's fields come from outside the
    firm. Numbers stay numbers: numeric columns, and text cells that are only a number such
    as "-3", are left alone. Every CSV the product writes goes through this (the rule:
    :func:`prospect_predictor.data.cells.is_formula`)."""
    import pyarrow as pa

    names = ["'" + c if isinstance(c, str) and risky(c) else c for c in frame.columns]
    out = frame if names == list(frame.columns) else frame.set_axis(names, axis=1)
    escaped = {}
    for index in range(len(out.columns)):
        column = out.iloc[:, index]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_datetime64_any_dtype(column):
            continue
        text = column.astype("string")
        cells = formula_cells(pa.array(text.array))
        if cells.any():
            escaped[index] = column.astype(object).where(~cells, ("'" + text).astype(object))
    if not escaped:
        return out
    out = out.copy()
    for index, values in escaped.items():
        out.isetitem(index, values)
    return out


def to_csv(frame, target, header: bool = True, **options) -> None:
    """Write ``frame`` (a DataFrame, or an ordered mapping of names to columns: numpy or
    pyarrow arrays) as CSV to ``target`` (a path or an open text file) as every CSV of the
    product is written: formulas escaped (:func:`escape_formulas`), lines ending in
    ``\n``, no index. A text cell holding a carriage return is quoted: Python's csv module
    quotes only the line terminator's characters, and an unquoted ``\r`` ends a row for
    every reader (the frame's text cells are then all quoted, which any reader reads back
    as the same values).

    Written a column at a time by :func:`prospect_predictor.data.csvwriter.csv_lines`
    when it gives exactly pandas' bytes (numbers, booleans and text, a comma, semicolon
    or tab separator), else by pandas."""
    plain = (
        set(options) <= {"sep", "encoding", "float_format"}
        and options.get("float_format") is None
        and options.get("encoding", "utf-8") in ("utf-8", "utf8")
        and not (  # pandas compresses a file named so
            isinstance(target, str | os.PathLike)
            and Path(target).suffix.lower() in (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
        )
    )
    lines = csv_lines(frame, header, options.get("sep", ",")) if plain else None
    if lines is None:
        pandas_csv(frame, target, header, **options)
    elif isinstance(target, str | os.PathLike):
        with open(os.path.expanduser(target), "w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)
    else:
        target.writelines(lines)


def csv_text(columns, header: bool = True) -> str:
    """``columns`` (see :func:`to_csv`) as the CSV text :func:`to_csv` writes."""
    buffer = io.StringIO()
    to_csv(columns, buffer, header)
    return buffer.getvalue()


def csv_bytes(columns, header: bool = True) -> bytes:
    """:func:`csv_text` as UTF-8 bytes, built as bytes where the columnar writer writes
    them (no text decoded to be encoded again)."""
    blocks = csv_blocks(columns, header)
    if blocks is None:
        return csv_text(columns, header).encode("utf-8")
    return b"".join(blocks)


def pandas_csv(frame, target, header: bool = True, **options) -> None:
    """:func:`to_csv` through pandas' own ``to_csv``: for what the columnar writer does
    not write exactly, and the reference its tests compare it with."""
    frame = escape_formulas(frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame))
    carriage = any(
        text.astype("string").str.contains("\r", regex=False).fillna(False).any()
        for _, text in frame.select_dtypes(include=["object", "string"]).items()
    )
    frame.to_csv(
        target,
        index=False,
        header=header,
        lineterminator="\n",
        quoting=csv.QUOTE_NONNUMERIC if carriage else csv.QUOTE_MINIMAL,
        **options,
    )


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    overwrite: bool = False,
    float_format: str | None = None,
    sep: str = ",",
) -> str:
    """Write ``frame`` as CSV or Parquet (by extension), byte-for-byte reproducibly; CSV
    cells that would run as formulas are escaped (:func:`escape_formulas`).

    Returns ``"written"``, ``"replaced"`` or ``"unchanged"`` (the file already held
    exactly these bytes). An existing file with other contents is kept and an error
    raised, unless ``overwrite``.
    """
    path = Path(path)
    return write_file_atomically(path, table_writer(frame, path, float_format, sep), overwrite)


def table_writer(
    frame: pd.DataFrame, path: Path, float_format: str | None = None, sep: str = ","
) -> Callable[[Path], None]:
    """What writes ``frame`` to a file of ``path``'s format (given the file to write)."""
    file_format = table_format(Path(path))

    def write(target: Path) -> None:
        if file_format == "csv":
            to_csv(frame, target, sep=sep, encoding="utf-8", float_format=float_format)
        else:
            frame.to_parquet(target, index=False, engine="pyarrow", compression="zstd")

    return write


def write_file_atomically(path: Path, write: Callable[[Path], None], overwrite: bool) -> str:
    """Write through a temporary file in the same folder, then rename it into place."""
    return write_files_atomically([(Path(path), write)], overwrite)[0]


def write_files_atomically(
    files: list[tuple[Path, Callable[[Path], None]]], overwrite: bool
) -> list[str]:
    """Several files written as :func:`write_file_atomically` writes one, each checked
    (:func:`check_replaceable`) before any is moved into place: a refusal leaves them all
    as they were."""
    temps: list[Path] = []
    try:
        for path, write in files:
            temps.append(temp_file_for(path))
            write(temps[-1])
        states = [
            check_replaceable(temp, path, overwrite)
            for temp, (path, _) in zip(temps, files, strict=True)
        ]
        for temp, (path, _), state in zip(temps, files, states, strict=True):
            if state != "unchanged":
                os.replace(temp, path)
        return states
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def temp_file_for(path: Path) -> Path:
    """A new empty temporary file in ``path``'s folder (hidden, ``.tmp``), for writing
    ``path`` atomically with :func:`move_into_place`; the caller deletes it on failure.

    A writer that streams a big file into it opens it as it is ("r+b"), not truncated
    ("wb"): on ext4 a file truncated to nothing and written again is flushed to disk when
    it is closed (``auto_da_alloc``), measured 0.15-0.24 s for 650 MB of scores."""
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(temp_name)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (a symlink, a hard
    link, another spelling of the path), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def check_output(path: str | Path, reads=(), what: str | None = None) -> Path:
    """The one guard of every file the product writes, called before any work: refuse a
    folder, a path below a file, and a file the command reads (``reads``: its input paths,
    None ignored; compared with :func:`same_file`, so no link or spelling gets past it, and
    ``--overwrite`` never allows it). ``what`` names the output in the message (default:
    ``--out``). Whether an existing file may be replaced is decided when the finished file
    is moved into place (:func:`move_into_place`)."""
    path = Path(path)
    what = what or "--out"
    if path.is_dir():
        raise ProspectError(
            f"{what} {path}: is a folder; expected a file name (a file inside it, say)"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ProspectError(f"{what} {path}: {parent} is a file, not a folder")
            break
    for source in reads:
        if source is not None and str(source) != "-" and same_file(path, source):
            raise ProspectError(
                f"{what} {path}: is the input file {source}; writing there would destroy "
                "what is being read (--overwrite never allows it). Choose another path."
            )
    return path


def move_into_place(temp: Path, path: Path, overwrite: bool) -> str:
    """Rename the finished ``temp`` to ``path`` (one atomic step): ``"written"``,
    ``"replaced"`` or ``"unchanged"`` (same bytes). An existing file with other contents
    is left untouched and an error raised, unless ``overwrite``."""
    state = check_replaceable(temp, path, overwrite)
    if state != "unchanged":
        os.replace(temp, path)
    return state


def check_replaceable(temp: Path, path: Path, overwrite: bool) -> str:
    """What :func:`move_into_place` would do, without doing it: ``"written"``,
    ``"replaced"`` or ``"unchanged"``, or the error it would raise. A command writing
    several files checks each before moving any, so that a refusal leaves all as they were."""
    temp.chmod(0o666 & ~_umask())  # mkstemp makes owner-only files; keep the usual mode
    check_output(path)
    if not path.exists():
        return "written"
    if filecmp.cmp(temp, path, shallow=False):
        return "unchanged"
    if not overwrite:
        raise ProspectError(
            f"{path}: already exists with other contents; it was left untouched. "
            "Choose another output path, or pass --overwrite to replace it."
        )
    return "replaced"


class CsvAppender:
    """Frames appended to a CSV file through a temporary file next to it, moved into place
    by :meth:`finish`: the bytes :func:`write_table` gives for the frames concatenated.
    Nothing is created until a frame has rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self.temp: Path | None = None
        self._handle = None

    def append(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        if self.temp is None:
            self.temp = temp_file_for(self.path)
            # as created, not truncated: see temp_file_for
            self._handle = self.temp.open("r+", encoding="utf-8", newline="")
        to_csv(frame, self._handle, header=self.rows == 0)
        self.rows += len(frame)

    def close(self) -> Path | None:
        """Complete the temporary file (None when no row was appended): ready to check with
        :func:`check_replaceable` before :meth:`finish`."""
        if self._handle is not None:
            self._handle.close()
        return self.temp

    def finish(self, overwrite: bool) -> str | None:
        """Move the file into place (None when no row was appended)."""
        if self.temp is None:
            return None
        try:
            self.close()
            return move_into_place(self.temp, self.path, overwrite)
        finally:
            self.abort()

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a megabyte at a time: which data a run used."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def spool_stdin(folder: Path, stream=None) -> Path:
    """Standard input (``-`` for a file of leads) written to ``folder/stdin.csv``, or
    ``stdin.parquet`` when it starts like a Parquet file, so that it is read, validated and
    named in messages like any file."""
    import sys

    source = stream if stream is not None else sys.stdin.buffer
    head = source.read(4)
    path = Path(folder) / ("stdin.parquet" if head == b"PAR1" else "stdin.csv")
    with open(path, "wb") as handle:
        handle.write(head)
        while block := source.read(1 << 20):
            handle.write(block)
    return path
