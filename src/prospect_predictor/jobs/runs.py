"""`prospect runs`: recent runs side by side, and what differs between two runs."""

from __future__ import annotations

from pathlib import Path

RUN_COLUMNS = ("log_loss", "roc_auc_macro", "balanced_accuracy", "ece", "cv_log_loss")


def list_runs(pipeline_path: str | Path | None = None, limit: int = 20):
    """The newest runs of every pipeline in the store, or of one pipeline (its training
    and comparison experiments) when ``pipeline_path`` is given."""
    from prospect_predictor.registry import tracking

    if pipeline_path is None:
        return tracking.recent_runs(None, limit)
    from prospect_predictor.config.pipeline import load_pipeline

    pipeline = load_pipeline(pipeline_path, check_model=False)  # its name only
    return tracking.recent_runs([pipeline.name, f"{pipeline.name}-comparison"], limit)


def compare_runs(run_a: str, run_b: str) -> tuple[dict, dict]:
    """Params and metrics that differ between two runs: name -> (a, b)."""
    from prospect_predictor.registry import tracking

    a, b = tracking.get_run(run_a), tracking.get_run(run_b)
    params = {
        k: (a.data.params.get(k), b.data.params.get(k))
        for k in sorted(set(a.data.params) | set(b.data.params))
        if a.data.params.get(k) != b.data.params.get(k)
    }
    metrics = {
        k: (a.data.metrics.get(k), b.data.metrics.get(k))
        for k in sorted(set(a.data.metrics) | set(b.data.metrics))
        if a.data.metrics.get(k) != b.data.metrics.get(k)
    }
    return params, metrics
