"""`prospect export`: the registry's version written as a bundle; versions registered before
0.2 (a pickled scikit-learn model only) are re-exported only with --trust-pickle."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_pipeline


@pytest.fixture
def old_champion(isolated_store, monkeypatch):
    """A store whose champion was registered as 0.1 did it: mlflow.sklearn with cloudpickle,
    the bundle metadata and profile as run artifacts; its bundle has no form."""
    import mlflow

    from prospect_predictor.jobs.train import run_training
    from prospect_predictor.registry import tracking
    from prospect_predictor.synthetic.generate import write_history

    folder = isolated_store
    write_history(1_200, 12, folder / "history.csv")
    write_history(20, 12, folder / "leads.csv", new_leads=True)
    pipeline = write_pipeline(folder, folds="folds = 2")
    report = run_training(folder / "history.csv", pipeline)
    mlflow_module, client = tracking._client()
    artifacts = folder / "experiments" / "old-run"
    artifacts.mkdir()
    bundle = folder / "models" / "prospects"
    (artifacts / "bundle_metadata.json").write_bytes((bundle / "metadata.json").read_bytes())
    (artifacts / "data_profile.json").write_bytes((bundle / "profile.json").read_bytes())
    experiment = client.get_experiment_by_name("prospects").experiment_id
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_artifacts(str(artifacts))
        info = mlflow.sklearn.log_model(
            report.result.model,
            name="model",
            registered_model_name="prospects",
            serialization_format="cloudpickle",
        )
    version = str(info.registered_model_version)
    client.set_registered_model_alias("prospects", "champion", version)
    return folder, version


def test_an_old_champion_is_exported_only_with_trust_pickle(old_champion, run_cli):
    folder, version = old_champion
    refused = run_cli("export", "--pipeline", "pipeline.toml")
    assert refused.exit_code == 1, refused.output
    assert f"prospect export --version {version} --trust-pickle" in refused.stderr
    assert "Traceback" not in refused.output

    done = run_cli("export", "--pipeline", "pipeline.toml", "--version", version, "--trust-pickle")
    assert done.exit_code == 0, done.output
    assert f"holds version {version} of prospects (the champion)" in done.stdout
    metadata = json.loads((folder / "models" / "prospects" / "metadata.json").read_text())
    assert metadata["mlflow"]["model_version"] == version
    assert not (folder / "models" / "prospects" / "model.joblib").exists()
    scored = run_cli("score", "leads.csv", "--format", "csv")
    assert scored.exit_code == 0, scored.output


def test_export_refuses_another_version_over_the_champions_bundle(isolated_store, run_cli):
    from prospect_predictor.jobs.train import run_training
    from prospect_predictor.synthetic.generate import write_history

    folder = isolated_store
    write_history(1_200, 13, folder / "history.csv")
    pipeline = write_pipeline(folder, folds="folds = 2")
    run_training(folder / "history.csv", pipeline)
    assert run_training(folder / "history.csv", pipeline).model_version == "2"  # not champion
    result = run_cli("export", "--pipeline", "pipeline.toml", "--version", "2")
    assert result.exit_code == 1
    assert "is the champion's bundle" in result.stderr and "--out FOLDER" in result.stderr
    elsewhere = run_cli("export", "--pipeline", "pipeline.toml", "--version", "2", "--out", "v2")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert "holds version 2 of prospects" in elsewhere.stdout
    metadata = json.loads((folder / "v2" / "metadata.json").read_text())
    assert metadata["mlflow"]["model_version"] == "2"
    assert "Downloading artifacts" not in elsewhere.stderr  # MLflow's bars are kept off
    again = run_cli("export", "--pipeline", "pipeline.toml", "--version", "1", "--out", "v2")
    assert again.exit_code == 1 and "holds a bundle already" in again.stderr
    assert (
        json.loads((folder / "v2" / "metadata.json").read_text())["mlflow"]["model_version"] == "2"
    )  # left untouched
    replaced = run_cli(
        "export", "--pipeline", "pipeline.toml", "--version", "1", "--out", "v2", "--overwrite"
    )
    assert replaced.exit_code == 0, replaced.output
    assert (
        json.loads((folder / "v2" / "metadata.json").read_text())["mlflow"]["model_version"] == "1"
    )
