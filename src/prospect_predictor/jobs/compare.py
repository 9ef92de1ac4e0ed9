"""`prospect compare`: several model families on the same folds and holdout, one run each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prospect_predictor.jobs.train import Progress

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
    experiment ``<name>-comparison``. Nothing is registered or exported."""
    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.modeling.train import load_history, train
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import run_metrics, run_params

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
