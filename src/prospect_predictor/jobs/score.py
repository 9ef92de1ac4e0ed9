"""`prospect score` and `prospect explain`: leads from a file or one JSON lead, scored with
a bundle; a file scored to a file streams in bounded memory."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

from prospect_predictor.errors import ProspectError

SCORING_CHUNK_ROWS = 5_000  # rows explained at a time within a chunk read from the file
Counter = Callable[[int, int | None], None]  # (rows done, rows in all or None if unknown)


@dataclass
class ScoringReport:
    frame: pd.DataFrame  # the documented output columns, one row per scored prospect
    records: list[dict]  # the same as JSON records, with every reason x outcome contribution
    scores: list  # score.Scores per chunk
    leads: object  # leads.Leads
    metadata: dict
    lang: str
    drift_warnings: list[str]
    rejects_path: Path | None = None  # where the rejected rows were written, if any
    # said once: about the bundle (an interrupted promotion), the file (absent columns)
    notices: list[str] = field(default_factory=list)


def run_scoring(
    model_dir: str | Path | None,
    input_path: str | Path | None = None,
    lead_json: str | None = None,
    lang: str | None = None,
    progress: Counter = lambda done, total: None,
    only_id: str | None = None,
    rejects_next_to: Path | None = None,
    overwrite: bool = False,
    lead_read: tuple[str, str] | None = None,
) -> ScoringReport:
    """Score a file of leads (bad rows set aside), one prospect of it (``only_id``: the
    file read a chunk at a time, :func:`leads.one_prospect`) or one JSON lead with a
    bundle, keeping every row's output in memory (for ``--lead``, ``prospect explain`` and
    the demo); a file scored to a file, to stdout or to the table streams instead
    (:func:`run_file_scoring`). With ``rejects_next_to``, the rejected
    rows are written to ``<that file>.rejects.csv`` once every row is scored (an existing
    different file only with ``overwrite``, the input never). ``lead_json``: the JSON text,
    ``@FILE`` or ``-`` (:func:`leads.lead_text`); ``lead_read``: instead, the JSON text
    already read and the name messages give it (``jobs/score_lead.py`` fell back here)."""
    import pandas as pd

    from prospect_predictor.data.leads import (
        absent_lines,
        lead_from_json,
        lead_text,
        one_prospect,
        read_leads,
        rejects_file,
        unseen_lines,
    )
    from prospect_predictor.data.tableio import check_output, write_table
    from prospect_predictor.jobs.parallel import one_blas_thread
    from prospect_predictor.monitoring.drift import RowSample, drift_warnings, row_keys
    from prospect_predictor.registry.bundle import read_profile
    from prospect_predictor.scoring.writers import to_records

    rejects_path = rejects_file(Path(rejects_next_to)) if rejects_next_to is not None else None
    if rejects_path is not None:
        check_output(rejects_path, [input_path], "the rejects file")
    if lead_read is not None:
        lead_json, source = lead_read
    elif lead_json is not None:
        lead_json, source = lead_text(lead_json)
    bundle, metadata, lang, notices = _scoring_bundle(model_dir, lang)
    if lead_json is not None:
        leads = lead_from_json(lead_json, metadata, source)
    elif only_id is not None:  # read a chunk at a time, keeping the one prospect
        leads = one_prospect(input_path, metadata, only_id)
    else:
        leads = read_leads(input_path, metadata)
    drift = []
    if only_id is None and lead_json is None:
        sample = RowSample(DRIFT_SAMPLE_ROWS)
        sample.add(leads.frame[metadata["features"]], row_keys(leads.rows))
        drift = drift_warnings(sample.frame, read_profile(bundle.path), None, metadata)
    total = len(leads.frame)
    frames, all_scores = [], []
    with one_blas_thread():  # the bits of a file scored to a file (run_file_scoring)
        for start in range(0, total, SCORING_CHUNK_ROWS):
            end = start + SCORING_CHUNK_ROWS
            out, scores = score_batch(
                bundle,
                metadata,
                leads.frame.iloc[start:end],
                leads.rows[start:end],
                lang,
                leads.unknown_fields,
            )
            frames.append(pd.DataFrame(out))
            all_scores.append(scores)
            progress(min(end, total), total)
    frame = pd.concat(frames, ignore_index=True)
    first = all_scores[0]
    records = to_records(frame, *_record_context(first, lang))
    if rejects_path is not None and len(leads.rejects):
        write_table(leads.rejects, rejects_path, overwrite)
    else:
        rejects_path = None
    drift = unseen_lines(leads.report.problems) + drift  # new categories: drift, once
    if lead_json is None:
        notices += absent_lines(leads.report.problems, input_path)
    return ScoringReport(
        frame, records, all_scores, leads, metadata, lang, drift, rejects_path, notices
    )


DRIFT_SAMPLE_ROWS = 100_000
"""Drift at scoring is measured on at most this many valid rows, drawn uniformly at random
from the whole file (all of them in a smaller file): its PSI and noise tests need a sample,
not a million rows, and the sample keeps memory bounded."""


@dataclass
class FileScoringReport:
    """What scoring a file to a file did (the rows themselves are in the files)."""

    scored: int
    rejected: int
    first_rejects: list[tuple[int, str]]  # (row, problems) of the first rejected rows
    rejects_path: Path | None  # where the rejected rows were written, if any
    out: Path | None  # None: standard output
    status: str  # written, replaced or unchanged (standard output: written; table: shown)
    metadata: dict
    lang: str
    drift_warnings: list[str]
    # said once: about the bundle (an interrupted promotion), the file (absent columns)
    notices: list[str] = field(default_factory=list)
    shown: pd.DataFrame | None = None  # the table's rows: the first scored (writers.FirstRows)


def run_file_scoring(
    model_dir: str | Path | None,
    input_path: str | Path,
    out: Path | None,
    fmt: str,
    lang: str | None = None,
    overwrite: bool = False,
    progress: Counter = lambda done, total: None,
    before_output: Callable[[FileScoringReport], None] = lambda report: None,
    chunk_rows: int | None = None,
    rejects_next_to: Path | None = None,
) -> FileScoringReport:
    """Score a file of leads to ``out`` (``fmt``: csv, json, jsonl or parquet; ``out``
    None: standard output, not Parquet; ``fmt`` table: the first ``writers.TABLE_ROWS``
    rows kept in the report's ``shown`` for the terminal, no file) in bounded memory.

    The file is read, validated and scored one chunk at a time (:class:`leads.LeadStream`,
    ``chunk_rows`` defaults to ``leads.CHUNK_ROWS``, or :data:`WORKER_CHUNK_ROWS` when worker
    processes score it: ``jobs/parallel.py``); each chunk's scores are appended to a
    temporary file next to ``out`` (for standard output, in the system's temporary
    folder) and its rejected rows to one next to ``<rejects_next_to>.rejects.csv``
    (``rejects_next_to`` None: next to ``out``; writing to standard output, no rejects
    file). Neither may be the input (refused before any work, whatever ``overwrite``).
    Only when every row is done are they moved into place, after checking that both can
    be (an existing file with other contents is refused unless ``overwrite``): the
    rejects, then ``before_output(report)`` (the CLI prints drift and rejects), then
    ``out`` (or the scores are copied to standard output). Any error before leaves both
    files as they were and standard output empty. Drift is measured on a uniform sample
    of :data:`DRIFT_SAMPLE_ROWS` valid rows. Output bytes are those of :func:`run_scoring`
    + ``output.write_scores`` on the whole file."""
    from concurrent.futures.process import BrokenProcessPool

    from prospect_predictor.data.leads import CHUNK_ROWS, LeadStream, absent_lines, rejects_file
    from prospect_predictor.data.tableio import CsvAppender, check_output, check_replaceable
    from prospect_predictor.jobs.parallel import (
        WORKERS_VARIABLE,
        keep_freed_memory,
        lean_arrow_memory,
        one_blas_thread,
        ordered,
        spare_the_collector,
        start_pool,
        worker_count,
    )
    from prospect_predictor.monitoring.drift import RowSample, drift_warnings
    from prospect_predictor.registry.bundle import read_profile
    from prospect_predictor.scoring.writers import FirstRows, ScoresWriter

    rejects_next_to = rejects_next_to if rejects_next_to is not None else out
    rejects_path = rejects_file(rejects_next_to) if rejects_next_to is not None else None
    if out is not None:
        check_output(out, [input_path])
    if rejects_path is not None:
        check_output(rejects_path, [input_path], "the rejects file")
    bundle, metadata, lang, notices = _scoring_bundle(model_dir, lang)
    workers = worker_count(Path(input_path))
    keep_freed_memory()  # a file's chunks: the same sizes again and again
    lean_arrow_memory()
    # smaller chunks with workers: each of the three processes holds some (the three
    # processes' peaks summed, 1,000,000 leads, sampled from /proc: chunks of 20,000 rows
    # 955 MB, 10,000 rows 835 MB, at about the same speed)
    stream = LeadStream(
        input_path, metadata, chunk_rows or (WORKER_CHUNK_ROWS if workers else None)
    )
    # Parquet's row groups: the same whatever the chunks
    writer = FirstRows() if fmt == "table" else ScoresWriter(out, fmt, chunk_rows or CHUNK_ROWS)
    rejects = CsvAppender(rejects_path) if rejects_path is not None else None
    sample = RowSample(DRIFT_SAMPLE_ROWS)
    first_rejects: list[tuple[int, str]] = []
    pool = start_pool(workers, bundle)
    here = None if pool is not None else bundle  # a worker scores with the bundle it holds
    spool = None
    # each chunk validated, scored and encoded where it is (a row's scores are its own,
    # whatever rows are scored with it), a few chunks ahead of the one written; of its
    # valid rows, only those that can still make the drift sample come back
    stream.validate = lambda chunks: ordered(
        pool,
        scored_chunk,
        ((*chunk, lang, fmt, here, sample.limit, spool) for chunk in chunks),
        CHUNKS_AHEAD,
    )
    blas = one_blas_thread()  # as in the workers: the same bits whatever the workers
    try:
        # a worker writes its chunk's text to a file here, which the writer moves into the
        # output by the kernel: measured, 1,000,000 leads to CSV, the main process 8.4 ->
        # 7.3 core-seconds and the workers' 1 to 2 fewer than through the pipes
        if pool is not None and fmt in SPOOLED:
            spool = spool_folder(out if out is not None else writer.temp)
        spare_the_collector()  # given back in `finally`: this process may go on
        for chunk in stream:
            if rejects is not None:
                rejects.append(chunk.rejects)
            kept = zip(chunk.rejects["row"], chunk.rejects["problems"], strict=True)
            first_rejects.extend(
                (int(r), p) for r, p in list(kept)[: FIRST_REJECTS - len(first_rejects)]
            )
            sample.add(chunk.sample, chunk.sample_keys)
            for piece, rows in chunk.pieces:
                writer.append(piece, rows, chunk.header)
            progress(chunk.rows_read, stream.total)
        drift = drift_warnings(sample.frame, read_profile(bundle.path), None, metadata)
        drift = stream.unseen_lines() + drift  # categories never seen in training, once
        report = FileScoringReport(
            stream.scorable,
            stream.rejected,
            first_rejects,
            rejects_path if stream.rejected else None,
            out,
            "",
            metadata,
            lang,
            drift,
            notices + absent_lines(stream.absent, input_path),
        )
        progress(stream.rows_read, stream.rows_read)
        finished = writer.close()
        if out is not None:
            check_replaceable(finished, out, overwrite)  # both, before moving either
        if rejects is not None and rejects.close() is not None:
            check_replaceable(rejects.temp, rejects_path, overwrite)
            rejects.finish(overwrite)
        before_output(report)
        report.status = writer.finish(overwrite)
        if fmt == "table":
            report.shown = writer.frame
        return report
    except BrokenProcessPool as exc:
        raise ProspectError(
            f"{input_path}: a worker process scoring the file stopped unexpectedly ({exc}); "
            f"nothing was written. Run again; if it recurs, score in one process with "
            f"{WORKERS_VARIABLE}=1"
        ) from None
    finally:
        blas.restore_original_limits()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        writer.abort()
        if rejects is not None:
            rejects.abort()
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
        gc.unfreeze()


def spool_folder(out: Path) -> Path:
    """A new hidden folder next to ``out`` for the workers' pieces of it (the same file
    system, so moving them in is the kernel's copy); the caller removes it."""
    import tempfile

    folder = out.parent.resolve()  # absolute: the workers are other processes
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".parts", dir=folder))


