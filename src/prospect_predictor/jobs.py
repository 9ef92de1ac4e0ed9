"""Jobs that wire the pure steps to their side effects: training -> MLflow -> bundle.

Each job is one function the CLI (and the demo) calls; it reports progress through a
callback and returns what the user should be told.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # training pulls in scikit-learn's model selection and SciPy, the
    # pipeline config builds pydantic models: scoring needs neither
    from prospect_predictor.config.pipeline import Pipeline
    from prospect_predictor.modeling.train import History, TrainingResult

Progress = Callable[[str], None]
MODELS_DIR = Path("models")
SHAP_SAMPLE_ROWS = 2_000


@dataclass
class TrainingReport:
    pipeline: Pipeline
    history: History
    result: TrainingResult
    run_id: str
    model_version: str
    champion_version: str
    is_champion: bool
    bundle_dir: Path | None
    ui_command: str


def bundle_dir(pipeline: Pipeline) -> Path:
    return MODELS_DIR / pipeline.name


def run_training(
    data: str | Path,
    pipeline_path: str | Path | None = None,
    family: str | None = None,
    progress: Progress = lambda step: None,
) -> TrainingReport:
    """Train on ``data``, record the run in MLflow, export the bundle if it is champion."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.train import load_history, train
    from prospect_predictor.registry import tracking

    progress("checking the pipeline and the history")
    pipeline = load_pipeline(pipeline_path)
    history = load_history(pipeline, data)
    result = train(pipeline, history, family=family, progress=progress)

    tracked, profile = record_model(
        pipeline, history, result, {"kind": "training"}, progress=progress
    )
    exported = None
    if not tracked.champion_version:  # the first version becomes champion
        progress("exporting the champion bundle")
        exported = export_champion(pipeline, result, history, tracked, profile)
        tracking.set_champion(tracked, {"promoted": "true", "promotion": "first version"})
    return _training_report(pipeline, history, result, tracked, exported)


def record_model(
    pipeline: Pipeline,
    history: History,
    result: TrainingResult,
    tags: dict[str, str],
    extra_metrics: dict[str, float] | None = None,
    extra_files: dict[str, object] | None = None,
    progress: Progress = lambda step: None,
):
    """Charts and files, then one MLflow run with the model registered (alias untouched).
    Returns the tracked version and the training data profile."""
    from prospect_predictor.registry import tracking

    progress("explaining the model and drawing charts")
    with tracking.new_artifacts_dir() as folder:
        artifacts = Path(folder)
        profile = write_artifacts(artifacts, pipeline, history, result)
        for name, content in (extra_files or {}).items():
            _write_json(artifacts / name, content)
        progress("recording the run in MLflow")
        tracked = tracking.log_training_run(
            experiment=pipeline.name,
            model_name=pipeline.name,
            params=run_params(pipeline, history, result),
            metrics={**run_metrics(result), **(extra_metrics or {})},
            artifacts_dir=artifacts,
            model=result.model,
            input_example=tracking.typical_input_example(
                history.features, pipeline.feature_types()
            ),
            tags={"family": result.family, **tags},
        )
    return tracked, profile


def _training_report(pipeline, history, result, tracked, exported) -> TrainingReport:
    from prospect_predictor.registry import tracking

    return TrainingReport(
        pipeline,
        history,
        result,
        tracked.run_id,
        tracked.version,
        tracked.champion_version,
        tracked.is_champion,
        exported,
        tracking.ui_command(),
    )


@dataclass
class Candidate:
    family: str
    result: TrainingResult
    run_id: str


