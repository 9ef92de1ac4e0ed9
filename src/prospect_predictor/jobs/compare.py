"""`prospect compare`: several model families on the same folds and holdout, one run each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prospect_predictor.jobs.train import Progress, training_run

if TYPE_CHECKING:
    from prospect_predictor.config.pipeline import Pipeline
    from prospect_predictor.modeling.train import TrainingResult


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
    experiment ``<name>-comparison``, spanning its training. Nothing is registered or
    exported."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.train import load_history, train
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import run_metrics, run_note, run_params

    pipeline = load_pipeline(pipeline_path)
    history = load_history(pipeline, data)
    config = pipeline.config.model
    families = families or [config.family, *[f for f in config.compare_with if f != config.family]]
    candidates = []
    for family in families:
        progress(f"training {family}")
        with training_run(pipeline, history, family, "comparison") as run:
            result = train(
                pipeline,
                history,
                family=family,
                progress=lambda step, f=family: progress(f"{f}: {step}"),
            )
            metrics = run_metrics(result)
            tracking.log_values(run.run_id, run_params(pipeline, history, result), metrics)
            tracking.describe_run(run.run_id, run_note(run.name, run.data, metrics))
        candidates.append(Candidate(family, result, run.run_id))
    return pipeline, candidates
