"""`prospect train`: train on a history, record the run in MLflow, export the first champion.

:func:`record_model` and :func:`export_champion` are shared with ``prospect retrain``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # training pulls in scikit-learn's model selection and SciPy, the
    # pipeline config builds pydantic models: scoring needs neither
    from prospect_predictor.config.pipeline import Pipeline
    from prospect_predictor.modeling.train import History, TrainingResult
    from prospect_predictor.scoring.decision import TierTable

Progress = Callable[[str], None]


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
    tiers: TierTable | None = None  # the holdout in the recommendation tiers


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

    tracked, profile, tiers = record_model(
        pipeline, history, result, {"kind": "training"}, progress=progress
    )
    exported = None
    if not tracked.champion_version:  # the first version becomes champion
        progress("exporting the champion bundle")
        exported = export_champion(pipeline, result, history, tracked, profile)
        tracking.set_champion(tracked, {"promoted": "true", "promotion": "first version"})
    return _training_report(pipeline, history, result, tracked, exported, tiers)


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
    Returns the tracked version, the training data profile and the holdout's tier table."""
    from prospect_predictor.config.defaults import outcome_rates
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import run_metrics, run_params
    from prospect_predictor.reporting.artifacts import write_json, write_training_artifacts
    from prospect_predictor.scoring.decision import tier_table

    rules = pipeline.config.recommendation.rules(outcome_rates(result.rows_per_class))
    tiers = tier_table(result.holdout.proba, result.classes, result.holdout.y_true, rules)
    extra_metrics = {**tiers.metrics(), **(extra_metrics or {})}
    progress("explaining the model and drawing charts")
    with tracking.new_artifacts_dir() as folder:
        artifacts = Path(folder)
        profile = write_training_artifacts(artifacts, pipeline, history, result)
        write_json(artifacts / "tiers.json", tiers.to_dict())
        for name, content in (extra_files or {}).items():
            write_json(artifacts / name, content)
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
    return tracked, profile, tiers


def _training_report(pipeline, history, result, tracked, exported, tiers) -> TrainingReport:
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
        tiers,
    )


def export_champion(
    pipeline: Pipeline, result: TrainingResult, history: History, tracked, profile: dict
) -> Path:
    from prospect_predictor.registry.bundle import bundle_dir, export_bundle
    from prospect_predictor.registry.records import bundle_metadata

    metadata = bundle_metadata(pipeline, result, history)
    metadata["mlflow"] = {
        "run_id": tracked.run_id,
        "model_name": tracked.model_name,
        "model_version": tracked.version,
        "tracking_uri": tracked.tracking_uri,
    }
    extra = {"profile.json": json.dumps(profile, indent=1, sort_keys=True).encode()}
    return export_bundle(bundle_dir(pipeline), result.model, metadata, extra_files=extra)