WORKER_CHUNK_ROWS = 10_000  # rows read, validated and scored at a time by a worker
CHUNKS_AHEAD = 3  # chunks given to workers beyond the one waited for


@dataclass
class ScoredChunk:
    """A chunk of a file validated (as ``leads.LeadChunk``, without its valid rows), and
    its valid rows scored and encoded: ``pieces`` holds the output as the file holds it,
    (piece, rows) per batch (or, spooled, one (file, rows) for the chunk), ``header`` the
    CSV header's bytes (None for other formats), and
    ``sample`` the valid rows' features that can make the drift sample, with their keys
    (``drift.row_keys``)."""

    rows: np.ndarray  # the valid rows' 1-based row numbers in the file
    rejects: pd.DataFrame  # invalid rows as read, with `row` and `problems` first
    rows_read: int  # rows of the file read so far, this chunk included
    sample: pd.DataFrame
    sample_keys: np.ndarray
    pieces: list = field(default_factory=list)
    header: bytes | None = None


def scored_chunk(*arguments):
    """``leads.validate_chunk(*arguments[:-5])``, then the valid rows scored and encoded in
    batches of :data:`SCORING_CHUNK_ROWS` (``arguments[-5:]``: the language, the format,
    the bundle, or None in a worker process, which uses the one it holds, the drift
    sample's ``limit``, and a folder to spool CSV or JSON to, or None): the
    :class:`ScoredChunk` and the validation report. Spooled, the chunk's output is one
    file in that folder (its one piece), which the writer moves into the output and
    deletes: a worker's text then never goes through a pipe."""
    from prospect_predictor.data.leads import validate_chunk
    from prospect_predictor.jobs.parallel import held_bundle
    from prospect_predictor.monitoring.drift import compact_text, row_keys

    *validating, lang, fmt, bundle, limit, spool = arguments
    bundle = held_bundle(bundle)
    chunk, report = validate_chunk(*validating)
    valid = chunk.frame
    keys = row_keys(chunk.rows)
    candidates = keys < limit
    sample = valid[bundle.metadata["features"]]
    if not candidates.all():
        sample, keys = sample[candidates], keys[candidates]
    # its text as Arrow text: measured, 1,000,000 leads, the main process took 2 core-s
    # fewer (7.9 -> 6.0) making, cutting and freeing a Python object per cell
    sample = compact_text(sample)
    scored = ScoredChunk(chunk.rows, chunk.rejects, chunk.rows_read, sample, keys)
    for start in range(0, len(valid), SCORING_CHUNK_ROWS):
        end = start + SCORING_CHUNK_ROWS
        rows = chunk.rows[start:end]
        piece, header = encoded_batch(
            valid.iloc[start:end], rows, lang, fmt, bundle, header=not start
        )
        scored.pieces.append((piece, len(rows)))
        scored.header = scored.header or header
    if spool is not None and fmt in SPOOLED and scored.pieces:
        # named by the chunk's last row: one file per chunk, whatever the process
        path = Path(spool) / f"rows-{chunk.rows_read}.{fmt}"
        with path.open("xb") as handle:
            for piece, _ in scored.pieces:
                handle.write(piece)
        scored.pieces = [(path, len(chunk.rows))]
    # the report's problems, not its typed frame: the rows are scored here, and a worker
    # would send them all back (measured: pickling was 6 % of a worker's time)
    return scored, replace(report, frame=None, bad_rows=None)


