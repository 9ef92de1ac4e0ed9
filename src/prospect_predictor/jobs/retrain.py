"""`prospect retrain`: a challenger, promoted only through the promotion gate.

The champion it is compared with is the registry's (``champion`` alias), read as its scoring
form, never unpickled; a missing local bundle never means "no champion". The gate, the
registration and the promotion run under the store lock with the champion of that moment,
so that retrains started together are each compared with the champion they would replace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prospect_predictor.jobs.train import (
    Progress,
    TrainingReport,
    _training_report,
    describe_decision,
    record_model,
    training_run,
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
    champion_source: str | None = None  # "registry", or the bundle folder compared with


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
    from prospect_predictor.registry import promotion, tracking, versions
    from prospect_predictor.registry.bundle import bundle_dir
    from prospect_predictor.registry.records import decision_note
    from prospect_predictor.registry.store import store_lock

    if force and not (reason or "").strip():
        raise ProspectError("--force needs --reason TEXT: the reason is recorded in the run")
    progress("checking the pipeline and the history")
    pipeline = load_pipeline(pipeline_path)
    tracking.prepare()  # a damaged store is reported before any work
    history = load_history(pipeline, data)
    target = bundle_dir(pipeline)
    with training_run(pipeline, history, pipeline.config.model.family, "retrain") as run:
        result = train(pipeline, history, progress=progress)
        tracked, profile, tiers = record_model(pipeline, history, result, run, progress=progress)

    with store_lock():
        repairs = promotion.reconcile(pipeline.name, target)
        champion = promotion.current_champion(pipeline.name, target)
        drift: list[str] = []
        gate, champion_metrics = None, None
        if champion is not None:
            progress("comparing the new history with the champion's training data")
            drift = drift_warnings(
                history.features, champion.profile, history.outcomes, champion.metadata
            )
            gate, champion_metrics = _gate(pipeline, result, champion, force, progress)
        promote = champion is None or force or (gate is not None and gate.passed)
        files: dict[str, object] = {"drift.json": {"warnings": drift}}
        if gate is not None:
            files["promotion_gate.json"] = gate.to_dict()
        tracking.add_to_run(
            tracked.run_id,
            {f"champion_{k}": v for k, v in (champion_metrics or {}).items()},
            files,
        )
        tags = {
            "gate": "none" if gate is None else ("passed" if gate.passed else "failed"),
            "drift_warnings": str(len(drift)),
        }
        if champion is not None:
            tags["champion_version"] = champion.version
        tracking.tag_run(tracked.run_id, tags)
        versions.register_version(tracked)
        previous = champion.version if champion is not None else None
        exported = None
        if promote:
            progress("promoting: moving the champion alias and exporting the bundle")
            promotion_tags = {"forced": str(bool(force)).lower()}
            if force:
                promotion_tags["force_reason"] = str(reason)
            exported = promotion.promote(tracked, target, promotion_tags, previous)
        else:
            tracking.tag_run(tracked.run_id, {"promoted": "false"})
        decision = decision_note(
            gate, promote, tracked.version, previous, str(reason) if force else None
        )
        describe_decision(pipeline, result, run, tracked, decision)
    training = _training_report(pipeline, history, result, tracked, exported, tiers)
    training.repairs = repairs
    return RetrainReport(
        training,
        gate,
        champion_metrics,
        promote,
        force,
        previous,
        drift,
        None if champion is None else champion.source,
    )


def _gate(pipeline, result, champion, force, progress):
    """The promotion gate: the champion measured on the challenger's holdout."""
    from prospect_predictor.errors import ProspectError
    from prospect_predictor.monitoring.evaluate import promotion_gate
    from prospect_predictor.monitoring.metrics import classification_metrics

    if list(champion.metadata["classes"]) != result.classes:
        if not force:
            raise ProspectError(
                f"the challenger predicts {result.classes} but the champion "
                f"{champion.metadata['classes']}: they cannot be compared on one holdout. "
                "Use --force --reason TEXT to replace the champion anyway."
            )
        return None, None
    absent = [f for f in champion.model.feature_names if f not in result.holdout.features]
    if absent:
        if not force:
            raise ProspectError(
                f"the champion (version {champion.version or '?'}) reads "
                f"{', '.join(absent)}, which this pipeline does not have: they cannot be "
                "compared on one holdout. Use --force --reason TEXT to replace it anyway."
            )
        return None, None
    progress("measuring the champion on the challenger's holdout")
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
    return gate, champion_metrics
