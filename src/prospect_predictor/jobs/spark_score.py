"""`prospect score --engine spark`: a file of leads scored by Spark (a cluster, or Spark's
local mode) with the local scorer's own code, one partition at a time (docs/scale.md).

PySpark is the optional extra ``prospect-predictor[spark]``; it is imported only inside
these functions, so nothing else (``prospect --help`` included) loads it.

What runs where:

1. The driver loads and verifies the bundle (:func:`registry.bundle.load_bundle`) and
   broadcasts its files' bytes (``metadata.json``, ``scoring.json``, ``scoring.npz``: a
   few hundred KB). Workers rebuild the scoring form from those bytes
   (:func:`registry.bundle.bundle_from_files`), once per Python worker process: they never
   read the bundle folder nor depend on the driver's working directory. They need the
   package itself installed (the same wheel or image).
2. Spark reads the input: a CSV with every cell as text, as the local reader reads it
   (header, the delimiter the header line gives, RFC 4180 quotes, empty cells as ``""``,
   no line breaks inside quoted cells), or a Parquet file with its types.
3. One pass over the id column alone: how many rows each input partition holds (so each
   row gets its row number in the file) and which ids are used more than once anywhere.
4. ``mapInPandas``: each Arrow batch of a partition is validated like a chunk of the local
   stream (:func:`data.leads.validate_chunk`: the bundle's schema, the whole file's
   duplicates, derived features) and scored with :func:`jobs.score.score_batch` (``score``
   + ``to_frame``). Rejected rows and the partition's unseen categories come out of the
   same function, tagged, so the input is read and scored once (the result is persisted).
5. The scores are written as a folder of Parquet files, one per partition in file order;
   the rejects next to it as the local path writes them (``<stem>.rejects.csv``, the same
   bytes), or as ``<stem>.rejects.parquet`` when the output is not on the driver's disk.
6. Drift is measured on a uniform sample of about :data:`jobs.score.DRIFT_SAMPLE_ROWS`
   rows drawn by Spark and validated on the driver (the local path draws its sample
   otherwise, so the figures can differ a little; unseen categories are counted over
   every row, as locally).

Its length (about 540 lines) is one piece: the driver's passes and the workers' function
share the tagged result's columns and the row numbering, and change together.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_MASTER = "local[*]"
MID = "__prospect_mid"  # Spark's monotonically_increasing_id: partition << 33 | position
KIND, ROW, PROBLEMS = "__prospect_kind", "__prospect_row", "__prospect_problems"
RAW = "__prospect_raw__"  # a rejected row's cells as read, under their own names after it
POSITION_BITS = 33
HEAD_ROWS = 1_000  # rows validated on the driver first, for problems with the file itself
REJECT_ROWS_AT_ONCE = 10_000  # rejects brought to the driver a batch at a time
SPARK_CONF = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


@dataclass
class SparkScoringReport:
    """What scoring a file with Spark did (the rows are in the output folder)."""

    scored: int
    rejected: int
    first_rejects: list[tuple[int, str]]
    rejects_path: str | None
    out: str
    status: str  # written or replaced
    metadata: dict
    lang: str
    drift_warnings: list[str]
    master: str
    partitions: int
    notices: list[str] = field(default_factory=list)


def is_uri(path: str | Path) -> bool:
    """A path Spark resolves itself (``s3a://…``, ``hdfs://…``, ``file:///…``): the driver
    neither reads nor writes it with its own file functions."""
    return "://" in str(path)


def spark_session(master: str | None = None, conf: dict | None = None):
    """The Spark session: ``master`` if given, else ``spark.master`` from spark-submit or
    ``spark-defaults.conf``, else :data:`DEFAULT_MASTER` (every core of this machine)."""
    import warnings

    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    # PySpark 4.3 warns on every conversion that pandas 3 is "not yet fully supported";
    # the engine is tested equal to the local scorer on pandas 3 (tests/jobs/test_spark.py),
    # and docs/scale.md says so once instead of every run
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    SparkContext._ensure_initialized()  # loads spark-submit's and spark-defaults' settings
    builder = SparkSession.builder.appName("prospect score")
    if master or not SparkConf().contains("spark.master"):
        builder = builder.master(master or DEFAULT_MASTER)
    for key, value in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark_scoring(
    model_dir: str | Path | None,
    input_path: str | Path,
    out: str | Path,
    lang: str | None = None,
    overwrite: bool = False,
    master: str | None = None,
    spark=None,
    before_output: Callable[[SparkScoringReport], None] = lambda report: None,
) -> SparkScoringReport:
    """Score ``input_path`` (CSV or Parquet) to the Parquet folder ``out`` with Spark, as
    ``prospect score INPUT --out OUT.parquet`` scores it locally: the same columns and
    values row for row, the same rows rejected with the same messages and row numbers.
    ``spark``: a session to use (else :func:`spark_session` with ``master``). A local
    ``out`` is written through a hidden folder next to it and moved into place at the
    end (an existing one only with ``overwrite``); a URI is written by Spark in place."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from prospect_predictor.data.leads import rejects_file, validate_chunk
    from prospect_predictor.data.tableio import same_file, table_format
    from prospect_predictor.errors import InputFileError, ProspectError
    from prospect_predictor.jobs.score import FIRST_REJECTS, _scoring_bundle
    from prospect_predictor.scoring.score import output_columns

    local_out = not is_uri(out)
    if local_out:
        out = Path(out)
        if not is_uri(input_path) and same_file(out, input_path):
            raise ProspectError(f"--out {out}: is the input file {input_path}; choose another path")
        if out.exists() and not overwrite:
            raise ProspectError(
                f"{out}: already exists; it was left untouched. Choose another output path, "
                "or pass --overwrite to replace it."
            )
    table_format(Path(str(input_path)))  # a CSV or Parquet name, else the usual message
    bundle, metadata, lang, notices = _scoring_bundle(model_dir, lang)
    spark = spark or spark_session(master)
    with spark_errors(input_path):
        raw, text = read_input(spark, input_path)
        columns = list(raw.columns)

        head = _as_read(raw.limit(HEAD_ROWS).toPandas(), text)
        _, head_report = validate_chunk(head, metadata, input_path, duplicates={})
        # a missing column or a file without rows has stopped here, as locally
        notices = notices + _absent(head_report, input_path)

        offsets, duplicates = _first_pass(raw, metadata)
        job = {
            "files": bundle.files,
            "digest": hashlib.sha256(b"".join(bundle.files.values())).hexdigest(),
            "bundle": str(bundle.path),
            "lang": lang,
            "source": str(input_path),
            "offsets": offsets,
            "duplicates": duplicates,
            "text": text,
        }
        shipped = spark.sparkContext.broadcast(job)
        schema = _result_schema(raw.schema)
        result = raw.withColumn(MID, F.monotonically_increasing_id()).mapInPandas(
            lambda batches: score_partition(batches, shipped.value), schema
        )
        # on disk: kept off the JVM heap (1 GB by default in local mode, which the cached
        # columns and the Parquet writers' buffers together overflowed at 1,000,000 rows)
        result = result.persist(StorageLevel.DISK_ONLY)
        try:
            counts = {r[KIND]: r["count"] for r in result.groupBy(KIND).count().collect()}
            rejects = result.filter(F.col(KIND) == "reject").select(
                F.col(ROW).alias("row"),
                F.col(PROBLEMS).alias("problems"),
                *[F.col(RAW + c).alias(c) for c in columns],
            )
            report = SparkScoringReport(
                counts.get("scored", 0),
                counts.get("reject", 0),
                [(int(r["row"]), r["problems"]) for r in rejects.take(FIRST_REJECTS)],
                None,
                str(out),
                "",
                metadata,
                lang,
                [],
                spark.sparkContext.master,
                len(offsets),
                notices,
            )
            if not report.scored:
                raise InputFileError(
                    f"{input_path}: no row can be scored; every row has a problem, e.g.:\n"
                    + "\n".join(f"row {row}: {problems}" for row, problems in report.first_rejects)
                )
            report.drift_warnings = _unseen_lines(result, metadata) + _drift(
                raw, text, metadata, bundle, input_path, report.scored + report.rejected
            )
            names = [name for name, _ in output_columns()]
            scores = result.filter(F.col(KIND) == "scored").select(*names)
            if local_out:
                if report.rejected:
                    report.rejects_path = str(rejects_file(out))
                report.status = _write_local(scores, rejects, out, report, overwrite, before_output)
            else:
                mode = "overwrite" if overwrite else "errorifexists"
                if report.rejected:
                    report.rejects_path = _uri_rejects(str(out))
                    rejects.write.mode(mode).parquet(report.rejects_path)
                before_output(report)
                scores.write.mode(mode).parquet(str(out))
                report.status = "written"
            return report
        finally:
            _release(result, shipped)


def _release(*cached) -> None:
    """Drop what was persisted or broadcast, best effort: after a failed job the context
    may be gone, and the job's own error is the one to report."""
    for thing in cached:
        with suppress(Exception):  # nothing more to free
            thing.unpersist()


@contextmanager
def spark_errors(source) -> Iterator[None]:
    """Spark's errors (a path it cannot read, a malformed CSV line, a worker that failed)
    as a message naming the input, with Spark's own first line."""
    from pyspark.errors import PySparkException

    from prospect_predictor.errors import InputFileError

    try:
        yield
    except PySparkException as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        raise InputFileError(f"{source}: Spark could not score it: {first}") from None


def read_input(spark, input_path: str | Path):
    """The input as Spark reads it, and whether its cells are text (CSV). Column names are
    stripped (and a BOM dropped), as the local reader does."""
    from prospect_predictor.data.tableio import detect_delimiter, header_delimiter, table_format
    from prospect_predictor.errors import InputFileError

    path = str(input_path) if is_uri(input_path) else Path(input_path).absolute().as_uri()
    if not is_uri(input_path) and not Path(input_path).is_file():
        raise InputFileError(f"{input_path}: file not found")
    if table_format(Path(str(input_path))) == "parquet":
        frame, text = spark.read.parquet(path), False
    else:
        if is_uri(input_path):
            first = spark.read.text(path).first()
            delimiter = header_delimiter((first[0] if first else "").lstrip("\ufeff"), path)
        else:
            delimiter = detect_delimiter(Path(input_path))
        frame = (
            spark.read.option("header", True)
            .option("sep", delimiter)
            .option("quote", '"')
            .option("escape", '"')  # RFC 4180: a quote inside quotes is doubled
            .option("inferSchema", False)
            .option("mode", "FAILFAST")
            .option("encoding", "UTF-8")
            .csv(path)
        )
        text = True
    names = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    return frame.toDF(*names), text


def _as_read(frame: pd.DataFrame, text: bool) -> pd.DataFrame:
    """A batch as the local reader gives it: CSV cells as text, an empty cell ``""``."""
    if text:
        frame = frame.astype(object).where(frame.notna(), "")
    return frame


def _first_pass(raw, metadata: dict) -> tuple[dict[int, int], dict]:
    """Rows before each partition (partition -> rows in the partitions before it), and the
    whole file's duplicated ids as :func:`validate.duplicate_problem` words them, from the
    id column alone (every occurrence of an id used twice is rejected, as locally)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from prospect_predictor.data.leads import schema_of
    from prospect_predictor.data.validate import duplicate_problem

    schema = schema_of(metadata)
    ids = [n for n, spec in schema.columns.items() if spec.role == "id" and n in raw.columns]
    keys = raw.select(*ids, F.monotonically_increasing_id().alias(MID))
    if ids:
        specs = {name: schema.columns[name] for name in ids}
        keys = keys.mapInPandas(
            lambda batches: _id_keys(batches, specs),
            ", ".join([*(f"`{n}` string" for n in ids), f"`{MID}` long"]),
        )
    keys = keys.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = (
            keys.select(F.shiftright(F.col(MID), POSITION_BITS).alias("p"))
            .groupBy("p")
            .count()
            .collect()
        )
        offsets, before = {}, 0
        for row in sorted(counts, key=lambda r: r["p"]):
            offsets[int(row["p"])] = before
            before += int(row["count"])
        duplicates = {}
        for name in ids:
            twice = (
                keys.filter(F.col(name).isNotNull())
                .groupBy(name)
                .count()
                .filter(F.col("count") > 1)
                .select(name)
            )
            found = keys.join(twice, name, "left_semi").select(name, MID).collect()
            if found:
                rows = np.array([_row_number(r[MID], offsets) for r in found])
                order = np.argsort(rows, kind="stable")
                values = np.array([r[name] for r in found], dtype=object)[order]
                duplicates[name] = duplicate_problem(name, rows[order], values)
        return offsets, duplicates
    finally:
        _release(keys)


def _id_keys(batches: Iterator[pd.DataFrame], specs: dict) -> Iterator[pd.DataFrame]:
    """The id columns converted as validation compares them (text, None where missing)."""
    from prospect_predictor.data.validate import id_keys

    for batch in batches:
        for name, spec in specs.items():
            keys = id_keys(_as_read(batch[[name]], True)[name], spec)
            batch[name] = keys.map(lambda v: None if v is None else str(v))
        yield batch


def _row_number(mid: int, offsets: dict[int, int]) -> int:
    return offsets[mid >> POSITION_BITS] + (mid & ((1 << POSITION_BITS) - 1)) + 1


def _result_schema(input_schema):
    """What :func:`score_partition` yields: the output columns, a kind (scored, reject,
    unseen), the row number, a reject's problems, and a reject's cells as read."""
    from pyspark.sql import types as T

    from prospect_predictor.scoring.score import output_columns

    kinds = {"text": T.StringType(), "number": T.DoubleType(), "flag": T.BooleanType()}
    fields = [T.StructField(name, kinds[kind]) for name, kind in output_columns()]
    fields += [
        T.StructField(KIND, T.StringType()),
        T.StructField(ROW, T.LongType()),
        T.StructField(PROBLEMS, T.StringType()),
    ]
    fields += [T.StructField(RAW + f.name, f.dataType) for f in input_schema.fields]
    return T.StructType(fields)


_BUNDLES: dict = {}  # per Python worker process: the bundle rebuilt from its bytes, by digest


def _worker_bundle(job: dict):
    from prospect_predictor.registry.bundle import bundle_from_files

    if job["digest"] not in _BUNDLES:
        _BUNDLES.clear()
        _BUNDLES[job["digest"]] = bundle_from_files(Path(job["bundle"]), job["files"])
    return _BUNDLES[job["digest"]]


def score_partition(batches: Iterator[pd.DataFrame], job: dict) -> Iterator[pd.DataFrame]:
    """One partition on a worker: each batch validated, scored and yielded as output rows,
    its rejects as reject rows; at the end one row with the partition's unseen categories.
    The same functions as the local stream: ``validate_chunk``, ``score_batch``."""
    from prospect_predictor.data.leads import schema_of, unused_columns, validate_chunk
    from prospect_predictor.jobs.score import SCORING_CHUNK_ROWS, score_batch
    from prospect_predictor.scoring.score import output_columns

    bundle = _worker_bundle(job)
    metadata, lang = bundle.metadata, job["lang"]
    schema = schema_of(metadata)
    optional = unused_columns(schema, metadata)
    names = [name for name, _ in output_columns()]
    unseen = []
    raw_names: list[str] = []
    for batch in batches:
        if not len(batch):
            continue
        mids = batch.pop(MID).to_numpy(dtype=np.int64)
        if mids[-1] - mids[0] != len(mids) - 1:  # Spark gives a partition's rows in order
            raise RuntimeError("rows of a partition came out of order")
        first_row = _row_number(int(mids[0]), job["offsets"])
        raw = _as_read(batch, job["text"])
        raw.index = pd.RangeIndex(first_row - 1, first_row - 1 + len(raw))
        raw_names = list(raw.columns)
        chunk, report = validate_chunk(
            raw, metadata, job["source"], first_row, job["duplicates"], schema, optional
        )
        unseen += [p for p in report.warnings if p.kind == "unseen_category"]
        if len(chunk.rejects):
            yield _rows(chunk.rejects, "reject", names, raw_names)
        for start in range(0, len(chunk.frame), SCORING_CHUNK_ROWS):
            end = start + SCORING_CHUNK_ROWS
            rows = chunk.rows[start:end]
            columns, _ = score_batch(bundle, metadata, chunk.frame.iloc[start:end], rows, lang)
            out = pd.DataFrame(columns)
            out[ROW] = rows
            yield _rows(out, "scored", names, raw_names)
    if unseen:
        found = [
            {
                "column": p.column,
                "expected": p.expected,
                "rows": p.rows.tolist(),
                "found": [str(v) for v in p.found],
            }
            for p in unseen
        ]
        summary = pd.DataFrame({KIND: ["unseen"], PROBLEMS: [json.dumps(found)]})
        yield _rows(summary, None, names, raw_names)


def _rows(frame: pd.DataFrame, kind: str | None, names: list[str], raw: list[str]):
    """``frame`` with every column of the result schema (the absent ones empty)."""
    size = len(frame)
    empty = [None] * size
    columns = {}
    if kind == "reject":
        columns.update({name: empty for name in names})
        columns[KIND] = [kind] * size
        columns[ROW] = frame["row"].to_numpy()
        columns[PROBLEMS] = frame["problems"].to_numpy()
        columns.update({RAW + name: frame[name].to_numpy() for name in raw})
        return pd.DataFrame(columns)
    columns.update({name: frame.get(name, empty) for name in names})
    columns[KIND] = frame[KIND] if kind is None else [kind] * size
    columns[ROW] = frame.get(ROW, empty)
    columns[PROBLEMS] = frame.get(PROBLEMS, empty)
    columns.update({RAW + name: empty for name in raw})
    return pd.DataFrame(columns).reset_index(drop=True)


def _unseen_lines(result, metadata: dict) -> list[str]:
    """The categories never seen in training over every partition, said once per column
    as the local path says them."""
    from pyspark.sql import functions as F

    from prospect_predictor.data.leads import schema_of, unseen_lines
    from prospect_predictor.data.validate import Problem, merge_problems

    parts = []
    for row in result.filter(F.col(KIND) == "unseen").select(PROBLEMS).collect():
        for p in json.loads(row[PROBLEMS]):
            parts.append(
                Problem(
                    "warning",
                    "unseen_category",
                    p["column"],
                    "",
                    np.array(p["rows"]),
                    p["expected"],
                    np.array(p["found"], dtype=object),
                )
            )
    parts.sort(key=lambda p: int(p.rows[0]) if p.rows.size else 0)  # file order
    return unseen_lines(merge_problems(parts, list(schema_of(metadata).columns)))


def _drift(raw, text: bool, metadata: dict, bundle, source, total: int) -> list[str]:
    """Drift of a uniform sample of about DRIFT_SAMPLE_ROWS rows, drawn by Spark and
    validated on the driver (rows with a problem left out, as locally)."""
    from prospect_predictor.data.leads import validate_chunk
    from prospect_predictor.jobs.score import DRIFT_SAMPLE_ROWS
    from prospect_predictor.monitoring.drift import drift_warnings
    from prospect_predictor.registry.bundle import read_profile

    fraction = min(1.0, DRIFT_SAMPLE_ROWS / max(total, 1))
    sample = raw if fraction >= 1.0 else raw.sample(False, fraction, seed=0)
    sample = _as_read(sample.toPandas(), text)
    if not len(sample):
        return []
    chunk, _ = validate_chunk(sample, metadata, source, duplicates={})
    return drift_warnings(
        chunk.frame[metadata["features"]], read_profile(bundle.path), None, metadata
    )


def _absent(report, source) -> list[str]:
    from prospect_predictor.data.leads import absent_lines

    return absent_lines([p for p in report.warnings if p.kind == "absent_column"], source)


def _uri_rejects(out: str) -> str:
    stem = out.rstrip("/")
    stem = stem[: -len(".parquet")] if stem.endswith(".parquet") else stem
    return stem + ".rejects.parquet"


def _write_local(scores, rejects, out: Path, report, overwrite: bool, before_output) -> str:
    """Scores to a hidden folder next to ``out``, rejects through a temporary file next to
    theirs (the local path's bytes), then ``before_output(report)``, then the scores moved
    into place: ``written`` or ``replaced``. A failure leaves ``out`` as it was."""
    from prospect_predictor.data.tableio import CsvAppender, check_replaceable

    temp = out.parent / f".{out.name}.tmp-spark-{uuid.uuid4().hex[:8]}"
    appender = CsvAppender(Path(report.rejects_path)) if report.rejects_path else None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        scores.write.parquet(temp.absolute().as_uri())
        if appender is not None:
            for part in _in_parts(rejects.toLocalIterator(), rejects.columns):
                appender.append(part)
            check_replaceable(appender.close(), appender.path, overwrite)
            appender.finish(overwrite)
        before_output(report)
        if not out.exists():
            os.rename(temp, out)
            return "written"
        aside = out.parent / f".{out.name}.previous-{uuid.uuid4().hex[:8]}"
        os.rename(out, aside)
        os.rename(temp, out)
        if aside.is_dir():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink()
        return "replaced"
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        if appender is not None:
            appender.abort()


def _in_parts(rows, columns: list[str]) -> Iterator[pd.DataFrame]:
    part = []
    for row in rows:
        part.append(tuple(row))
        if len(part) == REJECT_ROWS_AT_ONCE:
            yield pd.DataFrame.from_records(part, columns=columns)
            part = []
    if part:
        yield pd.DataFrame.from_records(part, columns=columns)
