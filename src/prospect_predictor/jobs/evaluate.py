"""`prospect evaluate`: a model measured on labelled prospects, logged as an evaluation run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prospect_predictor.jobs.train import Progress


@dataclass
class EvaluationReport:
    metrics: dict[str, float]
    classes: list[str]
    rows: int
    model_label: str
    model_version: str
    run_id: str
    reason_importance: dict
    drift_warnings: list[str]


def resolve_model(reference: str | None, pipeline_path: str | Path | None):
    """``--model``: a bundle folder, ``champion`` (the registry's champion, as exported to
    its bundle, the default) or a registered VERSION number; every one read as its scoring
    form, nothing unpickled. Returns (model, metadata, profile or None, label)."""
    import json

    from prospect_predictor.config.pipeline import load_pipeline
    from prospect_predictor.registry import promotion, versions
    from prospect_predictor.registry.bundle import FORM_FILES, bundle_dir, load_bundle, read_profile
    from prospect_predictor.registry.store import store_lock

    reference = reference or "champion"
    if Path(reference).is_dir():
        bundle = load_bundle(Path(reference))
        return bundle.model, bundle.metadata, read_profile(bundle.path), str(reference)
    pipeline = load_pipeline(pipeline_path)
    if reference == "champion":
        with store_lock():  # the bundle and the registry's champion agree first
            promotion.reconcile(pipeline.name, bundle_dir(pipeline))
            bundle = load_bundle(bundle_dir(pipeline))
        return bundle.model, bundle.metadata, read_profile(bundle.path), "champion"
    if reference.isdigit():
        from prospect_predictor.explaining.scoring_form import ScoringForm

        found = versions.download_version(pipeline.name, reference)
        form = ScoringForm.from_bytes(*(found.files[n] for n in FORM_FILES))
        profile = json.loads(found.files["profile.json"])
        return form, found.metadata, profile, f"version {reference}"
    from prospect_predictor.errors import ProspectError

    raise ProspectError(
        f"--model {reference!r}: expected champion, a version number or a "
        "bundle folder (no such folder)"
    )


def run_evaluation(
    data: str | Path,
    model_ref: str | None = None,
    pipeline_path: str | Path | None = None,
    progress: Progress = lambda step: None,
) -> EvaluationReport:
    """Score a labelled file, measure, chart, and log an evaluation run in MLflow."""
    from prospect_predictor.monitoring.drift import drift_warnings
    from prospect_predictor.monitoring.evaluate import evaluate, read_labelled
    from prospect_predictor.registry import tracking
    from prospect_predictor.registry.records import run_name, run_note
    from prospect_predictor.reporting.artifacts import write_evaluation_artifacts

    progress("loading the model and the labelled file")
    model, metadata, profile, label = resolve_model(model_ref, pipeline_path)
    labelled = read_labelled(data, metadata)
    classes = list(metadata["classes"])
    progress("scoring and measuring")
    metrics, proba = evaluate(model, metadata, labelled.features, labelled.outcomes)
    drift = drift_warnings(labelled.features, profile, labelled.outcomes, metadata)
    progress("drawing charts and recording the evaluation run in MLflow")
    with tracking.new_artifacts_dir() as folder:
        artifacts = Path(folder)
        by_reason = write_evaluation_artifacts(
            artifacts, model, metadata, labelled, proba, metrics, drift
        )
        version = str(metadata.get("mlflow", {}).get("model_version", ""))
        rows = len(labelled.outcomes)
        evaluated = label if label == "champion" or label.startswith("version") else "bundle"
        family = [str(metadata["family"])] if metadata.get("family") else []
        name = run_name(metadata["name"], [f"evaluate {evaluated}", *family], rows)
        data = {"file": labelled.source, "rows": rows, "sha256": labelled.sha256}
        run_id = tracking.log_evaluation_run(
            experiment=metadata["name"],
            name=name,
            note=run_note(name if evaluated != "bundle" else f"{name} ({label})", data, metrics),
            dataset={**data, "columns": labelled.features.head(0)},
            params={
                "data.file": labelled.source,
                "data.sha256": labelled.sha256,
                "data.rows": str(len(labelled.outcomes)),
                "model": label,
                "model.version": version,
            },
            metrics=metrics,
            artifacts_dir=artifacts,
            tags={
                "kind": "evaluation",
                "model_version": version,
                "evaluated_run_id": str(metadata.get("mlflow", {}).get("run_id", "")),
            },
        )
    return EvaluationReport(
        metrics, classes, len(labelled.outcomes), label, version, run_id, by_reason, drift
    )