def run_comparison(
    data: str | Path,
    pipeline_path: str | Path | None = None,
    families: list[str] | None = None,
    progress: Progress = lambda step: None,
) -> tuple[Pipeline, list[Candidate]]:
    """Train each family on the same folds and holdout; one MLflow run per family in the
    experiment ``<name>-comparison``. Nothing is registered or exported."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.train import load_history, train
    from prospect_predictor.registry import tracking

    pipeline = load_pipeline(pipeline_path)
    history = load_history(pipeline, data)
    config = pipeline.config.model
    families = families or [config.family, *[f for f in config.compare_with if f != config.family]]
    candidates = []
    for family in families:
        progress(f"training {family}")
        result = train(
            pipeline,
            history,
            family=family,
            progress=lambda step, f=family: progress(f"{f}: {step}"),
        )
        run_id = tracking.log_plain_run(
            experiment=f"{pipeline.name}-comparison",
            params=run_params(pipeline, history, result),
            metrics=run_metrics(result),
            tags={"kind": "comparison", "family": family, "data.sha256": history.sha256},
        )
        candidates.append(Candidate(family, result, run_id))
    return pipeline, candidates


def run_params(pipeline: Pipeline, history: History, result: TrainingResult) -> dict[str, str]:
    from prospect_predictor.config.pipeline import pipeline_summary
    from prospect_predictor.registry.bundle import library_versions
    from prospect_predictor.registry.tracking import flatten

    params = flatten(pipeline_summary(pipeline), "pipeline.")
    params.update(flatten(result.params, "model.effective_params."))
    params.update(
        {
            "data.file": history.source,
            "data.sha256": history.sha256,
            "data.rows": str(len(history.outcomes)),
            "data.train_rows": str(result.n_train),
            "data.holdout_rows": str(len(result.holdout.y_true)),
            "data.holdout_kind": result.holdout_kind,
            "model.family": result.family,
            "model.classes": json.dumps(result.classes),
        }
    )
    params.update({f"data.rows_{c}": str(n) for c, n in result.rows_per_class.items()})
    params.update({f"version.{k}": v for k, v in library_versions().items()})
    return params


def run_metrics(result: TrainingResult) -> dict[str, float]:
    metrics = dict(result.holdout.metrics)
    metrics.update({f"cv_{k}": v for k, v in result.cv_metrics.items()})
    metrics.update(
        {
            f"uncalibrated_{k}": result.uncalibrated_holdout_metrics[k]
            for k in ("log_loss", "ece", "brier")
        }
    )
    metrics["calibration_scale"] = result.model.scale
    metrics["train_seconds"] = float(sum(result.seconds.values()))
    return metrics


def write_artifacts(
    folder: Path, pipeline: Pipeline, history: History, result: TrainingResult
) -> dict:
    """Charts and files an analyst reviews in MLflow; returns the training data profile."""
    from prospect_predictor.explaining.contributions import feature_contributions, global_importance
    from prospect_predictor.reporting import charts

    classes, holdout = result.classes, result.holdout
    predicted = np.asarray(classes, dtype=object)[holdout.proba.argmax(axis=1)]
    charts.confusion_matrix_png(holdout.y_true, predicted, classes, folder / "confusion_matrix.png")
    charts.calibration_curves_png(
        holdout.y_true, holdout.proba, classes, folder / "calibration_curves.png"
    )
    sample = history.features.sample(
        min(SHAP_SAMPLE_ROWS, len(history.features)), random_state=pipeline.config.validation.seed
    )
    values, _ = feature_contributions(result.model, sample)
    by_feature, by_reason = global_importance(
        values, result.model.feature_names, pipeline.feature_reasons, classes
    )
    charts.feature_importance_png(by_feature, pipeline.feature_reasons, folder / "shap_summary.png")
    charts.reason_importance_png(by_reason, folder / "reason_importance.png")
    profile = charts.data_profile(history.features, pipeline.feature_types())
    charts.data_profile_png(history.features, pipeline.feature_types(), folder / "data_profile.png")
    shutil.copyfile(pipeline.source, folder / "pipeline.toml")
    _write_json(folder / "data_profile.json", profile)
    _write_json(
        folder / "global_importance.json", {"by_reason": by_reason, "by_feature": by_feature}
    )
    _write_json(folder / "single_feature_auc.json", result.single_feature_auc)
    _write_json(folder / "holdout_metrics.json", result.holdout.metrics)
    _write_json(folder / "cv_metrics.json", result.cv_metrics)
    _write_json(folder / "holdout_drift.json", {"warnings": result.holdout_drift})
    _write_json(folder / "bundle_metadata.json", bundle_metadata(pipeline, result, history))
    return profile


def bundle_metadata(pipeline: Pipeline, result: TrainingResult, history: History) -> dict:
    """Everything scoring needs besides the model itself (JSON-serialisable)."""
    config = pipeline.config
    return {
        "name": pipeline.name,
        "classes": result.classes,
        "features": pipeline.features,
        "feature_types": pipeline.feature_types(),
        "feature_reasons": pipeline.feature_reasons,
        "derived": pipeline.derived_metadata(),
        "reasons_without_features": pipeline.reasons_without_features(),
        "id_column": pipeline.id_column,
        "date_column": pipeline.date_column,
        "outcome_column": pipeline.outcome_column,
        "outcome_labels": dict(config.outcome.labels),
        "schema": pipeline.schema.model_dump(mode="json"),
        "language": config.language,
        "recommendation": config.recommendation.model_dump(),
        "promotion": config.promotion.model_dump(),
        "family": result.family,
        "metrics": {
            "holdout": result.holdout.metrics,
            "cv": result.cv_metrics,
            "holdout_kind": result.holdout_kind,
        },
        "data": {
            "file": history.source,
            "sha256": history.sha256,
            "rows": len(history.outcomes),
            "rows_per_class": result.rows_per_class,
        },
    }


def export_champion(
    pipeline: Pipeline, result: TrainingResult, history: History, tracked, profile: dict
) -> Path:
    from prospect_predictor.registry.bundle import export_bundle

    metadata = bundle_metadata(pipeline, result, history)
    metadata["mlflow"] = {
        "run_id": tracked.run_id,
        "model_name": tracked.model_name,
        "model_version": tracked.version,
        "tracking_uri": tracked.tracking_uri,
    }
    extra = {"profile.json": json.dumps(profile, indent=1, sort_keys=True).encode()}
    return export_bundle(bundle_dir(pipeline), result.model, metadata, extra_files=extra)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")


DEFAULT_BUNDLE = MODELS_DIR / "prospects"
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


def run_scoring(
    model_dir: str | Path | None,
    input_path: str | Path | None = None,
    lead_json: str | None = None,
    lang: str | None = None,
    progress: Counter = lambda done, total: None,
    only_id: str | None = None,
) -> ScoringReport:
    """Score a file of leads (bad rows set aside) or one JSON lead with a bundle, keeping
    every row's output in memory (for a table, stdout or one prospect); a file scored to a
    file streams instead (:func:`run_file_scoring`)."""
    import pandas as pd

    from prospect_predictor.data.leads import lead_from_json, read_leads
    from prospect_predictor.monitoring.drift import RowSample
    from prospect_predictor.scoring.writers import to_records

    bundle, metadata, lang = _scoring_bundle(model_dir, lang)
    leads = (
        lead_from_json(lead_json, metadata)
        if lead_json is not None
        else read_leads(input_path, metadata)
    )
    drift = []
    if only_id is not None:
        leads = _one_prospect(leads, only_id, input_path, metadata)
    elif lead_json is None:
        sample = RowSample(DRIFT_SAMPLE_ROWS)
        sample.add(leads.frame[metadata["features"]])
        drift = _drift_warnings(sample.frame, _bundle_profile(bundle.path), None, metadata)
    total = len(leads.frame)
    frames, all_scores = [], []
    for start in range(0, total, SCORING_CHUNK_ROWS):
        end = start + SCORING_CHUNK_ROWS
        out, scores = _score_batch(
            bundle,
            metadata,
            leads.frame.iloc[start:end],
            leads.rows[start:end],
            lang,
            leads.unknown_fields,
        )
        frames.append(out)
        all_scores.append(scores)
        progress(min(end, total), total)
    frame = pd.concat(frames, ignore_index=True)
    first = all_scores[0]
    records = to_records(frame, *_record_context(first, lang))
    return ScoringReport(frame, records, all_scores, leads, metadata, lang, drift)


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
    out: Path
    status: str  # written, replaced or unchanged
    metadata: dict
    lang: str
    drift_warnings: list[str]


def run_file_scoring(
    model_dir: str | Path | None,
    input_path: str | Path,
    out: Path,
    fmt: str,
    lang: str | None = None,
    overwrite: bool = False,
    progress: Counter = lambda done, total: None,
    before_output: Callable[[FileScoringReport], None] = lambda report: None,
    chunk_rows: int | None = None,
) -> FileScoringReport:
    """Score a file of leads to ``out`` (``fmt``: csv, json or parquet) in bounded memory.

    The file is read, validated and scored one chunk at a time (:class:`leads.LeadStream`,
    ``chunk_rows`` defaults to ``leads.CHUNK_ROWS``); each chunk's scores are appended to a
    temporary file next to ``out`` and its rejected rows to one next to
    ``<out>.rejects.csv``. Only when every row is done are they moved into place: the
    rejects (replaced on each run, as before), then ``before_output(report)`` (the CLI
    prints drift and rejects), then ``out`` (refused if it exists with other contents and
    not ``overwrite``). Any error before leaves both files as they were. Drift is measured
    on a uniform sample of :data:`DRIFT_SAMPLE_ROWS` valid rows. Output bytes are those of
    :func:`run_scoring` + ``output.write_scores`` on the whole file."""
    from prospect_predictor.data.leads import LeadStream
    from prospect_predictor.data.tableio import CsvAppender
    from prospect_predictor.monitoring.drift import RowSample
    from prospect_predictor.scoring.writers import ScoresWriter, to_records

    bundle, metadata, lang = _scoring_bundle(model_dir, lang)
    stream = LeadStream(input_path, metadata, chunk_rows)
    rejects_path = out.with_name(out.stem + ".rejects.csv")
    writer = ScoresWriter(out, fmt, stream.chunk_rows)
    rejects = CsvAppender(rejects_path)
    sample = RowSample(DRIFT_SAMPLE_ROWS)
    first_rejects: list[tuple[int, str]] = []
    context = None

    def each_chunk(chunk) -> None:  # as it is read: its rejects, and the drift sample
        rejects.append(chunk.rejects)
        kept = zip(chunk.rejects["row"], chunk.rejects["problems"], strict=True)
        first_rejects.extend(
            (int(r), p) for r, p in list(kept)[: FIRST_REJECTS - len(first_rejects)]
        )
        sample.add(chunk.frame[metadata["features"]])

    try:
        for frame, rows in _batches(stream, SCORING_CHUNK_ROWS, each_chunk):
            out_frame, scores = _score_batch(bundle, metadata, frame, rows, lang)
            context = context or _record_context(scores, lang)
            writer.write(out_frame, to_records(out_frame, *context) if fmt == "json" else None)
            progress(int(rows[-1]), stream.total)
        drift = _drift_warnings(sample.frame, _bundle_profile(bundle.path), None, metadata)
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
        )
        progress(stream.rows_read, stream.rows_read)
        rejects.finish(overwrite=True)
        before_output(report)
        report.status = writer.finish(overwrite)
        return report
    finally:
        writer.abort()
        rejects.abort()


FIRST_REJECTS = 5


def _batches(chunks, size: int, each_chunk: Callable):
    """The valid rows of ``chunks`` (leads.LeadChunk) as (frame, row numbers) batches of
    exactly ``size`` rows in file order (the last may be shorter), whatever the chunks'
    sizes: the batches :func:`run_scoring` scores for the whole file, so the scores are the
    same to the last bit (explained values can differ in the last bit with the batch).
    ``each_chunk`` sees every chunk as it is read."""
    frames, numbers, held = [], [], 0
    for chunk in chunks:
        each_chunk(chunk)
        if not len(chunk.frame):
            continue
        frames.append(chunk.frame)
        numbers.append(chunk.rows)
        held += len(chunk.frame)
        while held >= size:
            frame = pd.concat(frames) if len(frames) > 1 else frames[0]
            rows = np.concatenate(numbers) if len(numbers) > 1 else numbers[0]
            yield frame.iloc[:size], rows[:size]
            held -= size
            frames, numbers = ([frame.iloc[size:]], [rows[size:]]) if held else ([], [])
    if held:
        yield (
            pd.concat(frames) if len(frames) > 1 else frames[0],
            np.concatenate(numbers) if len(numbers) > 1 else numbers[0],
        )


def _scoring_bundle(model_dir, lang):
    """The bundle (``model_dir`` or the default), its metadata and the language to use."""
    from prospect_predictor.language import texts
    from prospect_predictor.registry.bundle import load_bundle

    # The scoring form when the bundle has one: scikit-learn is then never imported.
    bundle = load_bundle(Path(model_dir) if model_dir else default_bundle(), for_scoring=True)
    metadata = bundle.metadata
    return bundle, metadata, texts.check_language(lang or metadata.get("language", "en"))


def _score_batch(bundle, metadata, frame, rows, lang, unknown_fields=None):
    """One batch of valid rows: the output frame and the scores."""
    from prospect_predictor.scoring.score import score, to_frame

    scores = score(bundle.model, metadata, frame, rows)
    return to_frame(scores, metadata, lang, unknown_fields), scores


def _record_context(scores, lang) -> tuple[dict, str, str]:
    """What JSON records need besides the frame: base values, reference, unit."""
    from prospect_predictor.language import texts

    base = {c: float(scores.base[k]) for k, c in enumerate(scores.classes)}
    return base, scores.reference, texts.ui("unit", lang)


def default_bundle() -> Path:
    """models/prospects/; if it is absent but other bundles exist, say which to pick."""
    from prospect_predictor.errors import ProspectError

    if (DEFAULT_BUNDLE / "manifest.json").exists() or not MODELS_DIR.is_dir():
        return DEFAULT_BUNDLE
    others = sorted(p.parent for p in MODELS_DIR.glob("*/manifest.json"))
    if others:
        choices = ", ".join(f"--model {p}" for p in others)
        raise ProspectError(f"no model bundle at {DEFAULT_BUNDLE}; this folder has: {choices}")
    return DEFAULT_BUNDLE


def _one_prospect(leads, prospect_id: str, input_path, metadata: dict):
    """Keep the one prospect ``prospect_id`` of a file (for ``prospect explain``)."""
    from prospect_predictor.data.leads import Leads
    from prospect_predictor.errors import ProspectError

    id_column = metadata.get("id_column")
    if not id_column:  # prospects are named by their row in the file
        if not str(prospect_id).isdigit():
            raise ProspectError(
                f"{input_path} has no id column: name the prospect by its row "
                "number (1 = the first row after the header)"
            )
        match = leads.rows == int(prospect_id)
        if not match.any():
            raise ProspectError(
                f"{input_path}: no scorable row {prospect_id} (rows 1 to "
                f"{int(leads.rows.max()):,}; rejected rows cannot be explained)"
            )
        return Leads(leads.frame[match], leads.rows[match], leads.rejects.iloc[0:0], leads.report)
    match = (leads.frame[id_column].astype(str) == str(prospect_id)).to_numpy()
    if match.any():
        return Leads(leads.frame[match], leads.rows[match], leads.rejects.iloc[0:0], leads.report)
    rejected = (
        leads.rejects[leads.rejects[id_column].astype(str) == str(prospect_id)]
        if (id_column in leads.rejects)
        else leads.rejects.iloc[0:0]
    )
    if len(rejected):
        row = rejected.iloc[0]
        raise ProspectError(
            f"{input_path}: prospect {prospect_id!r} (row {row['row']}) cannot "
            f"be scored: {row['problems']}"
        )
    examples = ", ".join(map(str, leads.frame[id_column].head(3)))
    raise ProspectError(
        f"{input_path}: no prospect with {id_column} {prospect_id!r} among "
        f"{len(leads.frame):,} rows (ids look like: {examples})"
    )


# --- evaluation -------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    metrics: dict[str, float]
    classes: list[str]
    rows: int
    model_label: str
    model_version: str
    run_id: str
    reason_importance: dict
    drift_warnings: list[str]


def resolve_model(reference: str | None, pipeline_path: str | Path | None):
    """``--model``: a bundle folder, ``champion`` (the exported bundle, the default) or a
    registered VERSION number. Returns (model, metadata, profile or None, label)."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.bundle import load_bundle

    reference = reference or "champion"
    if Path(reference).is_dir():
        bundle = load_bundle(Path(reference))
        return bundle.model, bundle.metadata, _bundle_profile(bundle.path), str(reference)
    pipeline = load_pipeline(pipeline_path)
    if reference == "champion":
        bundle = load_bundle(bundle_dir(pipeline))
        return bundle.model, bundle.metadata, _bundle_profile(bundle.path), "champion"
    if reference.isdigit():
        model, metadata = tracking.load_registered(pipeline.name, reference)
        return model, metadata, None, f"version {reference}"
    from prospect_predictor.errors import ProspectError

    raise ProspectError(
        f"--model {reference!r}: expected champion, a version number or a "
        "bundle folder (no such folder)"
    )


