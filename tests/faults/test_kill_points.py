"""A promotion killed at each of its steps (``os._exit``, like ``kill -9``): the next command
detects what was left and repairs it, or says in one line what to run; the registry's
champion and the exported bundle always end up agreeing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prospect_predictor.faults import EXIT_CODE, VARIABLE
from tests.conftest import write_pipeline

STEPS = (
    "after_register",
    "after_journal",
    "after_alias",
    "export_before_swap",
    "export_between_renames",
    "after_export",
    "after_tag",
)


def prospect(folder: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", VARIABLE)}
    env["OMP_NUM_THREADS"] = "1"
    if fault:
        env[VARIABLE] = fault
    return subprocess.run(
        [sys.executable, "-m", "prospect_predictor", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def champion_alias(folder: Path) -> str | None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{(folder / 'experiments' / 'mlflow.db').as_posix()}"
    model = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model("prospects")
    champion = (model.aliases or {}).get("champion")
    return None if champion is None else str(champion)


def latest_version(folder: Path) -> str:
    from mlflow import MlflowClient

    uri = f"sqlite:///{(folder / 'experiments' / 'mlflow.db').as_posix()}"
    registry = MlflowClient(tracking_uri=uri, registry_uri=uri)  # not another test's registry
    versions = registry.search_model_versions("name = 'prospects'")
    return str(max(int(v.version) for v in versions))


def bundle_version(folder: Path) -> str:
    metadata = json.loads((folder / "models" / "prospects" / "metadata.json").read_text())
    return str(metadata["mlflow"]["model_version"])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "models").iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from prospect_predictor.synthetic.generate import write_history

    folder = tmp_path_factory.mktemp("kill-points")
    write_history(1_500, 5, folder / "history.csv")
    write_history(1_500, 6, folder / "more.csv")
    write_history(50, 5, folder / "leads.csv", new_leads=True)
    write_pipeline(folder, folds="folds = 2")
    result = prospect(folder, "train", "--data", "history.csv", "--pipeline", "pipeline.toml")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.slow
def test_a_promotion_killed_at_any_step_is_repaired_by_the_next_command(store):
    for step in STEPS:
        before = champion_alias(store)
        assert bundle_version(store) == before, step
        killed = prospect(
            store,
            "retrain",
            "--data",
            "more.csv",
            "--pipeline",
            "pipeline.toml",
            "--force",
            "--reason",
            f"kill test {step}",
            fault=step,
        )
        assert killed.returncode == EXIT_CODE, (step, killed.stderr[-2000:])
        journal = store / "models" / ".prospects.promotion.json"
        interrupted = step != "after_register"
        assert journal.exists() == interrupted, step

        scored = prospect(store, "score", "leads.csv", "--format", "csv")
        if step == "export_between_renames":  # the bundle is aside: scoring says what to run
            assert scored.returncode == 1, step
            assert "an export was interrupted" in scored.stderr
            assert "prospect export" in scored.stderr
            assert "Traceback" not in scored.stderr
        else:
            assert scored.returncode == 0, (step, scored.stderr)
            assert ("promotion of version" in scored.stderr) == interrupted, step
            assert "Finish it with: prospect export" in scored.stderr or not interrupted

        repaired = prospect(store, "export", "--pipeline", "pipeline.toml")
        assert repaired.returncode == 0, (step, repaired.stderr)
        assert ("repaired: finished the promotion" in repaired.stderr) == interrupted, step
        after = champion_alias(store)
        assert after == (latest_version(store) if interrupted else before), step
        assert bundle_version(store) == after, step
        assert not journal.exists() and leftovers(store) == [], step
        clean = prospect(store, "score", "leads.csv", "--format", "csv")
        assert clean.returncode == 0 and "promotion" not in clean.stderr, (step, clean.stderr)


@pytest.mark.slow
def test_a_run_killed_while_logging_is_shown_as_killed(store):
    killed = prospect(
        store, "train", "--data", "more.csv", "--pipeline", "pipeline.toml", fault="during_run"
    )
    assert killed.returncode == EXIT_CODE
    listed = prospect(store, "runs", "--limit", "1")
    assert listed.returncode == 0, listed.stderr
    assert "killed" in listed.stdout
    from mlflow import MlflowClient

    uri = f"sqlite:///{(store / 'experiments' / 'mlflow.db').as_posix()}"
    runs = MlflowClient(tracking_uri=uri).search_runs(
        [MlflowClient(tracking_uri=uri).get_experiment_by_name("prospects").experiment_id],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert runs[0].info.status == "KILLED"
    assert runs[0].data.tags["prospect.ended"].startswith("killed")


@pytest.mark.slow
def test_a_missing_bundle_is_not_read_as_no_champion(store):
    """A fresh clone has no models/ (git ignores it): the registry's champion is exported
    back, and a retrain is gated against it, never promoted as a "first model"."""
    import shutil

    champion = champion_alias(store)
    import pandas as pd

    shutil.rmtree(store / "models")
    # the same rows with outcomes shuffled: a challenger that cannot tell them apart
    frame = pd.read_csv(store / "more.csv", dtype=str, keep_default_na=False)
    frame["outcome"] = frame["outcome"].sample(frac=1, random_state=0).to_numpy()
    frame.to_csv(store / "shuffled.csv", index=False)
    result = prospect(store, "retrain", "--data", "shuffled.csv", "--pipeline", "pipeline.toml")
    assert result.returncode == 0, result.stderr
    assert f"exported the champion, version {champion}" in result.stderr
    assert "Not promoted" in result.stdout and "FAILED" in result.stdout
    assert champion_alias(store) == champion == bundle_version(store)
