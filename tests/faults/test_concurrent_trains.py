"""Several `prospect train` and `prospect retrain` started together on one embedded store:
every one finishes with its run recorded, and exactly one becomes champion when there was
none (the store lock serialises the store's creation, version numbers and promotions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_pipeline

PROCESSES = 3


def start(folder: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "prospect_predictor", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(processes: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    return [(p.wait(timeout=900), p.stdout.read(), p.stderr.read()) for p in processes]


def client(folder: Path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{(folder / 'experiments' / 'mlflow.db').as_posix()}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.mark.slow
def test_trains_started_together_all_finish_and_one_becomes_champion(tmp_path):
    from prospect_predictor.synthetic.generate import write_history

    for seed in range(PROCESSES):
        write_history(1_200, 40 + seed, tmp_path / f"history{seed}.csv")
    write_pipeline(tmp_path, folds="folds = 2")

    results = finish(
        [
            start(tmp_path, "train", "--data", f"history{seed}.csv", "--pipeline", "pipeline.toml")
            for seed in range(PROCESSES)
        ]
    )
    for code, _, err in results:
        assert code == 0, err[-3000:]
    champions = [out for _, out, _ in results if "Champion: version" in out]
    assert len(champions) == 1, [out[-400:] for _, out, _ in results]

    mlflow = client(tmp_path)
    experiment = mlflow.get_experiment_by_name("prospects").experiment_id
    runs = mlflow.search_runs([experiment])
    assert len(runs) == PROCESSES
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.data.tags.get("promoted") for r in runs) == ["false", "false", "true"]
    versions = mlflow.search_model_versions("name = 'prospects'")
    assert sorted(int(v.version) for v in versions) == list(range(1, PROCESSES + 1))
    champion = mlflow.get_registered_model("prospects").aliases["champion"]
    metadata = json.loads((tmp_path / "models" / "prospects" / "metadata.json").read_text())
    assert str(metadata["mlflow"]["model_version"]) == str(champion)
    promoted = next(r for r in runs if r.data.tags.get("promoted") == "true")
    assert promoted.data.tags["model_version"] == str(champion)

    # then retrains together on the existing store: each is gated, all are recorded
    results = finish(
        [
            start(
                tmp_path,
                "retrain",
                "--data",
                f"history{seed}.csv",
                "--pipeline",
                "pipeline.toml",
            )
            for seed in range(2)
        ]
    )
    for code, out, err in results:
        assert code == 0, err[-3000:]
        assert "Promotion gate" in out  # compared with a champion, never "first model"
    assert len(mlflow.search_runs([experiment])) == PROCESSES + 2
    champion = mlflow.get_registered_model("prospects").aliases["champion"]
    metadata = json.loads((tmp_path / "models" / "prospects" / "metadata.json").read_text())
    assert str(metadata["mlflow"]["model_version"]) == str(champion)