SPOOLED = ("csv", "json", "jsonl")  # the formats whose pieces are bytes a worker can spool


def encoded_batch(frame, rows, lang: str, fmt: str, bundle, header: bool = False):
    """One batch of valid rows scored and encoded as the output file holds it, without
    the CSV header: the piece, and with ``header`` the CSV header (else None)."""
    import pandas as pd

    from prospect_predictor.scoring.writers import encode_batch, to_records

    out, scores = score_batch(bundle, bundle.metadata, frame, rows, lang)
    if fmt in ("json", "jsonl"):  # a column at a time where it can be (scoring/jsonlines.py)
        from prospect_predictor.scoring.jsonlines import json_bytes

        text = json_bytes(out, *_record_context(scores, lang), fmt)
        if text is not None:
            return text, None
    records = None
    if fmt in ("json", "jsonl"):
        records = to_records(pd.DataFrame(out), *_record_context(scores, lang))
    head = None
    if header and fmt == "csv":
        head = encode_batch(fmt, {name: values[:0] for name, values in out.items()}, [], True)
    return encode_batch(fmt, out, records, False), head


FIRST_REJECTS = 5


def _scoring_bundle(model_dir, lang):
    """The bundle (``model_dir`` or the default), its metadata, the language to use and
    notices about the bundle (a promotion that was interrupted: this command does not load
    MLflow to finish it, so it says which command does)."""
    from prospect_predictor.language import texts
    from prospect_predictor.registry.bundle import default_bundle, load_bundle, pending_promotion

    # The scoring form: JSON and arrays; scikit-learn is never imported, nothing unpickled.
    bundle = load_bundle(Path(model_dir) if model_dir else default_bundle())
    metadata = bundle.metadata
    notices = []
    pending = pending_promotion(bundle.path)
    if pending is not None:
        notices.append(
            f"the promotion of version {pending.get('version', '?')} to {bundle.path} was "
            f"interrupted; these scores use the bundle in place (version "
            f"{bundle.version or '?'}). Finish it with: prospect export"
        )
    return bundle, metadata, texts.check_language(lang or metadata.get("language", "en")), notices


def score_batch(bundle, metadata, frame, rows, lang, unknown_fields=None):
    """One batch of valid rows: the output columns (``score.batch_columns``, what
    ``to_frame`` makes a frame of) and the scores (the local and the Spark scorer's one
    scoring step)."""
    from prospect_predictor.scoring.score import batch_columns, score

    scores = score(bundle.model, metadata, frame, rows)
    return batch_columns(scores, metadata, lang, unknown_fields), scores


def _record_context(scores, lang) -> tuple[dict, str, str]:
    """What JSON records need besides the frame: base values, reference, unit."""
    from prospect_predictor.language import texts

    base = {c: float(scores.base[k]) for k, c in enumerate(scores.classes)}
    return base, scores.reference, texts.ui("unit", lang)
