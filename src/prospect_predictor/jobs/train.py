"""`prospect train`: train on a history, record the run in MLflow, export the first champion.

:func:`record_model` is shared with ``prospect retrain``. The store is checked before any
work; training and logging run outside the store lock; registering the version and the
promotion (:mod:`prospect_predictor.registry.promotion`) inside it, so that of several
trains started together on a registry without a champion exactly one becomes champion.
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
    repairs: list[str] | None = None  # what an interrupted command had left, now repaired
    not_promoted_because: str | None = None


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
    tracking.prepare()  # a damaged store is reported before any work
    history = load_history(pipeline, data)
    result = train(pipeline, history, family=family, progress=progress)

    tracked, profile, tiers = record_model(
        pipeline, history, result, {"kind": "training"}, progress=progress
    )
    from prospect_predictor.registry import promotion
    from prospect_predictor.registry.bundle import bundle_dir
    from prospect_predictor.registry.store import store_lock

    exported, why_not = None, None
    target = bundle_dir(pipeline)
    with store_lock():
        repairs = promotion.reconcile(pipeline.name, target)
        champion = promotion.current_champion(pipeline.name, target)
        tracking.register_version(tracked)
        if champion is None:  # the first version becomes champion
            progress("exporting the champion bundle")
            exported = promotion.promote(tracked, target, {"promotion": "first version"})
        else:
            tracking.tag_run(tracked.run_id, {"promoted": "false"})
            if champion.source != "registry":
                why_not = (
                    f"{target} holds a model this registry does not know (a bundle of "
                    "another store); `prospect retrain` compares with it"
                )
    report = _training_report(pipeline, history, result, tracked, exported, tiers)
    report.repairs, report.not_promoted_because = repairs, why_not
    return report


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
    from prospect_predictor.data.leads import model_columns
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import bundle_metadata, run_metrics, run_params
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
            model_files=model_files(
                result.model, bundle_metadata(pipeline, result, history), profile
            ),
            input_example=tracking.raw_input_example(
                history.features,
                pipeline.feature_types(),
                model_columns(
                    {"features": pipeline.features, "derived": pipeline.derived_metadata()}
                ),
                pipeline.id_column,
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


def model_files(model, metadata: dict, profile: dict) -> dict[str, bytes]:
    """What the registry keeps of a trained model, and a bundle is exported from: its
    scoring form (no pickle), the bundle metadata and the training data profile."""
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.explaining.compile_form import compile_files

    try:
        form = compile_files(model)
    except Exception as exc:  # noqa: BLE001 - whatever keeps the form from being exact
        raise ProspectError(f"the trained model cannot be stored without a pickle: {exc}") from None
    if not form:
        raise ProspectError("the trained model cannot be stored without a pickle")
    return {
        **form,
        "metadata.json": json.dumps(metadata, indent=2, sort_keys=True, default=float).encode(),
        "profile.json": json.dumps(profile, indent=1, sort_keys=True).encode(),
    }
