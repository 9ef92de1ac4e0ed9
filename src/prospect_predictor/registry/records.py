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


# --------------------------------------------------------------------------- what a reviewer reads

HEADLINE = (
    ("log_loss", "holdout log loss"),
    ("roc_auc_macro", "macro ROC AUC"),
    ("ece", "ECE"),
    ("cv_log_loss", "CV log loss"),
)


def run_name(pipeline_name: str, what: list[str], rows: int, day: str | None = None) -> str:
    """What ran, for MLflow's run list: ``prospects · retrain · hgb · 20,000 rows ·
    2026-12-01`` (``what``: the kind when not a plain training, the family or model)."""
    from datetime import date

    return " · ".join([pipeline_name, *what, f"{rows:,} rows", day or date.today().isoformat()])


def headline(metrics: dict[str, float]) -> str:
    """The headline metrics as a markdown table (those measured)."""
    lines = ["| metric | value |", "| --- | --- |"]
    lines += [f"| {label} | {metrics[key]:.4f} |" for key, label in HEADLINE if key in metrics]
    return "\n".join(lines)


def run_note(title: str, data: dict, metrics: dict[str, float], decision: str | None = None) -> str:
    """A run's description (markdown): what ran, on which file, the headline metrics and,
    for a retraining, the gate's decision. ``data``: file, rows, sha256."""
    parts = [
        f"### {title}",
        f"Data: `{data['file']}`, {int(data['rows']):,} rows (sha256 `{data['sha256'][:16]}…`).",
        headline(metrics),
    ]
    if decision:
        parts.append(decision)
    return "\n\n".join(parts) + "\n"


def decision_note(
    gate,
    promoted: bool,
    version: str,
    champion: str | None,
    forced_reason: str | None = None,
    without_gate: str | None = None,
) -> str:
    """The promotion's decision in markdown: the gate's rules (``gate``: a GateResult, or
    None: ``without_gate`` says why), promoted or not, forced and why. ``champion``: the
    version that was champion before, None when there was none."""
    parts = []
    if gate is None:
        why = without_gate or (
            "no champion to compare with" if champion is None else "the models are not comparable"
        )
        parts.append(f"**Promotion gate: none** ({why}).")
    else:
        failed = len(gate.failed)
        verdict = "passed" if gate.passed else f"failed ({failed} of {len(gate.rules)} rules)"
        rows = [
            f"| {r.name} | {r.challenger:.4f} | {r.champion:.4f} | {r.limit} | "
            f"{'passed' if r.passed else 'FAILED'} |"
            for r in gate.rules
        ]
        table = ["| rule | challenger | champion | limit | result |", "| --- " * 5 + "|"]
        parts += [f"**Promotion gate: {verdict}.**", "\n".join(table + rows)]
    if promoted:
        was = f" (replacing version {champion})" if champion else ""
        parts.append(f"**Promoted**: version {version} is the champion{was}.")
    else:
        parts.append(f"**Not promoted**: version {champion} stays the champion.")
    if forced_reason is not None:
        parts.append(f"Forced with `--force`, reason: {forced_reason}")
    return "\n\n".join(parts)


def version_description(run_id: str, name: str, metrics: dict[str, float], decision: str) -> str:
    """A registered version's description: its run, headline metrics, the decision."""
    return f"Run `{run_id}` ({name}).\n\n{headline(metrics)}\n\n{decision}\n"


def model_description(pipeline_name: str, classes: list[str]) -> str:
    """The registered model's description: what it predicts, its outcomes, how to load it."""
    from prospect_predictor.language.texts import outcome_meaning

    def meaning(outcome: str) -> str:
        try:
            return f"the prospect {outcome_meaning(outcome, 'en')}"
        except KeyError:
            return "an outcome of this pipeline"

    outcomes = "\n".join(f"- `{c}`: {meaning(c)}" for c in classes)
    return (
        f"Predicts how a sales prospect will end: one calibrated probability per outcome "
        f"(pipeline `{pipeline_name}`).\n\n{outcomes}\n\n"
        "Explanations are in log-odds against the first outcome "
        f"(`{classes[0]}`).\n\n"
        "Load the champion with "
        f'`mlflow.pyfunc.load_model("models:/{pipeline_name}@champion")`, from the work '
        "folder, and call `predict(frame)` on raw export rows (as `prospect score` reads "
        "them; fields left out are unknown): it answers with `prospect score`'s columns, "
        "the probabilities, recommendation, reason, drivers and advice. The version's "
        "artifacts hold the scoring form (`scoring.json`, `scoring.npz`: plain JSON and "
        "arrays, no pickle); `prospect export` writes the champion's bundle.\n"
    )
