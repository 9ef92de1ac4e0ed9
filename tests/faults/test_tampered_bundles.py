"""Bundles and registered versions handed over by someone else, carrying a pickle whose
loading would create a marker file: no command runs it. Scoring, explaining, evaluating
and retraining read the scoring form (JSON and arrays) only."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest


class Payload:
    """Unpickling this creates ``marker``: the proof that a pickle's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def rehash(bundle: Path) -> None:
    """Make the manifest list exactly the files present, with their hashes: a tamperer
    who re-hashed the manifest, so only what is loaded can protect the user."""
    names = sorted(p.name for p in bundle.iterdir() if p.name != "manifest.json")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"] = {n: hashlib.sha256((bundle / n).read_bytes()).hexdigest() for n in names}
    (bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A folder of its own with one training (its store's artifact paths are its own)."""
    from prospect_predictor.jobs.train import run_training
    from prospect_predictor.registry import tracking
    from prospect_predictor.synthetic.generate import write_history
    from tests.conftest import write_pipeline

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking._READY.clear()
    write_history(1_500, 8, tmp_path / "history.csv")
    run_training(tmp_path / "history.csv", write_pipeline(tmp_path, folds="folds = 2"))
    return tmp_path


def commands(folder: Path) -> dict[str, tuple[str, ...]]:
    return {
        "score": ("score", "leads.csv", "--format", "csv"),
        "explain": ("explain", "L000001", "--input", "leads.csv"),
        "evaluate": ("evaluate", "--data", "history.csv", "--model", "models/prospects"),
    }


def plant(bundle: Path, marker: Path) -> None:
    """A pickled payload as the model, the form removed, the manifest re-hashed."""
    (bundle / "model.joblib").write_bytes(pickle.dumps(Payload(marker)))
    for name in ("scoring.json", "scoring.npz"):
        (bundle / name).unlink()
    rehash(bundle)


@pytest.mark.parametrize("command", ["score", "explain", "evaluate"])
def test_a_pickle_put_in_a_bundle_without_its_form_is_never_loaded(copied, run_cli, command):
    marker = copied / "PICKLE_RAN"
    plant(copied / "models" / "prospects", marker)
    result = run_cli(*commands(copied)[command])
    assert not marker.exists()
    assert result.exit_code == 1, result.output
    assert "has no scoring form" in result.stderr and "never loaded" in result.stderr
    assert "prospect export --version 1 --trust-pickle" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["score", "explain", "evaluate"])
def test_a_pickle_hidden_in_the_forms_arrays_is_refused(copied, run_cli, command):
    bundle = copied / "models" / "prospects"
    marker = copied / "PICKLE_RAN"
    with np.load(bundle / "scoring.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["scale"] = np.array([Payload(marker)], dtype=object)  # stored as a pickle
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (bundle / "scoring.npz").write_bytes(buffer.getvalue())
    rehash(bundle)
    result = run_cli(*commands(copied)[command])
    assert not marker.exists()
    assert result.exit_code == 1, result.output
    assert "scoring form cannot be read" in result.stderr
    assert "Traceback" not in result.output


def test_retrain_compares_with_the_registrys_champion_not_a_planted_bundle(fresh, run_cli):
    marker = fresh / "PICKLE_RAN"
    plant(fresh / "models" / "prospects", marker)
    result = run_cli("retrain", "--data", "history.csv", "--pipeline", "pipeline.toml")
    assert not marker.exists()
    assert result.exit_code == 0, result.output
    assert "Promotion gate" in result.stdout  # compared with the registry's version 1
    assert "failed its checks" in result.stderr and "re-exported the champion" in result.stderr
    assert not (fresh / "models" / "prospects" / "model.joblib").exists()
    assert run_cli("score", "--lead", "{}").exit_code == 0


def test_a_registered_version_is_read_without_running_its_files(fresh, run_cli):
    """The registry's copy of version 1 gets a pickle and a code file that would create the
    marker; evaluating version 1 reads its form only."""
    marker = fresh / "PICKLE_RAN"
    stored = fresh / "experiments" / "artifacts"
    artifacts = [p for p in stored.rglob("scoring.json") if "models" in p.parts]
    assert artifacts, "the registered model holds its form as artifacts"
    folder = artifacts[0].parent
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    code = folder.parent / "pyfunc_model.py"
    code.write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n")
    result = run_cli(
        "evaluate", "--data", "history.csv", "--model", "1", "--pipeline", "pipeline.toml"
    )
    assert result.exit_code == 0, result.output
    assert not marker.exists()
