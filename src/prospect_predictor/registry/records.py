"""What a training run records: its MLflow parameters and metrics, and the bundle's
metadata contract (:func:`bundle_metadata`: everything scoring needs besides the model)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from prospect_predictor.config.defaults import outcome_rates

if TYPE_CHECKING:
    from prospect_predictor.config.pipeline import Pipeline
    from prospect_predictor.modeling.train import History, TrainingResult


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
            "data.rows_rejected": str(0 if history.rejects is None else len(history.rejects)),
            "data.rows_open": str(history.open_rows),
            "data.rows_open_as_stalled": str(history.open_as_stalled),
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
        "phrases": pipeline.phrases_metadata(),
        "reasons_without_features": pipeline.reasons_without_features(),
        "id_column": pipeline.id_column,
        "date_column": pipeline.date_column,
        "outcome_column": pipeline.outcome_column,
        "outcome_labels": dict(config.outcome.labels),
        "schema": pipeline.schema.model_dump(mode="json"),
        "language": config.language,
        "recommendation": config.recommendation.rules(outcome_rates(result.rows_per_class)),
        "explanation": config.explanation.model_dump(),
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
