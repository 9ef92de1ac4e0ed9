"""Leads to score: from a file (bad rows set aside as rejects) or one JSON lead."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prospect_predictor.config.derived import input_columns
from prospect_predictor.config.schema import Schema
from prospect_predictor.data.derived import add_derived
from prospect_predictor.data.one_lead import (  # noqa: F401 (names leads has always had)
    DEFAULT_LEAD_ID,
    lead_file,
    lead_text,
    model_columns,
    read_lead,
    schema_of,
    unseen_lines,
)
from prospect_predictor.data.tableio import iter_table, parquet_rows
from prospect_predictor.data.validate import (
    Problem,
    ValidationReport,
    file_duplicates,
    merge_problems,
    rejects_frame,
    validate_frame,
)
from prospect_predictor.errors import ConfigError, InputFileError, ProspectError


@dataclass
class Leads:
    frame: pd.DataFrame  # typed, valid rows only
    rows: np.ndarray  # their 1-based row numbers in the input
    rejects: pd.DataFrame  # invalid rows as read, with `row` and `problems` first
    report: ValidationReport | None = None
    unknown_fields: list[str] = field(default_factory=list)


CHUNK_ROWS = 50_000
"""Rows read and validated at a time from a file of leads. Measured scoring 200,000
generated leads to CSV (2 shared cores, one thread, two runs each): chunks of 10,000 /
50,000 / 200,000 rows peaked at 437 / 491-496 / 597-609 MB and ran at 4,450 / 4,650-5,260
/ 5,300-5,770 rows/s. 50,000 costs about 0.7 KB of peak memory per chunk row for most of
the speed of one big chunk; 1,000,000 leads peak at 542 MB (target 1.5 GB)."""

ROW_KINDS = frozenset(
    {"wrong_type", "out_of_range", "unknown_category", "missing_value", "duplicate_id"}
)


@dataclass
class LeadChunk:
    """One chunk of a file of leads, validated."""

    frame: pd.DataFrame  # typed, valid rows only
    rows: np.ndarray  # their 1-based row numbers in the file
    rejects: pd.DataFrame  # invalid rows as read, with `row` and `problems` first
    rows_read: int  # rows of the file read so far, this chunk included


class LeadStream:
    """A file of leads read, validated and split into good rows and rejects one chunk of
    ``chunk_rows`` at a time, so that a file of any size is scored in bounded memory.

    Every check of a whole file still holds: a missing column (first chunk), ids used more
    than once anywhere in the file (a first pass over the id column alone finds them, so
    every occurrence is rejected and named by its row, as for a whole file), no row that
    can be scored (raised at the end, after the last chunk), a byte that is not UTF-8
    (raised where it is met, naming its row). Row numbers are the file's. ``total``: the
    number of rows, when known before reading them all (Parquet metadata, or the id pass).
    ``keep_problems``: keep every chunk's problems for :meth:`report` (by default they are
    kept only until a row can be scored: they are needed for the message when none can).
    """

    def __init__(
        self,
        path: str | Path,
        metadata: dict,
        chunk_rows: int | None = None,
        keep_problems: bool = False,
    ) -> None:
        self.path = Path(path)
        self.metadata = metadata
        self.chunk_rows = chunk_rows or CHUNK_ROWS
        self.keep_problems = keep_problems
        self.schema = schema_of(metadata)
        self.total: int | None = None
        self.rows_read = 0
        self.scorable = 0
        self.rejected = 0
        self.problems: list[Problem] = []
        self.unseen: list[Problem] = []  # categories never seen in training, every chunk
        self.absent: list[Problem] = []  # columns the model does not read, not in the file

    def __iter__(self) -> Iterator[LeadChunk]:
        duplicates = self._duplicate_ids()
        if self.total is None:
            self.total = parquet_rows(self.path)
        optional = unused_columns(self.schema, self.metadata)

        def chunks():  # each chunk as read, with what validating it needs
            first_row = 1
            for raw in iter_table(self.path, self.chunk_rows):
                yield raw, self.metadata, self.path, first_row, duplicates, None, optional
                first_row += len(raw)

        first = True
        for chunk, report in self.validate(chunks()):
            self.unseen.extend(p for p in report.warnings if p.kind == "unseen_category")
            if first:  # once per file
                self.absent = [p for p in report.warnings if p.kind == "absent_column"]
                first = False
            self.rows_read = chunk.rows_read
            self.scorable += len(chunk.rows)
            self.rejected += len(chunk.rejects)
            if self.keep_problems or not self.scorable:
                self.problems.extend(report.problems)
            elif self.problems:
                self.problems = []  # a row can be scored: no need for them any more
            yield chunk
        if not self.scorable:
            raise InputFileError(
                f"{self.path}: no row can be scored; every row has a problem:\n"
                + "\n".join(self.report().lines())
            )

    @staticmethod
    def validate(chunks: Iterator[tuple]) -> Iterator[tuple[LeadChunk, ValidationReport]]:
        """:func:`validate_chunk` on each chunk, in order (a caller with worker processes
        replaces this to validate chunks in them: ``jobs/parallel.py``)."""
        return (validate_chunk(*arguments) for arguments in chunks)

    def unseen_lines(self) -> list[str]:
        """Once per file: per column, the values never seen in training that were scored
        as unknown, and how many leads held them."""
        return unseen_lines(merge_problems(self.unseen, list(self.schema.columns)))

    def report(self) -> ValidationReport:
        """The problems kept so far, merged over chunks as for a whole file."""
        order = list(self.schema.columns)
        return ValidationReport(
            str(self.path), self.rows_read, merge_problems(self.problems, order)
        )

    def _duplicate_ids(self) -> dict[str, Problem]:
        """First pass: the id column(s) alone, whole, to find ids used more than once."""
        found, rows = file_duplicates(self.path, self.schema, max(self.chunk_rows, CHUNK_ROWS))
        if rows is not None:
            self.total = rows
        return found


def validate_chunk(
    raw: pd.DataFrame,
    metadata: dict,
    source,
    first_row: int = 1,
    duplicates: dict[str, Problem] | None = None,
    schema: Schema | None = None,
    optional: frozenset[str] | None = None,
) -> tuple[LeadChunk, ValidationReport]:
    """One chunk of a file of leads as read (its first row is the file's row ``first_row``),
    validated against the bundle's schema as leads are: good rows typed with the model's
    derived features computed, rejects as read with their row and problems. A problem
    with the file itself (a missing column, no rows) raises :class:`InputFileError`.
    ``duplicates``: the whole file's duplicated ids (:func:`validate_frame`). The one
    validation of leads, for :class:`LeadStream` and for the Spark scorer's partitions."""
    schema = schema or schema_of(metadata)
    optional = unused_columns(schema, metadata) if optional is None else optional
    report = validate_frame(
        raw,
        schema,
        str(source),
        require_outcome=False,
        optional=optional,
        first_row=first_row,
        duplicates=duplicates,
        unseen="unknown",
    )
    fatal = [p for p in report.errors if p.kind not in ROW_KINDS]
    if fatal:
        raise InputFileError(
            f"{source} cannot be scored:\n"
            + "\n".join(f"error: {source}: {p.message}" for p in fatal)
        )
    chunk = _split(raw, report, first_row, first_row - 1 + len(raw))
    chunk.frame = with_derived(chunk.frame, metadata)
    return chunk, report


def _split(raw: pd.DataFrame, report: ValidationReport, first_row: int, rows_read: int):
    """Good rows (typed) and rejects (as read, with their row and problems) of a chunk."""
    bad = report.bad_rows
    rejects = rejects_frame(raw, report, first_row)
    good = report.frame[~bad] if report.frame is not None else raw.iloc[0:0]
    return LeadChunk(good, np.flatnonzero(~bad) + first_row, rejects, rows_read)


def read_leads(path: str | Path, metadata: dict, chunk_rows: int | None = None) -> Leads:
    """Validate a file of leads exactly like training data; keep the good rows, set the bad
    ones aside with their row number and what is wrong. File-level problems (a missing
    column, no rows) stop here with every problem listed. The whole file is kept in memory:
    :class:`LeadStream` gives it a chunk at a time."""
    stream = LeadStream(path, metadata, chunk_rows, keep_problems=True)
    chunks = list(stream)
    if len(chunks) == 1:
        chunk = chunks[0]
        return Leads(chunk.frame, chunk.rows, chunk.rejects, stream.report())
    return Leads(
        pd.concat([c.frame for c in chunks]),
        np.concatenate([c.rows for c in chunks]),
        pd.concat([c.rejects for c in chunks]),
        stream.report(),
    )


def optional_when_scoring(
    schema: Schema, model_inputs: list[str] | None = None, id_column: str | None = None
) -> frozenset[str]:
    """The columns a file of leads may leave out, one rule for ``prospect score`` and
    ``prospect validate --leads``: with ``model_inputs`` (the columns a model reads, known
    from its bundle or its pipeline), every other column but the id; without (a schema
    alone), the protected attributes and the date, which a model does not read unless its
    pipeline says so. The outcome is never asked of leads."""
    if model_inputs is not None:
        needed = set(model_inputs) | {id_column or schema.id_column}
        return frozenset(c for c in schema.columns if c not in needed)
    return frozenset(schema.columns_with_role("protected") + schema.columns_with_role("date"))


def pipeline_inputs(path: str | Path) -> list[str] | None:
    """The columns of the export a pipeline's model reads (its features that are columns
    and the inputs of its derived features), or None for a pipeline that does not load
    yet (a draft whose reasons are still TODO)."""
    from prospect_predictor.config.pipeline import load_pipeline

    try:
        pipeline = load_pipeline(path, check_model=False)
    except ConfigError:
        return None
    return input_columns(pipeline.features, pipeline.derived_metadata())


def unused_columns(schema: Schema, metadata: dict) -> frozenset[str]:
    """Columns the model does not need to score, which a file of leads may leave out: all
    but the id and the columns its features are, or are computed from."""
    return optional_when_scoring(schema, model_columns(metadata), metadata.get("id_column"))


def with_derived(frame: pd.DataFrame, metadata: dict) -> pd.DataFrame:
    """A validated frame with the model's derived features computed (see derived.py)."""
    return add_derived(frame, metadata.get("derived", {}), schema_of(metadata))


MAX_PROBLEMS_SHOWN = 5


def _validate_leads(frame: pd.DataFrame, schema: Schema, metadata: dict, source: str):
    """Leads given in memory (not a file) validated like a file of leads: the report, and
    its errors that refuse them (an extra column is not one: it is ignored)."""
    report = validate_frame(
        frame,
        schema,
        source,
        require_outcome=False,
        optional=unused_columns(schema, metadata),
        unseen="unknown",
    )
    return report, [p for p in report.errors if p.kind != "unknown_column"]


def leads_from_frame(raw: pd.DataFrame, metadata: dict, source: str = "the request") -> Leads:
    """Leads given as a frame of raw export rows — text, booleans and numbers as a CRM
    export or a JSON request holds them — validated as a file of leads is, except that a
    column the model reads may be left out, like a field of ``--lead``: it is unknown for
    every row and listed in ``unknown_fields``. Columns the model does not read are
    ignored, blanks and null are unknown, an unseen category is scored as unknown, derived
    features are computed. An absent id column numbers the rows ("1", "2", …). Any
    invalid row refuses the whole frame (:class:`ProspectError` naming each row and field,
    at most five): a caller such as a REST client gets no partial answer it could mistake
    for a whole one."""
    schema = schema_of(metadata)
    id_column = metadata.get("id_column")
    known = [c for c in raw.columns if c in schema.columns and schema.columns[c].role != "outcome"]
    frame = raw[known].astype(object)
    frame = frame.where(frame.notna(), None).reset_index(drop=True)
    if id_column and id_column not in frame:
        frame.insert(0, id_column, [str(i) for i in range(1, len(frame) + 1)])
    unknown = [name for name in model_columns(metadata) if name not in frame]
    for name in unknown:  # a field left out is unknown, as with --lead
        frame[name] = None
    report, errors = _validate_leads(frame, schema, metadata, source)
    if errors:
        lines = [p.message for p in errors[:MAX_PROBLEMS_SHOWN]]
        more = len(errors) - len(lines)
        raise InputFileError(
            f"{source} is not valid: "
            + "; ".join(lines)
            + (f"; and {more} more problem(s)" if more > 0 else "")
        )
    return Leads(
        with_derived(report.frame, metadata),
        np.arange(1, len(frame) + 1),
        pd.DataFrame(),
        report,
        unknown,
    )


def lead_from_json(text: str, metadata: dict, source: str = "--lead") -> Leads:
    """One lead given as a JSON object of column -> value (:func:`one_lead.read_lead`),
    validated as a one-row frame; omitted features are unknown, and so are features given
    as null, NaN or a blank such as "None" (listed alike in ``unknown_fields``).
    :mod:`prospect_predictor.data.one_lead` validates it without pandas, with the same
    results (``tests/data/test_one_lead.py``)."""
    lead = read_lead(text, metadata, source)
    frame = pd.DataFrame([lead.row], dtype=object)
    report, errors = _validate_leads(frame, lead.schema, metadata, source)
    if errors:
        raise ProspectError(
            f"{source} is not valid:\n" + "\n".join(f"error: {source}: {p.message}" for p in errors)
        )
    return Leads(
        with_derived(report.frame, metadata), np.array([1]), pd.DataFrame(), report, lead.unknown
    )


def one_prospect(
    path: str | Path, metadata: dict, prospect_id: str, chunk_rows: int | None = None
) -> Leads:
    """The one prospect ``prospect_id`` of a file (for ``prospect explain``), validated as
    the whole file is (its row numbers, its duplicated ids, its problems in the report)
    but read a chunk at a time (:class:`LeadStream`), so that memory does not grow with
    the file: only the rows naming the prospect are kept. Without an id column, the
    prospect is named by its row number. A prospect absent, or in a rejected row, is an
    error saying so."""
    id_column = metadata.get("id_column")
    wanted = str(prospect_id)
    if not id_column and not wanted.isdigit():
        raise ProspectError(
            f"{path} has no id column: name the prospect by its row "
            "number (1 = the first row after the header)"
        )
    stream = LeadStream(path, metadata, chunk_rows, keep_problems=True)
    found: list[pd.DataFrame] = []
    rows: list[np.ndarray] = []
    rejected: list[pd.DataFrame] = []
    examples: list[str] = []  # the file's first ids, for the message when none matches
    last_row = 0  # the last scorable row
    for chunk in stream:
        if id_column:
            ids = chunk.frame[id_column].astype(str)
            examples += ids.head(3 - len(examples)).tolist()
            match = (ids == wanted).to_numpy()
            if id_column in chunk.rejects:
                rejected.append(chunk.rejects[chunk.rejects[id_column].astype(str) == wanted])
        else:
            match = chunk.rows == int(wanted)
        if match.any():
            found.append(chunk.frame[match])
            rows.append(chunk.rows[match])
        if len(chunk.rows):
            last_row = int(chunk.rows[-1])
    if found:
        return Leads(
            pd.concat(found) if len(found) > 1 else found[0],
            np.concatenate(rows),
            pd.DataFrame(),
            stream.report(),
        )
    if not id_column:
        raise ProspectError(
            f"{path}: no scorable row {prospect_id} (rows 1 to "
            f"{last_row:,}; rejected rows cannot be explained)"
        )
    rejected = [r for r in rejected if len(r)]
    if rejected:
        row = rejected[0].iloc[0]
        raise ProspectError(
            f"{path}: prospect {prospect_id!r} (row {row['row']}) cannot "
            f"be scored: {row['problems']}"
        )
    raise ProspectError(
        f"{path}: no prospect with {id_column} {prospect_id!r} among "
        f"{stream.scorable:,} rows (ids look like: {', '.join(examples)})"
    )


def rejects_file(path: Path) -> Path:
    """Where the rows rejected from a file are written: ``<stem>.rejects.csv`` beside ``path``
    (the output file, or the input when the output goes to the terminal)."""
    return path.with_name(path.stem + ".rejects.csv")


def absent_lines(problems: list[Problem], path) -> list[str]:
    """Once per file, the columns it leaves out that the model does not read, scored
    without (one line; none when every column is there)."""
    names = [p.column for p in problems if p.kind == "absent_column"]
    if not names:
        return []
    them = "it" if len(names) == 1 else "them"
    return [
        f"{path}: column(s) {', '.join(map(repr, names))} not in the file; the model does not "
        f"read {them}, so the leads are scored without {them} (docs/scoring.md)"
    ]
