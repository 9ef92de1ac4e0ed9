"""Reading and writing prospect tables: CSV (comma or semicolon, UTF-8 with or without BOM)
and Parquet, chosen by the file's extension.

Reading never guesses types: CSV cells come back as text and
:mod:`prospect_predictor.validate` converts them against the schema, so that a bad cell
is reported with its row instead of silently turning a column into text.
Writing is atomic and never replaces a different existing file unless asked to.
"""

from __future__ import annotations

import csv
import filecmp
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
    file_format = table_format(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a file")
    if path.stat().st_size == 0:
        raise InputFileError(
            f"{path}: the file is empty; expected a header row and prospects"
        ) from None
    if file_format == "parquet":
        return Table(path, _read_parquet(path), "parquet")
    delimiter = detect_delimiter(path)
    return Table(path, _read_csv(path, delimiter), "csv", delimiter)


def detect_delimiter(path: Path) -> str:
    """The delimiter that splits the header line into the most fields (comma on a tie)."""
    header = _first_line(path)
    if not header.strip():
        raise InputFileError(f"{path}: the first line is blank; expected a header row")
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return handle.readline()
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None


def _read_csv(path: Path, delimiter: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"{path}: the file is empty; expected a header row and prospects"
        ) from None
    except pd.errors.ParserError as exc:
        raise InputFileError(
            f"{path}: not a well-formed {_delimiter_name(delimiter)}-separated file: {exc}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.reset_index(drop=True)


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> InputFileError:
    return InputFileError(
        f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
        "save or export the file as UTF-8 (with or without BOM)"
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


def write_table(
    frame: pd.DataFrame, path: str | Path, overwrite: bool = False, float_format: str | None = None
) -> str:
    """Write ``frame`` as CSV or Parquet (by extension), byte-for-byte reproducibly.

    Returns ``"written"``, ``"replaced"`` or ``"unchanged"`` (the file already held
    exactly these bytes). An existing file with other contents is kept and an error
    raised, unless ``overwrite``.
    """
    path = Path(path)
    file_format = table_format(path)

    def write(target: Path) -> None:
        if file_format == "csv":
            frame.to_csv(
                target,
                index=False,
                lineterminator="\n",
                encoding="utf-8",
                float_format=float_format,
            )
        else:
            frame.to_parquet(target, index=False, engine="pyarrow", compression="zstd")

    return write_file_atomically(path, write, overwrite)


def write_file_atomically(path: Path, write: Callable[[Path], None], overwrite: bool) -> str:
    """Write through a temporary file in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        temp.chmod(0o666 & ~_umask())  # mkstemp makes owner-only files; keep the usual mode
        if path.exists():
            if filecmp.cmp(temp, path, shallow=False):
                return "unchanged"
            if not overwrite:
                raise ProspectError(
                    f"{path}: already exists with other contents; it was left untouched. "
                    "Choose another output path, or pass --overwrite to replace it."
                )
            os.replace(temp, path)
            return "replaced"
        os.replace(temp, path)
        return "written"
    finally:
        temp.unlink(missing_ok=True)
