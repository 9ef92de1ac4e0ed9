"""The files an analyst reviews in MLflow beside a run: charts, the global importance,
the data profile and the metrics as JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from prospect_predictor.config.pipeline import Pipeline
    from prospect_predictor.modeling.train import History, TrainingResult

SHAP_SAMPLE_ROWS = 2_000


def write_training_artifacts(
    folder: Path, pipeline: Pipeline, history: History, result: TrainingResult
) -> dict:
    """Charts and files an analyst reviews in MLflow; returns the training data profile."""
    from prospect_predictor.data.profile import data_profile
    from prospect_predictor.registry.records import bundle_metadata
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
    by_feature, by_reason = importance_charts(
        folder, result.model, sample, result.model.feature_names, pipeline.feature_reasons, classes
    )
    charts.feature_importance_png(
        by_feature, pipeline.feature_reasons, folder / "shap_summary.png", reference=classes[0]
    )
    profile = data_profile(history.features, pipeline.feature_types())
    charts.data_profile_png(history.features, pipeline.feature_types(), folder / "data_profile.png")
    shutil.copyfile(pipeline.source, folder / "pipeline.toml")
    write_json(folder / "data_profile.json", profile)
    write_json(
        folder / "global_importance.json",
        {"against": classes[0], "by_reason": by_reason, "by_feature": by_feature},
    )
    write_json(folder / "single_feature_auc.json", result.single_feature_auc)
    write_json(folder / "holdout_metrics.json", result.holdout.metrics)
    write_json(folder / "cv_metrics.json", result.cv_metrics)
    write_json(folder / "holdout_drift.json", {"warnings": result.holdout_drift})
    write_json(folder / "bundle_metadata.json", bundle_metadata(pipeline, result, history))
    if history.rejects is not None and len(history.rejects):
        from prospect_predictor.data.tableio import csv_text

        (folder / "rejects.csv").write_text(csv_text(history.rejects), encoding="utf-8")
    return profile


def write_json(path: Path, data) -> None:
    """Indented, sorted JSON; numpy numbers as floats."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")


def write_evaluation_artifacts(
    folder: Path, model, metadata: dict, labelled, proba: np.ndarray, metrics: dict, drift: list
) -> dict:
    """Charts and files of an evaluation run; returns the four reasons' global importance
    (mean |contribution| to each unwanted outcome's log-odds against the reference)."""
    from prospect_predictor.reporting import charts

    classes = list(metadata["classes"])
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    charts.confusion_matrix_png(
        labelled.outcomes, predicted, classes, folder / "confusion_matrix.png"
    )
    charts.calibration_curves_png(
        labelled.outcomes, proba, classes, folder / "calibration_curves.png"
    )
    sample = labelled.features.head(SHAP_SAMPLE_ROWS)
    features, reasons = list(metadata["features"]), metadata["feature_reasons"]
    _, by_reason = importance_charts(folder, model, sample, features, reasons, classes)
    write_json(folder / "metrics.json", metrics)
    write_json(folder / "drift.json", {"warnings": drift})
    return by_reason


def importance_charts(
    folder: Path, model, sample, features: list[str], reasons: dict, classes: list[str]
) -> tuple[dict, dict]:
    """The sample's contributions to each unwanted outcome's log-odds against the reference
    outcome (``classes[0]``, ``win_win``: what the advisor reads), drawn as the reasons'
    importance and as a beeswarm; returns the global importance by feature and by reason."""
    from prospect_predictor.explaining.contributions import (
        against_reference,
        feature_contributions,
        global_importance,
    )
    from prospect_predictor.reporting import beeswarm, charts

    values, base = feature_contributions(model, sample)
    relative, unwanted = against_reference(values, base, classes)
    by_feature, by_reason = global_importance(relative, features, reasons, unwanted)
    charts.reason_importance_png(by_reason, folder / "reason_importance.png", reference=classes[0])
    beeswarm.beeswarm_png(
        relative, sample, features, unwanted, folder / "shap_beeswarm.png", reference=classes[0]
    )
    return by_feature, by_reason