def _bundle_profile(path: Path) -> dict | None:
    profile = path / "profile.json"
    return json.loads(profile.read_text()) if profile.exists() else None


def run_evaluation(
    data: str | Path,
    model_ref: str | None = None,
    pipeline_path: str | Path | None = None,
    progress: Progress = lambda step: None,
) -> EvaluationReport:
    """Score a labelled file, measure, chart, and log an evaluation run in MLflow."""
    from prospect_predictor.explaining.contributions import feature_contributions, global_importance
    from prospect_predictor.monitoring.evaluate import evaluate, read_labelled
    from prospect_predictor.registry import tracking
    from prospect_predictor.reporting import charts

    progress("loading the model and the labelled file")
    model, metadata, profile, label = resolve_model(model_ref, pipeline_path)
    labelled = read_labelled(data, metadata)
    classes = list(metadata["classes"])
    progress("scoring and measuring")
    metrics, proba = evaluate(model, metadata, labelled.features, labelled.outcomes)
    drift = _drift_warnings(labelled.features, profile, labelled.outcomes, metadata)
    progress("drawing charts and recording the evaluation run in MLflow")
    with tracking.new_artifacts_dir() as folder:
        artifacts = Path(folder)
        predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        charts.confusion_matrix_png(
            labelled.outcomes, predicted, classes, artifacts / "confusion_matrix.png"
        )
        charts.calibration_curves_png(
            labelled.outcomes, proba, classes, artifacts / "calibration_curves.png"
        )
        sample = labelled.features.head(SHAP_SAMPLE_ROWS)
        values, _ = feature_contributions(model, sample)
        _, by_reason = global_importance(
            values, list(metadata["features"]), metadata["feature_reasons"], classes
        )
        charts.reason_importance_png(by_reason, artifacts / "reason_importance.png")
        _write_json(artifacts / "metrics.json", metrics)
        _write_json(artifacts / "drift.json", {"warnings": drift})
        version = str(metadata.get("mlflow", {}).get("model_version", ""))
        run_id = tracking.log_evaluation_run(
            experiment=metadata["name"],
            params={
                "data.file": labelled.source,
                "data.sha256": labelled.sha256,
                "data.rows": str(len(labelled.outcomes)),
                "model": label,
                "model.version": version,
            },
            metrics=metrics,
            artifacts_dir=artifacts,
            tags={
                "kind": "evaluation",
                "model_version": version,
                "evaluated_run_id": str(metadata.get("mlflow", {}).get("run_id", "")),
            },
        )
    return EvaluationReport(
        metrics, classes, len(labelled.outcomes), label, version, run_id, by_reason, drift
    )


