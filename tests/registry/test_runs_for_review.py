"""What a reviewer reads in MLflow, read back from the store: the experiment's kind, run
names and descriptions, the dataset inputs (digest, no rows), runs that span the training
and end FAILED on an error, the registered model's and versions' descriptions, and a work
folder that still loads its models once moved."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pandas as pd
import pytest

from prospect_predictor.domain import OUTCOMES
from prospect_predictor.registry import tracking, versions
from prospect_predictor.synthetic.generate import write_history
from tests.conftest import write_pipeline

NAME = re.compile(r"^prospects · hgb · 3,000 rows · \d{4}-\d{2}-\d{2}$")


def _client(folder):
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / 'experiments' / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.fixture
def trained(trained_folder, monkeypatch):
    folder, report = trained_folder
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return folder, report, _client(folder).get_run(report.run_id)


def test_the_experiment_is_marked_as_classic_ml(trained):
    folder, _, run = trained
    experiment = _client(folder).get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.artifact_location == "experiments/artifacts"


def test_an_existing_experiment_without_a_kind_gets_it(isolated_store):
    client = _client(isolated_store)
    (isolated_store / "experiments").mkdir(exist_ok=True)
    tracking.prepare()
    made = client.create_experiment("old-one")
    assert "mlflow.experimentKind" not in client.get_experiment(made).tags
    _, ours = tracking._client()
    assert tracking.experiment_id(ours, "old-one") == made
    assert client.get_experiment(made).tags["mlflow.experimentKind"] == "custom_model_development"


def test_the_training_run_says_what_ran_and_how_it_did(trained):
    folder, report, run = trained
    assert NAME.match(run.info.run_name), run.info.run_name
    note = run.data.tags["mlflow.note.content"]
    metrics = run.data.metrics
    for label, key in (
        ("holdout log loss", "log_loss"),
        ("macro ROC AUC", "roc_auc_macro"),
        ("ECE", "ece"),
        ("CV log loss", "cv_log_loss"),
    ):
        assert f"| {label} | {metrics[key]:.4f} |" in note
    assert "history.csv`, 3,000 rows" in note
    assert "**Promoted**: version 1 is the champion." in note


def test_the_history_is_a_dataset_input_with_its_digest_and_no_rows(trained):
    folder, _, run = trained
    sha = hashlib.sha256((folder / "history.csv").read_bytes()).hexdigest()
    (given,) = run.inputs.dataset_inputs
    dataset = given.dataset
    tags = {t.key: t.value for t in given.tags}
    assert tags == {"mlflow.data.context": "training", "sha256": sha}
    assert dataset.name == "history.csv" and dataset.digest == sha[:32]
    assert json.loads(dataset.profile) == {"num_rows": 3_000}
    columns = json.loads(dataset.schema)["mlflow_colspec"]
    assert {c["name"] for c in columns} >= {"outcome", "investable_assets_eur"}
    assert all(set(c) <= {"name", "type", "required"} for c in columns)  # types, no values
    first_row = (folder / "history.csv").read_text().splitlines()[1].split(",")
    stored = dataset.source + dataset.schema + dataset.profile
    assert not [v for v in first_row if len(v) > 4 and v in stored]


def test_the_run_lasts_as_long_as_the_training(trained):
    _, report, run = trained
    seconds = (run.info.end_time - run.info.start_time) / 1000
    assert run.info.status == "FINISHED"
    assert seconds >= sum(report.result.seconds.values()) > 0
    assert seconds >= run.data.metrics["train_seconds"]


def test_the_model_and_its_version_are_described(trained):
    folder, report, run = trained
    client = _client(folder)
    model = client.get_registered_model("prospects").description
    for outcome in OUTCOMES:
        assert f"`{outcome}`" in model
    assert 'mlflow.pyfunc.load_model("models:/prospects@champion")' in model
    version = client.get_model_version("prospects", "1").description
    assert report.run_id in version and run.info.run_name in version
    assert f"| holdout log loss | {run.data.metrics['log_loss']:.4f} |" in version
    assert "Promotion gate: none** (first version)" in version


@pytest.mark.parametrize(
    ("error", "status"),
    [(RuntimeError("no memory left"), "FAILED"), (KeyboardInterrupt(), "KILLED")],
)
def test_a_training_that_fails_ends_its_run_with_the_error(
    isolated_store, monkeypatch, error, status
):
    from prospect_predictor.jobs.train import run_training
    from prospect_predictor.modeling import train

    write_history(600, 4, isolated_store / "h.csv")
    pipeline = write_pipeline(isolated_store, folds="folds = 2")

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(train, "train", fails)
    with pytest.raises(type(error)):
        run_training(isolated_store / "h.csv", pipeline)
    client = _client(isolated_store)
    (run,) = client.search_runs([client.get_experiment_by_name("prospects").experiment_id])
    assert run.info.status == status and run.info.end_time
    assert run.data.tags["prospect.error"].startswith(type(error).__name__)
    assert "no memory left" in run.data.tags["prospect.error"] or status == "KILLED"
    assert run.inputs.dataset_inputs  # the data it was training on


def _moved(trained_folder, tmp_path):
    """The trained work folder copied whole, then moved: nothing left where it was."""
    source, _ = trained_folder
    first, moved = tmp_path / "A", tmp_path / "B"
    shutil.copytree(source, first)
    first.rename(moved)
    return moved


def test_a_moved_work_folder_still_loads_and_exports_its_models(
    trained_folder, tmp_path, monkeypatch, run_cli
):
    import mlflow

    folder = _moved(trained_folder, tmp_path)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking._READY.clear()
    uri = f"sqlite:///{folder / 'experiments' / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    logged = mlflow.pyfunc.load_model("models:/prospects@champion")  # before any prospect
    outputs = logged.metadata.get_output_schema().input_names()
    assert {f"p_{o}" for o in OUTCOMES} <= set(outputs)
    answer = logged.predict(pd.read_csv(folder / "leads.csv").head(3))
    assert len(answer) == 3 and answer["p_win_win"].between(0, 1).all()
    evaluated = run_cli("evaluate", "--data", "history.csv", "--model", "1")
    assert evaluated.exit_code == 0, evaluated.output
    exported = run_cli("export", "--version", "1", "--out", str(tmp_path / "v1"))
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "v1" / "scoring.json").is_file()
    run_id = evaluated.stdout.split("MLflow evaluation run ")[1].split()[0]
    assert (folder / "experiments" / "artifacts" / run_id / "artifacts").is_dir()
    run = _client(folder).get_run(run_id)
    assert run.info.run_name.startswith("prospects · evaluate version 1 · hgb · 3,000 rows")
    (given,) = run.inputs.dataset_inputs
    assert {t.key: t.value for t in given.tags}["mlflow.data.context"] == "evaluation"


def test_a_folder_moved_before_locations_were_relative_is_repaired(
    trained_folder, tmp_path, monkeypatch
):
    """A store written with absolute locations (as before), then moved: the next command
    rewrites them relative, and the models load from the new place."""
    import sqlite3

    folder = _moved(trained_folder, tmp_path)
    gone = "file:///nowhere/old-work/experiments/artifacts"
    with sqlite3.connect(folder / "experiments" / "mlflow.db") as db:
        for table, column in (
            ("experiments", "artifact_location"),
            ("runs", "artifact_uri"),
            ("logged_models", "artifact_location"),
            ("model_versions", "storage_location"),
        ):
            db.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, 22) "
                f"WHERE substr({column}, 1, 21) = 'experiments/artifacts'",
                (gone,),
            )
    client = _client(folder)
    assert client.get_experiment_by_name("prospects").artifact_location == gone
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking._READY.clear()
    tracking.prepare()
    assert client.get_experiment_by_name("prospects").artifact_location == "experiments/artifacts"
    found = versions.download_version("prospects", "1")
    assert set(found.files) == {"scoring.json", "scoring.npz", "profile.json"}
