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

import numpy as np
import pandas as pd

from prospect_predictor.pipeline import Pipeline, load_pipeline, pipeline_summary
from prospect_predictor.train import History, TrainingResult, load_history, train

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
    from prospect_predictor import tracking

    progress("checking the pipeline and the history")
    pipeline = load_pipeline(pipeline_path)
    history = load_history(pipeline, data)
    result = train(pipeline, history, family=family, progress=progress)

    progress("explaining the model and drawing charts")
    with tracking.new_artifacts_dir() as folder:
        artifacts = Path(folder)
        profile = write_artifacts(artifacts, pipeline, history, result)
        progress("recording the run in MLflow")
        tracked = tracking.log_training_run(
            experiment=pipeline.name,
            model_name=pipeline.name,
            params=run_params(pipeline, history, result),
            metrics=run_metrics(result),
            artifacts_dir=artifacts,
            model=result.model,
            input_example=tracking.typical_input_example(
                history.features, pipeline.feature_types()
            ),
            tags={"kind": "training", "family": result.family},
        )
    exported = None
    if tracked.is_champion:
        progress("exporting the champion bundle")
        exported = export_champion(pipeline, result, history, tracked, profile)
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
    from prospect_predictor import tracking

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
    from prospect_predictor.bundle import library_versions
    from prospect_predictor.tracking import flatten

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
    from prospect_predictor import reports
    from prospect_predictor.explain import feature_contributions, global_importance

    classes, holdout = result.classes, result.holdout
    predicted = np.asarray(classes, dtype=object)[holdout.proba.argmax(axis=1)]
    reports.confusion_matrix_png(
        holdout.y_true, predicted, classes, folder / "confusion_matrix.png"
    )
    reports.calibration_curves_png(
        holdout.y_true, holdout.proba, classes, folder / "calibration_curves.png"
    )
    sample = history.features.sample(
        min(SHAP_SAMPLE_ROWS, len(history.features)), random_state=pipeline.config.validation.seed
    )
    values, _ = feature_contributions(result.model, sample)
    by_feature, by_reason = global_importance(
        values, result.model.feature_names, pipeline.feature_reasons, classes
    )
    reports.feature_importance_png(
        by_feature, pipeline.feature_reasons, folder / "shap_summary.png"
    )
    reports.reason_importance_png(by_reason, folder / "reason_importance.png")
    profile = reports.data_profile(history.features, pipeline.feature_types())
    reports.data_profile_png(
        history.features, pipeline.feature_types(), folder / "data_profile.png"
    )
    shutil.copyfile(pipeline.source, folder / "pipeline.toml")
    _write_json(folder / "data_profile.json", profile)
    _write_json(
        folder / "global_importance.json", {"by_reason": by_reason, "by_feature": by_feature}
    )
    _write_json(folder / "single_feature_auc.json", result.single_feature_auc)
    _write_json(folder / "holdout_metrics.json", result.holdout.metrics)
    _write_json(folder / "cv_metrics.json", result.cv_metrics)
    return profile


def export_champion(
    pipeline: Pipeline, result: TrainingResult, history: History, tracked, profile: dict
) -> Path:
    from prospect_predictor.bundle import export_bundle

    config = pipeline.config
    metadata = {
        "name": pipeline.name,
        "classes": result.classes,
        "features": pipeline.features,
        "feature_types": pipeline.feature_types(),
        "feature_reasons": pipeline.feature_reasons,
        "reasons_without_features": pipeline.reasons_without_features(),
        "id_column": pipeline.id_column,
        "date_column": pipeline.date_column,
        "outcome_column": pipeline.outcome_column,
        "outcome_labels": dict(config.outcome.labels),
        "schema": pipeline.schema.model_dump(mode="json"),
        "language": config.language,
        "recommendation": config.recommendation.model_dump(),
        "family": result.family,
        "metrics": {
            "holdout": result.holdout.metrics,
            "cv": result.cv_metrics,
            "holdout_kind": result.holdout_kind,
        },
        "mlflow": {
            "run_id": tracked.run_id,
            "model_name": tracked.model_name,
            "model_version": tracked.version,
            "tracking_uri": tracked.tracking_uri,
        },
        "data": {
            "file": history.source,
            "sha256": history.sha256,
            "rows": len(history.outcomes),
            "rows_per_class": result.rows_per_class,
        },
    }
    extra = {"profile.json": json.dumps(profile, indent=1, sort_keys=True).encode()}
    return export_bundle(bundle_dir(pipeline), result.model, metadata, extra_files=extra)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")


DEFAULT_BUNDLE = MODELS_DIR / "prospects"
SCORING_CHUNK_ROWS = 5_000
Counter = Callable[[int, int], None]


@dataclass
class ScoringReport:
    frame: pd.DataFrame  # the documented output columns, one row per scored prospect
    records: list[dict]  # the same as JSON records, with every reason x outcome contribution
    scores: list  # score.Scores per chunk
    leads: object  # leads.Leads
    metadata: dict
    lang: str


def run_scoring(
    model_dir: str | Path | None,
    input_path: str | Path | None = None,
    lead_json: str | None = None,
    lang: str | None = None,
    progress: Counter = lambda done, total: None,
    only_id: str | None = None,
) -> ScoringReport:
    """Score a file of leads (bad rows set aside) or one JSON lead with a bundle."""
    import pandas as pd

    from prospect_predictor import texts
    from prospect_predictor.bundle import load_bundle
    from prospect_predictor.leads import lead_from_json, read_leads
    from prospect_predictor.output import to_records
    from prospect_predictor.score import score, to_frame

    bundle = load_bundle(Path(model_dir) if model_dir else DEFAULT_BUNDLE)
    metadata = bundle.metadata
    lang = texts.check_language(lang or metadata.get("language", "en"))
    leads = (
        lead_from_json(lead_json, metadata)
        if lead_json is not None
        else read_leads(input_path, metadata)
    )
    if only_id is not None:
        leads = _one_prospect(leads, only_id, input_path, metadata)
    total = len(leads.frame)
    frames, all_scores = [], []
    for start in range(0, total, SCORING_CHUNK_ROWS):
        chunk = leads.frame.iloc[start : start + SCORING_CHUNK_ROWS]
        scores = score(bundle.model, metadata, chunk)
        frames.append(to_frame(scores, metadata, lang, leads.unknown_fields))
        all_scores.append(scores)
        progress(min(start + SCORING_CHUNK_ROWS, total), total)
    frame = pd.concat(frames, ignore_index=True)
    first = all_scores[0]
    base = {c: float(first.base[k]) for k, c in enumerate(first.classes)}
    records = to_records(frame, base, first.reference, texts.ui("unit", lang))
    return ScoringReport(frame, records, all_scores, leads, metadata, lang)


def _one_prospect(leads, prospect_id: str, input_path, metadata: dict):
    """Keep the one prospect ``prospect_id`` of a file (for ``prospect explain``)."""
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.leads import Leads

    id_column = metadata.get("id_column")
    if not id_column:
        raise ProspectError("this model's history has no id column: use --lead instead")
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
