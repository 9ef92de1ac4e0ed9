"""`prospect train`: train on a history, record the run in MLflow, export the first champion.

:func:`training_run`, :func:`record_model` and :func:`describe_decision` are shared with
``prospect retrain`` (and the first with ``prospect compare``). The store is checked before
any work; the MLflow run is opened before the first fit and ended once everything is
logged, so that its duration is the training's; training and logging run outside the store
lock; registering the version and the promotion
(:mod:`prospect_predictor.registry.promotion`) inside it, so that of several trains started
together on a registry without a champion exactly one becomes champion.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    from prospect_predictor.registry import tracking, versions

    progress("checking the pipeline and the history")
    pipeline = load_pipeline(pipeline_path)
    tracking.prepare()  # a damaged store is reported before any work
    history = load_history(pipeline, data)
    with training_run(pipeline, history, family or pipeline.config.model.family) as run:
        result = train(pipeline, history, family=family, progress=progress)
        tracked, profile, tiers = record_model(pipeline, history, result, run, progress=progress)
    from prospect_predictor.registry import promotion
    from prospect_predictor.registry.bundle import bundle_dir
    from prospect_predictor.registry.records import decision_note
    from prospect_predictor.registry.store import store_lock

    exported, why_not = None, None
    target = bundle_dir(pipeline)
    with store_lock():
        repairs = promotion.reconcile(pipeline.name, target)
        champion = promotion.current_champion(pipeline.name, target)
        versions.register_version(tracked)
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
        decision = decision_note(
            None,
            champion is None,
            tracked.version,
            None if champion is None else champion.version or "?",
            without_gate="first version" if champion is None else TRAIN_DOES_NOT_REPLACE,
        )
        describe_decision(pipeline, result, run, tracked, decision)
    report = _training_report(pipeline, history, result, tracked, exported, tiers)
    report.repairs, report.not_promoted_because = repairs, why_not
    return report


TRAIN_DOES_NOT_REPLACE = (
    "`prospect train` registers a version without replacing the champion; "
    "`prospect retrain` compares through the gate"
)
WHAT_RAN = {"training": [], "retrain": ["retrain"], "comparison": ["compare"]}


@dataclass
class OpenRun:
    """The MLflow run a training is logged into, while it trains."""

    run_id: str
    name: str
    data: dict  # file, rows, sha256


@contextmanager
def training_run(
    pipeline: Pipeline, history: History, family: str, kind: str = "training"
) -> Iterator[OpenRun]:
    """The MLflow run of one training, opened before the first fit with its name (what
    ran), tags and the history as its dataset (context "training"); ended FINISHED when the
    block ends, FAILED with the error if it raises (:func:`tracking.open_run`)."""
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import run_name

    rows = len(history.outcomes)
    name = run_name(pipeline.name, [*WHAT_RAN[kind], family], rows)
    experiment = pipeline.name + ("-comparison" if kind == "comparison" else "")
    tags = {"kind": kind, "family": family, "data.sha256": history.sha256}
    with tracking.open_run(experiment=experiment, name=name, tags=tags) as run_id:
        data = {"file": history.source, "rows": rows, "sha256": history.sha256}
        columns = history.features.head(0).assign(**{pipeline.outcome_column: ""})
        tracking.log_dataset(run_id, **data, columns=columns, context="training")
        yield OpenRun(run_id, name, data)


def describe_decision(pipeline: Pipeline, result: TrainingResult, run: OpenRun, tracked, decision):
    """The run's description with the promotion's decision, the version's, the model's."""
    from prospect_predictor.registry import tracking, versions
    from prospect_predictor.registry.records import (
        model_description,
        run_metrics,
        run_note,
        version_description,
    )

    metrics = run_metrics(result)
    tracking.describe_run(run.run_id, run_note(run.name, run.data, metrics, decision))
    versions.describe_version(
        tracked.model_name,
        tracked.version,
        version_description(run.run_id, run.name, metrics, decision),
        model_description(pipeline.name, result.classes),
    )


def record_model(
    pipeline: Pipeline,
    history: History,
    result: TrainingResult,
    run: OpenRun,
    extra_metrics: dict[str, float] | None = None,
    extra_files: dict[str, object] | None = None,
    progress: Progress = lambda step: None,
):
    """Charts and files, then the model and all of it logged into the open ``run`` with its
    description (the version is registered later, the alias untouched). Returns the tracked
    model, the training data profile and the holdout's tier table."""
    from prospect_predictor.config.defaults import outcome_rates
    from prospect_predictor.data.leads import model_columns
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import (
        bundle_metadata,
        run_metrics,
        run_note,
        run_params,
    )
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
            run_id=run.run_id,
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
        )
    tracking.describe_run(run.run_id, run_note(run.name, run.data, run_metrics(result)))
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