def _drift_warnings(features, profile, outcomes, metadata) -> list[str]:
    if not profile:
        return []
    from prospect_predictor.monitoring.drift import drift_report

    rows = metadata.get("data", {}).get("rows_per_class") or {}
    total = sum(rows.values())
    shares = {k: v / total for k, v in rows.items()} if total and outcomes is not None else None
    return drift_report(features, profile, outcomes if shares else None, shares).warnings


# --- retraining with a promotion gate ---------------------------------------------------


@dataclass
class RetrainReport:
    training: TrainingReport
    gate: object | None  # evaluate.GateResult, None without a champion to compare with
    champion_metrics: dict | None
    promoted: bool
    forced: bool
    previous_version: str | None
    drift_warnings: list[str]


def run_retrain(
    data: str | Path,
    pipeline_path: str | Path | None = None,
    force: bool = False,
    reason: str | None = None,
    progress: Progress = lambda step: None,
) -> RetrainReport:
    """Train a challenger; promote it only through the gate (or ``force`` with a reason)."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.modeling.train import load_history, train
    from prospect_predictor.monitoring.evaluate import promotion_gate
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.bundle import load_bundle

    if force and not (reason or "").strip():
        raise ProspectError("--force needs --reason TEXT: the reason is recorded in the run")
    progress("checking the pipeline and the history")
    pipeline = load_pipeline(pipeline_path)
    history = load_history(pipeline, data)
    folder = bundle_dir(pipeline)
    champion = load_bundle(folder) if (folder / "manifest.json").exists() else None
    drift: list[str] = []
    if champion is not None:
        progress("comparing the new history with the champion's training data")
        drift = _drift_warnings(
            history.features, _bundle_profile(folder), history.outcomes, champion.metadata
        )
    result = train(pipeline, history, progress=progress)

    gate, champion_metrics = None, None
    if champion is not None:
        if list(champion.metadata["classes"]) != result.classes:
            if not force:
                raise ProspectError(
                    f"the challenger predicts {result.classes} but the champion "
                    f"{champion.metadata['classes']}: they cannot be compared on one holdout. "
                    "Use --force --reason TEXT to replace the champion anyway."
                )
        else:
            progress("measuring the champion on the challenger's holdout")
            from prospect_predictor.modeling.metrics import classification_metrics

            proba = champion.model.predict_proba(result.holdout.features)
            champion_metrics = classification_metrics(result.holdout.y_true, proba, result.classes)
            rules = pipeline.config.promotion
            gate = promotion_gate(
                result.holdout.metrics,
                champion_metrics,
                result.classes,
                rules.max_log_loss_increase,
                rules.max_roc_auc_drop,
                rules.min_roc_auc_macro,
            )
    promote = champion is None or force or (gate is not None and gate.passed)

    tags = {
        "kind": "retrain",
        "gate": "none" if gate is None else ("passed" if gate.passed else "failed"),
        "drift_warnings": str(len(drift)),
    }
    if champion is not None:
        tags["champion_version"] = str(champion.metadata["mlflow"]["model_version"])
    files: dict[str, object] = {"drift.json": {"warnings": drift}}
    if gate is not None:
        files["promotion_gate.json"] = gate.to_dict()
    tracked, profile = record_model(
        pipeline,
        history,
        result,
        tags,
        extra_metrics={f"champion_{k}": v for k, v in (champion_metrics or {}).items()},
        extra_files=files,
        progress=progress,
    )
    previous = tracked.champion_version or None
    exported = None
    if promote:
        progress("promoting: exporting the bundle and moving the champion alias")
        exported = export_champion(pipeline, result, history, tracked, profile)
        tracking.set_champion(
            tracked,
            {
                "promoted": "true",
                "forced": str(bool(force)).lower(),
                **({"force_reason": reason} if force else {}),
            },
        )
    else:
        tracking.tag_run(tracked.run_id, {"promoted": "false"})
    training = _training_report(pipeline, history, result, tracked, exported)
    return RetrainReport(training, gate, champion_metrics, promote, force, previous, drift)


# --- reviewing runs ---------------------------------------------------------------------

RUN_COLUMNS = ("log_loss", "roc_auc_macro", "balanced_accuracy", "ece", "cv_log_loss")


def list_runs(pipeline_path: str | Path | None = None, limit: int = 20):
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.registry import tracking

    pipeline = load_pipeline(pipeline_path)
    return tracking.recent_runs([pipeline.name, f"{pipeline.name}-comparison"], limit)


def compare_runs(run_a: str, run_b: str) -> tuple[dict, dict]:
    """Params and metrics that differ between two runs: name -> (a, b)."""
    from prospect_predictor.registry import tracking

    a, b = tracking.get_run(run_a), tracking.get_run(run_b)
    params = {
        k: (a.data.params.get(k), b.data.params.get(k))
        for k in sorted(set(a.data.params) | set(b.data.params))
        if a.data.params.get(k) != b.data.params.get(k)
    }
    metrics = {
        k: (a.data.metrics.get(k), b.data.metrics.get(k))
        for k in sorted(set(a.data.metrics) | set(b.data.metrics))
        if a.data.metrics.get(k) != b.data.metrics.get(k)
    }
    return params, metrics
