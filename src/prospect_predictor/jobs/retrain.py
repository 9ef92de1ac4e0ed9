"""`prospect retrain`: a challenger, promoted only through the promotion gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prospect_predictor.jobs.train import (
    Progress,
    TrainingReport,
    _training_report,
    export_champion,
    record_model,
)


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
    from prospect_predictor.monitoring.drift import drift_warnings
    from prospect_predictor.monitoring.evaluate import promotion_gate
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.bundle import bundle_dir, load_bundle, read_profile

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
        drift = drift_warnings(
            history.features, read_profile(folder), history.outcomes, champion.metadata
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
            from prospect_predictor.monitoring.metrics import classification_metrics

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
    tracked, profile, tiers = record_model(
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
    training = _training_report(pipeline, history, result, tracked, exported, tiers)
    return RetrainReport(training, gate, champion_metrics, promote, force, previous, drift)
